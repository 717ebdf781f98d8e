import COpenCL
import HarsanyiCore

/// The kind of an OpenCL device, in the order `auto` prefers them.
public enum OpenCLDeviceType: String, Sendable, Comparable {
    case gpu = "GPU", accelerator = "accelerator", cpu = "CPU", other = "other"

    var rank: Int { self == .gpu ? 0 : self == .accelerator ? 1 : self == .cpu ? 2 : 3 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// An OpenCL device and what it reports. `platformIndex:deviceIndex` is the `--device P:D` address.
public struct OpenCLDevice: @unchecked Sendable, CustomStringConvertible {
    let id: cl_device_id
    let platform: cl_platform_id
    public let platformIndex: Int
    public let deviceIndex: Int
    public let platformName: String
    public let name: String
    public let vendor: String
    public let type: OpenCLDeviceType
    public let version: String
    public let driverVersion: String
    public let computeUnits: Int
    public let globalMemoryBytes: Int
    public let localMemoryBytes: Int
    public let maxAllocationBytes: Int
    public let maxWorkGroupSize: Int
    public let supportsFloat64: Bool

    public var address: String { "\(platformIndex):\(deviceIndex)" }
    public var description: String { "\(address) \(name) (\(type), \(platformName))" }
}

/// What enumerating OpenCL found: the devices, or why there are none.
public struct OpenCLDiscovery: Sendable {
    public let devices: [OpenCLDevice]
    /// Why `devices` is empty (no ICD/platform, platforms without devices), nil when devices were found.
    public let problem: String?

    public init(devices: [OpenCLDevice], problem: String?) {
        self.devices = devices
        self.problem = problem
    }

    /// The device `auto` picks: a GPU first, then an accelerator, then a CPU device; enumeration order breaks ties.
    public var preferred: OpenCLDevice? { devices.min { ($0.type, $0.platformIndex, $0.deviceIndex) < ($1.type, $1.platformIndex, $1.deviceIndex) } }

    public func device(at address: String) throws -> OpenCLDevice {
        let parts = address.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let p = parts[0], let d = parts[1] else {
            throw HarsanyiError.invalidArgument("device address '\(address)' is not PLATFORM:DEVICE, e.g. 0:0")
        }
        guard let dev = devices.first(where: { $0.platformIndex == p && $0.deviceIndex == d }) else {
            let known = devices.isEmpty ? (problem ?? "none") : devices.map(\.address).joined(separator: ", ")
            throw HarsanyiError.noSuitableDevice("no OpenCL device \(address) (found: \(known))")
        }
        return dev
    }
}

public enum OpenCL {
    /// Enumerates every platform and device. Never throws: a missing ICD or platform is reported in `problem`.
    public static func discover() -> OpenCLDiscovery {
        var count: cl_uint = 0
        let err = clGetPlatformIDs(0, nil, &count)
        if err != CL_SUCCESS || count == 0 {
            let code = err == CL_SUCCESS ? Int32(-1001) : err
            return OpenCLDiscovery(
                devices: [], problem: "no OpenCL platform (clGetPlatformIDs: \(code) \(CLErrorNames.name(code)))")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        guard clGetPlatformIDs(count, &platforms, nil) == CL_SUCCESS else {
            return OpenCLDiscovery(devices: [], problem: "clGetPlatformIDs failed on the second call")
        }
        var devices: [OpenCLDevice] = []
        var problems: [String] = []
        for (p, platform) in platforms.enumerated() {
            guard let platform else { continue }
            let platformName = platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
            var n: cl_uint = 0
            let e = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &n)
            guard e == CL_SUCCESS, n > 0 else {
                problems.append("platform \(p) '\(platformName)' has no device (clGetDeviceIDs: \(e) \(CLErrorNames.name(e)))")
                continue
            }
            var ids = [cl_device_id?](repeating: nil, count: Int(n))
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), n, &ids, nil) == CL_SUCCESS else { continue }
            for (d, id) in ids.enumerated() {
                guard let id else { continue }
                devices.append(describe(id, platform: platform, p: p, d: d, platformName: platformName))
            }
        }
        return OpenCLDiscovery(devices: devices, problem: devices.isEmpty ? problems.joined(separator: "; ") : nil)
    }

    private static func describe(_ id: cl_device_id, platform: cl_platform_id, p: Int, d: Int, platformName: String) -> OpenCLDevice {
        let rawType: cl_device_type = scalar(id, CL_DEVICE_TYPE, 0)
        let type: OpenCLDeviceType =
            rawType & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : rawType & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator
            : rawType & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu : .other
        let extensions = deviceString(id, CL_DEVICE_EXTENSIONS)
        let fp64Config: cl_device_fp_config = scalar(id, CL_DEVICE_DOUBLE_FP_CONFIG, 0)
        return OpenCLDevice(
            id: id, platform: platform, platformIndex: p, deviceIndex: d, platformName: platformName,
            name: deviceString(id, CL_DEVICE_NAME), vendor: deviceString(id, CL_DEVICE_VENDOR), type: type,
            version: deviceString(id, CL_DEVICE_VERSION), driverVersion: deviceString(id, CL_DRIVER_VERSION),
            computeUnits: Int(scalar(id, CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint(0))),
            globalMemoryBytes: Int(scalar(id, CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong(0))),
            localMemoryBytes: Int(scalar(id, CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong(0))),
            maxAllocationBytes: Int(scalar(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong(0))),
            maxWorkGroupSize: scalar(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, 0),
            supportsFloat64: fp64Config != 0 || extensions.contains("cl_khr_fp64"))
    }

    static func scalar<T>(_ id: cl_device_id, _ param: Int32, _ zero: T) -> T {
        var value = zero
        _ = withUnsafeMutableBytes(of: &value) { clGetDeviceInfo(id, cl_device_info(param), $0.count, $0.baseAddress, nil) }
        return value
    }

    static func deviceString(_ id: cl_device_id, _ param: Int32) -> String {
        var size = 0
        guard clGetDeviceInfo(id, cl_device_info(param), 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var buf = [CChar](repeating: 0, count: size + 1)
        _ = clGetDeviceInfo(id, cl_device_info(param), size, &buf, nil)
        return String(cChars: buf).trimmingCharacters()
    }

    static func platformString(_ id: cl_platform_id, _ param: cl_platform_info) -> String {
        var size = 0
        guard clGetPlatformInfo(id, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var buf = [CChar](repeating: 0, count: size + 1)
        _ = clGetPlatformInfo(id, param, size, &buf, nil)
        return String(cChars: buf).trimmingCharacters()
    }
}

extension String {
    /// The text of a NUL-terminated C buffer.
    init(cChars: [CChar]) {
        self.init(decoding: cChars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.last == " " || s.last == "\n" { s = s.dropLast() }
        while s.first == " " { s = s.dropFirst() }
        return String(s)
    }
}
