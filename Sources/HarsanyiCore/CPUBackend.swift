import Foundation

/// Host memory holding `count` values of one precision, for `CPUBackend`.
public final class CPUBuffer: DeviceBuffer {
    public let count: Int
    public let precision: Precision
    let raw: UnsafeMutableRawPointer

    init(count: Int, precision: Precision) {
        self.count = count
        self.precision = precision
        // Like clCreateBuffer, the contents are unspecified until written (no extra pass over memory).
        raw = .allocate(byteCount: max(1, count * precision.byteSize), alignment: 64)
        Memory.adviseHugePages(UnsafeMutableRawBufferPointer(start: raw, count: count * precision.byteSize))
    }
    deinit { raw.deallocate() }

    func typed<T: HarsanyiReal>(_: T.Type) -> UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }
}

/// The Swift CPU path: every `ComputeBackend` operation on host memory, multithreaded with Dispatch.
public final class CPUBackend: ComputeBackend, Sendable {
    public let kind = BackendKind.cpu
    public let maxBufferBytes: Int
    public let memoryBytes: Int

    /// - Parameter memoryLimit: bytes all buffers of a job may take (default: 3/4 of physical memory).
    public init(memoryLimit: Int? = nil) {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        memoryBytes = memoryLimit ?? physical / 4 * 3
        maxBufferBytes = memoryBytes
    }

    public var deviceDescription: String { "CPU: Swift path, \(CPUInfo.activeCores) thread(s)" }
    public func supports(_ precision: Precision) -> Bool { true }

    public func makeBuffer(count: Int, precision: Precision) throws -> DeviceBuffer {
        guard count >= 0 else { throw HarsanyiError.invalidArgument("negative buffer size \(count)") }
        try requireFits(count: count, precision: precision)
        return CPUBuffer(count: count, precision: precision)
    }

    func cpu(_ buffer: DeviceBuffer) throws -> CPUBuffer {
        guard let b = buffer as? CPUBuffer else {
            throw HarsanyiError.invalidArgument("buffer was not made by the CPU backend")
        }
        return b
    }

    func cpu<T: HarsanyiReal>(_ buffer: DeviceBuffer, _: T.Type) throws -> UnsafeMutablePointer<T> {
        let b = try cpu(buffer)
        guard b.precision == T.precision else {
            throw HarsanyiError.invalidArgument("buffer holds \(b.precision), not \(T.precision)")
        }
        return b.typed(T.self)
    }

    public func write<T: HarsanyiReal>(_ values: [T], to buffer: DeviceBuffer) throws {
        guard values.count == buffer.count else {
            throw HarsanyiError.invalidArgument("writing \(values.count) values into a buffer of \(buffer.count)")
        }
        let p = try cpu(buffer, T.self)
        values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
    }

    public func read<T: HarsanyiReal>(_ buffer: DeviceBuffer, as type: T.Type) throws -> [T] {
        let p = try cpu(buffer, T.self)
        return Array(UnsafeBufferPointer(start: p, count: buffer.count))
    }

    public func withHostAccess<R>(_ buffer: DeviceBuffer, _ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
        let b = try cpu(buffer)
        return try body(UnsafeMutableRawBufferPointer(start: b.raw, count: b.count * b.precision.byteSize))
    }

    /// In place on the array's own memory: no copies.
    public func transformInPlace<T: HarsanyiReal>(_ kind: SubsetTransform, _ values: inout [T]) throws {
        guard let n = Subsets.playerCount(forLength: values.count) else {
            throw HarsanyiError.invalidArgument("length \(values.count) is not a power of two (2^n values for n players)")
        }
        let scratch = CPUBuffer(count: 2, precision: T.precision)
        values.withUnsafeMutableBufferPointer { buf in
            let raw = UnsafeMutableRawPointer(buf.baseAddress!)
            switch T.precision {  // call the specialized code: T is opaque here when reached through the protocol
            case .float32: run(kind, raw.assumingMemoryBound(to: Float.self), count: buf.count, n: n, scratch: scratch.typed(Float.self))
            case .float64: run(kind, raw.assumingMemoryBound(to: Double.self), count: buf.count, n: n, scratch: scratch.typed(Double.self))
            }
        }
    }

    private func run<T: HarsanyiReal>(_ kind: SubsetTransform, _ a: UnsafeMutablePointer<T>, count: Int, n: Int, scratch s: UnsafeMutablePointer<T>) {
        for step in kind.steps {
            switch step {
            case .butterfly(let b): CPUButterfly.run(b, a, n: n)
            case .saveFirst(let slot): s[slot] = a[0]
            case .saveLast(let slot): s[slot] = a[count - 1]
            case .reverseAffine(let scale, let mask): reverseAffine(a, count: count, scale: T(scale), scratch: s, mask: mask)
            case .fixFirst(let c0, let c1): a[0] = T(c0) * a[0] + T(c1) * s[0]
            }
        }
    }

    public func butterfly(_ kind: Butterfly, _ buffer: DeviceBuffer, n: Int) throws {
        let b = try cpu(buffer)
        switch b.precision {
        case .float32: CPUButterfly.run(kind, b.typed(Float.self), n: n)
        case .float64: CPUButterfly.run(kind, b.typed(Double.self), n: n)
        }
    }

    public func copy(from source: DeviceBuffer, to destination: DeviceBuffer) throws {
        let s = try cpu(source), d = try cpu(destination)
        guard s.precision == d.precision, s.count == d.count else {
            throw HarsanyiError.invalidArgument("copy between buffers of different size or precision")
        }
        let bytes = s.count * s.precision.byteSize
        let chunk = 1 << 20
        let from = UnsafeMutableSendablePointer(s.raw.assumingMemoryBound(to: UInt8.self))
        let to = UnsafeMutableSendablePointer(d.raw.assumingMemoryBound(to: UInt8.self))
        parallelFor((bytes + chunk - 1) / chunk, minimumWork: chunk) { c in
            let start = c * chunk
            (to.pointer + start).update(from: from.pointer + start, count: min(chunk, bytes - start))
        }
    }

    public func copyElement(from source: DeviceBuffer, at sourceIndex: Int, to destination: DeviceBuffer, at destinationIndex: Int) throws {
        let s = try cpu(source), d = try cpu(destination)
        guard s.precision == d.precision, sourceIndex < s.count, destinationIndex < d.count else {
            throw HarsanyiError.invalidArgument("copyElement out of range or between precisions")
        }
        let size = s.precision.byteSize
        (d.raw + destinationIndex * size).copyMemory(from: s.raw + sourceIndex * size, byteCount: size)
    }

    public func reverseAffine(_ buffer: DeviceBuffer, scale: Double, scratch: DeviceBuffer, scratchMask: Int) throws {
        let b = try cpu(buffer)
        switch b.precision {
        case .float32: try reverseAffine(b.typed(Float.self), count: b.count, scale: Float(scale), scratch: cpu(scratch, Float.self), mask: scratchMask)
        case .float64: try reverseAffine(b.typed(Double.self), count: b.count, scale: scale, scratch: cpu(scratch, Double.self), mask: scratchMask)
        }
    }

    private func reverseAffine<T: HarsanyiReal>(_ a: UnsafeMutablePointer<T>, count: Int, scale: T, scratch: UnsafeMutablePointer<T>, mask: Int) {
        var offset: T = 0  // summed in the kernel's order: 0 + scratch[0] + scratch[1]
        if mask & 1 != 0 { offset += scratch[0] }
        if mask & 2 != 0 { offset += scratch[1] }
        let base = UnsafeMutableSendablePointer(a)
        let pairs = max(1, count / 2)
        parallelFor(pairs, minimumWork: 1) { i in
            let a = base.pointer
            let j = count - 1 - i
            let x = a[i], y = a[j]
            a[i] = scale * y + offset
            a[j] = scale * x + offset
        }
    }

    public func kronecker(_ m: KroneckerFactor, _ buffer: DeviceBuffer, n: Int) throws {
        let b = try cpu(buffer)
        guard b.count == 1 << n else { throw HarsanyiError.invalidArgument("a Kronecker pass over n = \(n) needs 2^\(n) values") }
        switch b.precision {
        case .float32: m.apply(b.typed(Float.self), n: n)
        case .float64: m.apply(b.typed(Double.self), n: n)
        }
    }

    public func fixFirst(_ buffer: DeviceBuffer, scratch: DeviceBuffer, c0: Double, c1: Double) throws {
        let b = try cpu(buffer)
        switch b.precision {
        case .float32:
            let a = b.typed(Float.self), s = try cpu(scratch, Float.self)
            a[0] = Float(c0) * a[0] + Float(c1) * s[0]
        case .float64:
            let a = b.typed(Double.self), s = try cpu(scratch, Double.self)
            a[0] = c0 * a[0] + c1 * s[0]
        }
    }

    public func finish() throws {}
}
