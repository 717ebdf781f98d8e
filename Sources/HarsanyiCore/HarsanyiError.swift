/// The one error type of the package. Every case renders as a single line (`description`), which the CLI
/// prints before exiting with a non-zero status; an OpenCL build failure keeps the full log in `buildLog`.
public enum HarsanyiError: Error, CustomStringConvertible, Equatable {
    /// No OpenCL platform (`clGetPlatformIDs` returned -1001 `CL_PLATFORM_NOT_FOUND_KHR`, or no ICD loader).
    case openCLUnavailable(String)
    /// A platform exists but no device matches (-1 `CL_DEVICE_NOT_FOUND`), or the requested one does not exist.
    case noSuitableDevice(String)
    /// The request is valid but this backend cannot do it: no fp64, too large for memory, ...
    case unsupported(String)
    /// `clBuildProgram` failed; `log` is the compiler's build log.
    case buildFailed(program: String, options: String, log: String)
    /// An OpenCL call returned an error code.
    case openCL(call: String, code: Int32, name: String)
    /// A caller passed something invalid (wrong length, NaN, bad option value, ...).
    case invalidArgument(String)
    /// A file is malformed or of a kind we do not read.
    case badFile(path: String, reason: String)
    /// A file could not be read or written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .openCLUnavailable(let why): return "OpenCL unavailable: \(why)"
        case .noSuitableDevice(let why): return "no suitable OpenCL device: \(why)"
        case .unsupported(let why): return "unsupported: \(why)"
        case .buildFailed(let program, let options, let log):
            let first = log.split(separator: "\n").first { $0.contains("error") } ?? log.split(separator: "\n").first ?? ""
            return "OpenCL build of \(program) failed (options: \(options)): \(first)"
        case .openCL(let call, let code, let name): return "\(call) failed: \(code) \(name)"
        case .invalidArgument(let why): return "invalid argument: \(why)"
        case .badFile(let path, let reason): return "\(path): \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }

    /// The full OpenCL build log, for `.buildFailed`.
    public var buildLog: String? {
        if case .buildFailed(_, _, let log) = self { return log }
        return nil
    }
}
