import COpenCL
import Foundation
import HarsanyiCore
import Kernels

/// The source of a kernel file: `$HARSANYI_KERNEL_DIR/<name>.cl` when that variable is set (kernel
/// development without rebuilding), else the copy embedded at build time from the top-level `Kernels/`.
public enum KernelSource {
    public static func text(_ name: String) throws -> String {
        if let dir = ProcessInfo.processInfo.environment["HARSANYI_KERNEL_DIR"], !dir.isEmpty {
            let path = dir + "/" + name + ".cl"
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw HarsanyiError.io(path: path, reason: "cannot read kernel source (HARSANYI_KERNEL_DIR is set)")
            }
            return text
        }
        guard let text = EmbeddedKernels.all[name] else {
            throw HarsanyiError.invalidArgument("no embedded kernel file '\(name).cl'")
        }
        return text
    }
}

/// A built `cl_program` and its kernels, created once per (file, precision) for one context.
final class OpenCLProgram {
    let program: cl_program
    let name: String
    private var kernels: [String: cl_kernel] = [:]

    /// Builds `source` for `device`. Options: OpenCL C 1.2, the precision's defines, never fast-math.
    init(name: String, source: String, precision: Precision, context: cl_context, device: OpenCLDevice) throws {
        self.name = name
        var err: cl_int = 0
        let program = source.withCString { p -> cl_program? in
            var ptr: UnsafePointer<CChar>? = p
            var len = strlen(p)
            return clCreateProgramWithSource(context, 1, &ptr, &len, &err)
        }
        try check(err, "clCreateProgramWithSource(\(name))")
        guard let program else { throw HarsanyiError.openCL(call: "clCreateProgramWithSource(\(name))", code: err, name: "null program") }
        self.program = program
        let options = Self.options(precision)
        var dev: cl_device_id? = device.id
        let status = clBuildProgram(program, 1, &dev, options, nil, nil)
        if status != CL_SUCCESS {
            var size = 0
            clGetProgramBuildInfo(program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
            var log = [CChar](repeating: 0, count: size + 1)
            clGetProgramBuildInfo(program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &log, nil)
            // deinit releases the program
            throw HarsanyiError.buildFailed(program: name + ".cl", options: options, log: String(cChars: log))
        }
    }

    static func options(_ precision: Precision) -> String {
        precision == .float64 ? "-cl-std=CL1.2 -DREAL=double -DUSE_FP64" : "-cl-std=CL1.2"
    }

    deinit {
        for k in kernels.values { clReleaseKernel(k) }
        clReleaseProgram(program)
    }

    func kernel(_ kernelName: String) throws -> cl_kernel {
        if let k = kernels[kernelName] { return k }
        var err: cl_int = 0
        let k = clCreateKernel(program, kernelName, &err)
        try check(err, "clCreateKernel(\(name).cl: \(kernelName))")
        kernels[kernelName] = k!
        return k!
    }
}

/// Device memory of `count` values of one precision; released when the last reference goes.
public final class OpenCLBuffer: DeviceBuffer {
    public let count: Int
    public let precision: Precision
    package let mem: cl_mem

    package init(count: Int, precision: Precision, context: cl_context) throws {
        self.count = count
        self.precision = precision
        var err: cl_int = 0
        let m = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), max(1, count * precision.byteSize), nil, &err)
        try check(err, "clCreateBuffer(\(count * precision.byteSize) bytes)")
        mem = m!
    }
    deinit { clReleaseMemObject(mem) }
}
