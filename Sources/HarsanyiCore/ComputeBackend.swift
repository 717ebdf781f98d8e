/// Which implementation a backend is.
public enum BackendKind: String, Sendable, CustomStringConvertible {
    case cpu, opencl
    public var description: String { rawValue }
}

/// A buffer of `count` elements of one precision, owned by a backend (host memory for the CPU backend,
/// device memory for OpenCL). Only the backend that made it may use it.
public protocol DeviceBuffer: AnyObject {
    var count: Int { get }
    var precision: Precision { get }
}

/// The small set of operations that algorithms (transforms, the sparsifier, the model driver) are written
/// against once; each backend implements them on its own memory.
///
/// All operations are enqueued in order; `read` waits for everything before it.
public protocol ComputeBackend: AnyObject, Sendable {
    var kind: BackendKind { get }
    /// A one-line description of the device ("OpenCL: NVIDIA H100 (GPU)", "CPU: Swift path, 2 threads").
    var deviceDescription: String { get }
    /// Whether buffers and transforms of this precision are available.
    func supports(_ precision: Precision) -> Bool
    /// The largest single buffer the backend can allocate, in bytes.
    var maxBufferBytes: Int { get }
    /// The memory all buffers of one job may take together, in bytes.
    var memoryBytes: Int { get }

    func makeBuffer(count: Int, precision: Precision) throws -> DeviceBuffer
    func write<T: HarsanyiReal>(_ values: [T], to buffer: DeviceBuffer) throws
    func read<T: HarsanyiReal>(_ buffer: DeviceBuffer, as type: T.Type) throws -> [T]

    /// One butterfly over all n bits of `buffer` (count 2^n), in place.
    func butterfly(_ kind: Butterfly, _ buffer: DeviceBuffer, n: Int) throws
    /// destination ← source (same count and precision).
    func copy(from source: DeviceBuffer, to destination: DeviceBuffer) throws
    /// destination[destinationIndex] ← source[sourceIndex].
    func copyElement(from source: DeviceBuffer, at sourceIndex: Int, to destination: DeviceBuffer, at destinationIndex: Int) throws
    /// a[i] ← scale · a[count − 1 − i] + Σ_{j ∈ scratchMask} scratch[j], for all i at once.
    func reverseAffine(_ buffer: DeviceBuffer, scale: Double, scratch: DeviceBuffer, scratchMask: Int) throws
    /// (⊗_i m)·a in place for a 2 × 2 factor m applied along every one of the n bits (count 2^n): n passes,
    /// O(n·2^n) operations (`Kernels/kronecker.cl`).
    func kronecker(_ m: KroneckerFactor, _ buffer: DeviceBuffer, n: Int) throws
    /// a[0] ← c0 · a[0] + c1 · scratch[0].
    func fixFirst(_ buffer: DeviceBuffer, scratch: DeviceBuffer, c0: Double, c1: Double) throws
    /// Waits until all enqueued work is done.
    func finish() throws
    /// Runs `body` with the buffer's memory visible to the host (mapped on OpenCL; zero-copy on CPU devices).
    func withHostAccess<R>(_ buffer: DeviceBuffer, _ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R
    /// Transforms host values in place (default: upload, transform, download).
    func transformInPlace<T: HarsanyiReal>(_ kind: SubsetTransform, _ values: inout [T]) throws
}

extension ComputeBackend {
    /// Applies `kind` in place to `buffer`, which must hold 2^n values.
    ///
    /// - Complexity: O(n·2^n) operations, a few passes over the buffer's memory.
    /// - Throws: `.invalidArgument` when the buffer does not hold 2^n values; `.unsupported` for a precision
    ///   the device lacks; backend errors otherwise.
    public func transform(_ kind: SubsetTransform, _ buffer: DeviceBuffer, n: Int) throws {
        guard n >= 0, n <= Subsets.maxPlayers, buffer.count == 1 << n else {
            throw HarsanyiError.invalidArgument("a transform over n = \(n) players needs 2^\(n) values, got \(buffer.count)")
        }
        guard supports(buffer.precision) else {
            throw HarsanyiError.unsupported("\(buffer.precision) on \(deviceDescription)")
        }
        let steps = kind.steps
        let scratch = steps.count > 1 ? try makeBuffer(count: 2, precision: buffer.precision) : nil
        for step in steps {
            switch step {
            case .butterfly(let b): try butterfly(b, buffer, n: n)
            case .saveFirst(let slot): try copyElement(from: buffer, at: 0, to: scratch!, at: slot)
            case .saveLast(let slot): try copyElement(from: buffer, at: buffer.count - 1, to: scratch!, at: slot)
            case .reverseAffine(let scale, let mask): try reverseAffine(buffer, scale: scale, scratch: scratch!, scratchMask: mask)
            case .fixFirst(let c0, let c1): try fixFirst(buffer, scratch: scratch!, c0: c0, c1: c1)
            }
        }
    }

    /// The buffer's values as Double, whatever its precision.
    public func readDoubles(_ buffer: DeviceBuffer) throws -> [Double] {
        buffer.precision == .float32
            ? try read(buffer, as: Float.self).map(Double.init) : try read(buffer, as: Double.self)
    }

    /// Writes Double values into a buffer of either precision (rounded to float for float32).
    public func writeDoubles(_ values: [Double], to buffer: DeviceBuffer) throws {
        if buffer.precision == .float32 {
            try write(values.map { Float($0) }, to: buffer)
        } else {
            try write(values, to: buffer)
        }
    }

    /// The transform of `values` (length 2^n), computed on this backend.
    public func transform<T: HarsanyiReal>(_ kind: SubsetTransform, _ values: [T]) throws -> [T] {
        var out = values
        try transformInPlace(kind, &out)
        return out
    }

    public func transformInPlace<T: HarsanyiReal>(_ kind: SubsetTransform, _ values: inout [T]) throws {
        guard let n = Subsets.playerCount(forLength: values.count) else {
            throw HarsanyiError.invalidArgument("length \(values.count) is not a power of two (2^n values for n players)")
        }
        try requireFits(count: values.count, precision: T.precision)
        let buffer = try makeBuffer(count: values.count, precision: T.precision)
        try write(values, to: buffer)
        try transform(kind, buffer, n: n)
        values = try read(buffer, as: T.self)
    }

    /// Throws `.unsupported` unless `buffers` buffers of `count` values each fit this backend's memory.
    public func requireFits(count: Int, precision: Precision, buffers: Int = 1) throws {
        guard supports(precision) else { throw HarsanyiError.unsupported("\(precision) on \(deviceDescription)") }
        let (bytes, o1) = count.multipliedReportingOverflow(by: precision.byteSize)
        let (total, o2) = bytes.multipliedReportingOverflow(by: max(1, buffers))
        guard !o1, !o2, bytes <= maxBufferBytes, total <= memoryBytes else {
            throw HarsanyiError.unsupported(
                "\(buffers) buffer(s) of \(count) \(precision) values (\(total >> 20) MiB) do not fit \(deviceDescription) "
                    + "(largest buffer \(maxBufferBytes >> 20) MiB, memory \(memoryBytes >> 20) MiB)")
        }
    }
}
