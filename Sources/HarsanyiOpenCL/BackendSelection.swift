import Foundation
import HarsanyiCore

/// What the user asked for: `auto` (the best OpenCL device, else the CPU path), `opencl` (fail if
/// unavailable) or `cpu` (the Swift path).
public enum BackendChoice: String, Sendable, CaseIterable {
    case auto, opencl, cpu
}

/// The backend in use and why it was chosen.
public struct BackendSelection {
    public let backend: ComputeBackend
    /// One line: which backend and device, and why.
    public let reason: String
    /// True when `auto` wanted OpenCL but fell back to the CPU path; `reason` then says why.
    public let fellBack: Bool
}

/// What a job needs from a backend, to fall back before starting when it does not fit.
public struct BackendRequirement: Sendable {
    public var count: Int
    public var precision: Precision
    public var buffers: Int
    /// Whether the sparsifier's kernels must build too.
    public var sparsifier: Bool
    public init(count: Int, precision: Precision, buffers: Int = 1, sparsifier: Bool = false) {
        self.count = count
        self.precision = precision
        self.buffers = buffers
        self.sparsifier = sparsifier
    }
}

public enum Backends {
    /// Resolves the choice and device from explicit options, else `HARSANYI_BACKEND` and `HARSANYI_DEVICE`.
    public static func resolve(choice: BackendChoice?, device: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (BackendChoice, String?)
    {
        var c = choice
        if c == nil, let env = environment["HARSANYI_BACKEND"], !env.isEmpty {
            guard let parsed = BackendChoice(rawValue: env.lowercased()) else {
                throw HarsanyiError.invalidArgument("HARSANYI_BACKEND='\(env)' is not one of auto, opencl, cpu")
            }
            c = parsed
        }
        let d = device ?? environment["HARSANYI_DEVICE"].flatMap { $0.isEmpty ? nil : $0 }
        return (c ?? .auto, d)
    }

    /// Picks a backend. Policy for `auto`: a GPU first, then an accelerator, then an OpenCL CPU device, then
    /// the Swift CPU path; it falls back to the CPU path (with the reason) when there is no platform or
    /// device, the kernels fail to build, or `requirement` does not fit the device. With `opencl` (or an
    /// explicit device) the same conditions are errors instead.
    public static func select(
        _ choice: BackendChoice, device address: String? = nil, requirement: BackendRequirement? = nil,
        discovery: OpenCLDiscovery? = nil
    ) throws -> BackendSelection {
        if choice == .cpu {
            if let r = requirement { try CPUBackend().requireFits(count: r.count, precision: r.precision, buffers: r.buffers) }
            return BackendSelection(backend: CPUBackend(), reason: "CPU path (requested)", fellBack: false)
        }
        let found = discovery ?? OpenCL.discover()
        let strict = choice == .opencl || address != nil
        func fallBack(_ why: String, _ error: HarsanyiError? = nil) throws -> BackendSelection {
            if strict { throw error ?? HarsanyiError.openCLUnavailable(why) }
            let cpu = CPUBackend()
            if let r = requirement { try cpu.requireFits(count: r.count, precision: r.precision, buffers: r.buffers) }
            return BackendSelection(backend: cpu, reason: "falling back to the CPU path: \(why)", fellBack: true)
        }
        let device: OpenCLDevice
        if let address {
            device = try found.device(at: address)
        } else if let best = found.preferred {
            device = best
        } else {
            return try fallBack(found.problem ?? "no OpenCL device")
        }
        let backend: OpenCLBackend
        do {
            backend = try OpenCLBackend.shared(for: device)
            try backend.prepare(requirement?.precision ?? .float32, sparsifier: requirement?.sparsifier ?? false)
            if let r = requirement { try backend.requireFits(count: r.count, precision: r.precision, buffers: r.buffers) }
        } catch let e as HarsanyiError {
            if case .buildFailed = e, let log = e.buildLog, !strict {
                FileHandle.standardError.write(Data("OpenCL build log:\n\(log)\n".utf8))
            }
            return try fallBack("\(device.name): \(e)", e)
        }
        let why = address != nil ? "requested" : choice == .opencl ? "best OpenCL device (requested opencl)" : "best OpenCL device (\(device.type) preferred by auto)"
        return BackendSelection(backend: backend, reason: "\(backend.deviceDescription), \(why)", fellBack: false)
    }
}
