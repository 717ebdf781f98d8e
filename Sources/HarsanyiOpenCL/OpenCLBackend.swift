import COpenCL
import Foundation
import HarsanyiCore

/// Which form of the transform kernels to launch (see `Kernels/subset_transform.cl`).
public enum TransformStyle: String, Sendable, CaseIterable {
    /// Tiles and row blocks looped over by single work items: best on CPU devices.
    case cpuStyle = "cpu"
    /// Work groups with `__local` tiles and register passes: best on GPUs.
    case gpuStyle = "gpu"
}

/// The OpenCL backend: one context and in-order queue (with profiling) on one device; programs built once
/// per (file, precision) and cached; every operation enqueued on device memory.
///
/// Thread-safe: operations are serialized by a lock (kernel arguments are per kernel object).
public final class OpenCLBackend: ComputeBackend, @unchecked Sendable {
    public let kind = BackendKind.opencl
    public let device: OpenCLDevice
    /// The kernel form used for transforms; defaults by device type.
    public var style: TransformStyle
    package let context: cl_context
    package let queue: cl_command_queue
    private var programs: [String: OpenCLProgram] = [:]
    private let lock = NSLock()
    private var recordedEvents: [cl_event]?
    private var partialSums: [Precision: OpenCLBuffer] = [:]

    public init(device: OpenCLDevice) throws {
        self.device = device
        style = device.type == .cpu ? .cpuStyle : .gpuStyle
        var err: cl_int = 0
        var dev: cl_device_id? = device.id
        let ctx = clCreateContext(nil, 1, &dev, nil, nil, &err)
        try check(err, "clCreateContext(\(device.name))")
        context = ctx!
        let q = clCreateCommandQueue(ctx, device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &err)
        if err != CL_SUCCESS { clReleaseContext(ctx) }
        try check(err, "clCreateCommandQueue(\(device.name))")
        queue = q!
    }

    deinit {
        programs.removeAll()
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    // MARK: shared instances

    nonisolated(unsafe) private static var shared: [String: OpenCLBackend] = [:]
    private static let sharedLock = NSLock()

    /// One backend per device per process, so tests and commands share compiled programs.
    public static func shared(for device: OpenCLDevice) throws -> OpenCLBackend {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let b = shared[device.address] { return b }
        let b = try OpenCLBackend(device: device)
        shared[device.address] = b
        return b
    }

    public var deviceDescription: String { "OpenCL \(device.address): \(device.name) (\(device.type), \(device.platformName))" }
    public func supports(_ precision: Precision) -> Bool { precision == .float32 || device.supportsFloat64 }
    public var maxBufferBytes: Int { device.maxAllocationBytes }
    public var memoryBytes: Int { device.globalMemoryBytes }

    /// The program for a kernel file and precision, built on first use. Call with the lock held.
    func program(_ name: String, _ precision: Precision) throws -> OpenCLProgram {
        let key = name + "/" + precision.rawValue
        if let p = programs[key] { return p }
        guard supports(precision) else { throw HarsanyiError.unsupported("\(precision) kernels on \(deviceDescription): the device has no cl_khr_fp64") }
        let p = try OpenCLProgram(name: name, source: try KernelSource.text(name), precision: precision, context: context, device: device)
        programs[key] = p
        return p
    }

    /// A 64-element buffer for per-group partial sums (reductions). Call with the lock held.
    func partials(_ precision: Precision) throws -> OpenCLBuffer {
        if let b = partialSums[precision] { return b }
        let b = try OpenCLBuffer(count: 64, precision: precision, context: context)
        partialSums[precision] = b
        return b
    }

    /// Builds the programs a job needs now, so a build failure shows at selection time.
    public func prepare(_ precision: Precision, sparsifier: Bool = false) throws {
        try locked {
            _ = try program("subset_transform", precision)
            _ = try program("index_complement", precision)
            if sparsifier {
                _ = try program("sparsify", precision)
                _ = try program("reduce", precision)
            }
        }
    }

    /// Builds `source` as a program for this device without caching it: a kernel-development check that
    /// throws `.buildFailed` with the compiler's log.
    public func checkBuild(name: String, source: String, precision: Precision = .float32) throws {
        _ = try OpenCLProgram(name: name, source: source, precision: precision, context: context, device: device)
    }

    package func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: buffers

    public func makeBuffer(count: Int, precision: Precision) throws -> DeviceBuffer {
        guard count >= 0 else { throw HarsanyiError.invalidArgument("negative buffer size \(count)") }
        try requireFits(count: count, precision: precision)
        return try OpenCLBuffer(count: count, precision: precision, context: context)
    }

    package func cl(_ buffer: DeviceBuffer) throws -> OpenCLBuffer {
        guard let b = buffer as? OpenCLBuffer else { throw HarsanyiError.invalidArgument("buffer was not made by an OpenCL backend") }
        return b
    }

    public func write<T: HarsanyiReal>(_ values: [T], to buffer: DeviceBuffer) throws {
        let b = try cl(buffer)
        guard values.count == b.count, b.precision == T.precision else {
            throw HarsanyiError.invalidArgument("writing \(values.count) \(T.precision) values into a buffer of \(b.count) \(b.precision)")
        }
        try locked {
            try values.withUnsafeBytes {
                try check(clEnqueueWriteBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil), "clEnqueueWriteBuffer")
            }
        }
    }

    public func read<T: HarsanyiReal>(_ buffer: DeviceBuffer, as type: T.Type) throws -> [T] {
        let b = try cl(buffer)
        guard b.precision == T.precision else { throw HarsanyiError.invalidArgument("buffer holds \(b.precision), not \(T.precision)") }
        var status: cl_int = CL_SUCCESS
        let out = locked {
            [T](unsafeUninitializedCapacity: b.count) { buffer, initialized in
                status = clEnqueueReadBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, b.count * b.precision.byteSize, buffer.baseAddress, 0, nil, nil)
                initialized = status == CL_SUCCESS ? b.count : 0
            }
        }
        try check(status, "clEnqueueReadBuffer")
        return out
    }

    /// Transforms an array: upload, transform, and read back into the same array's memory.
    public func transformInPlace<T: HarsanyiReal>(_ kind: SubsetTransform, _ values: inout [T]) throws {
        guard let n = Subsets.playerCount(forLength: values.count) else {
            throw HarsanyiError.invalidArgument("length \(values.count) is not a power of two (2^n values for n players)")
        }
        let b = try cl(try makeBuffer(count: values.count, precision: T.precision))
        try write(values, to: b)
        try transform(kind, b, n: n)
        try locked {
            try values.withUnsafeMutableBytes {
                try check(clEnqueueReadBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil), "clEnqueueReadBuffer")
            }
        }
    }

    /// Maps the buffer for reading and writing (zero-copy on CPU devices), runs `body`, and unmaps it.
    public func withHostAccess<R>(_ buffer: DeviceBuffer, _ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
        let b = try cl(buffer)
        let bytes = b.count * b.precision.byteSize
        let mapped: UnsafeMutableRawPointer = try locked {
            var err: cl_int = 0
            let p = clEnqueueMapBuffer(queue, b.mem, cl_bool(CL_TRUE), cl_map_flags(CL_MAP_READ | CL_MAP_WRITE), 0, bytes, 0, nil, nil, &err)
            try check(err, "clEnqueueMapBuffer")
            guard let p else { throw HarsanyiError.openCL(call: "clEnqueueMapBuffer", code: err, name: "null mapping") }
            return p
        }
        defer {
            locked {
                _ = clEnqueueUnmapMemObject(queue, b.mem, mapped, 0, nil, nil)
                _ = clFinish(queue)
            }
        }
        return try body(UnsafeMutableRawBufferPointer(start: mapped, count: bytes))
    }

    public func copy(from source: DeviceBuffer, to destination: DeviceBuffer) throws {
        let s = try cl(source), d = try cl(destination)
        guard s.precision == d.precision, s.count == d.count else {
            throw HarsanyiError.invalidArgument("copy between buffers of different size or precision")
        }
        try locked {
            try enqueue("clEnqueueCopyBuffer") { clEnqueueCopyBuffer(queue, s.mem, d.mem, 0, 0, s.count * s.precision.byteSize, 0, nil, $0) }
        }
    }

    public func copyElement(from source: DeviceBuffer, at sourceIndex: Int, to destination: DeviceBuffer, at destinationIndex: Int) throws {
        let s = try cl(source), d = try cl(destination)
        guard s.precision == d.precision, sourceIndex < s.count, destinationIndex < d.count else {
            throw HarsanyiError.invalidArgument("copyElement out of range or between precisions")
        }
        let size = s.precision.byteSize
        try locked {
            try enqueue("clEnqueueCopyBuffer") { clEnqueueCopyBuffer(queue, s.mem, d.mem, sourceIndex * size, destinationIndex * size, size, 0, nil, $0) }
        }
    }

    public func finish() throws { try locked { try check(clFinish(queue), "clFinish") } }

    // MARK: launching

    /// A kernel argument.
    package enum Arg {
        case buffer(OpenCLBuffer), uint(UInt32), ulong(UInt64), real(Double), local(bytes: Int)
    }

    /// Sets the arguments and enqueues `file.kernelName` over `global` work items (1-D). Call with the lock held.
    package func launch(_ file: String, _ kernelName: String, precision: Precision, global: Int, local: Int? = nil, _ args: [Arg]) throws {
        let k = try program(file, precision).kernel(kernelName)
        for (i, arg) in args.enumerated() {
            let idx = cl_uint(i)
            let status: cl_int
            switch arg {
            case .buffer(let b): var m: cl_mem? = b.mem; status = clSetKernelArg(k, idx, MemoryLayout<cl_mem>.size, &m)
            case .uint(let v): var x = cl_uint(v); status = clSetKernelArg(k, idx, 4, &x)
            case .ulong(let v): var x = cl_ulong(v); status = clSetKernelArg(k, idx, 8, &x)
            case .real(let v):
                if precision == .float64 { var x = v; status = clSetKernelArg(k, idx, 8, &x) }
                else { var x = Float(v); status = clSetKernelArg(k, idx, 4, &x) }
            case .local(let bytes): status = clSetKernelArg(k, idx, bytes, nil)
            }
            try check(status, "clSetKernelArg(\(kernelName), \(i))")
        }
        var g = global
        var l = local ?? 0
        try enqueue("clEnqueueNDRangeKernel(\(kernelName), global \(global)\(local.map { ", local \($0)" } ?? ""))") { event in
            local == nil ? clEnqueueNDRangeKernel(queue, k, 1, nil, &g, nil, 0, nil, event)
                : clEnqueueNDRangeKernel(queue, k, 1, nil, &g, &l, 0, nil, event)
        }
    }

    // MARK: profiling

    /// Runs one enqueue call, passing it an event slot while `measureKernelTime` records. Call with the lock held.
    private func enqueue(_ call: @autoclosure () -> String, _ body: (UnsafeMutablePointer<cl_event?>?) -> cl_int) throws {
        if recordedEvents == nil {
            try check(body(nil), call())
        } else {
            var event: cl_event?
            try check(body(&event), call())
            if let event { recordedEvents?.append(event) }
        }
    }

    /// Runs `body`, waits for the queue, and returns the device time of the commands it enqueued (the sum of
    /// END − START from event profiling), in seconds.
    public func measureKernelTime(_ body: () throws -> Void) throws -> Double {
        locked { recordedEvents = [] }
        defer {
            locked {
                for e in recordedEvents ?? [] { clReleaseEvent(e) }
                recordedEvents = nil
            }
        }
        try body()
        try finish()
        return try locked {
            var total: cl_ulong = 0
            for e in recordedEvents ?? [] {
                var start: cl_ulong = 0, end: cl_ulong = 0
                try check(clGetEventProfilingInfo(e, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil), "clGetEventProfilingInfo")
                try check(clGetEventProfilingInfo(e, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil), "clGetEventProfilingInfo")
                total += end &- start
            }
            return Double(total) * 1e-9
        }
    }
}
