import COpenCL
import HarsanyiCore

extension OpenCLBackend {
    /// log2 of the tile the CPU-style first pass handles: 256 KiB, inside a core's L2.
    static func cpuTileBits(_ p: Precision) -> Int { p == .float32 ? 16 : 15 }
    /// Bits per CPU-style row pass: n = 24 and 26 take two passes over memory.
    static let cpuRowBits = 10
    /// 16-wide vectors per row in a CPU-style row block: the gathered block (2^k rows × this) stays in L2.
    static func cpuRowVectors(k: Int) -> Int { 2 }
    /// Bits per GPU-style register pass; must not exceed RADIX_BITS in the kernel.
    static let gpuRegisterBits = 4

    /// The butterfly over all n bits as a few fused passes over device memory:
    /// CPU style: one tile pass (bits < 16) and passes of up to 10 bits over row blocks;
    /// GPU style: one `__local` tile pass (as many bits as local memory holds, at most 12) and register
    /// passes of 4 bits with coalesced access.
    public func butterfly(_ kind: Butterfly, _ buffer: DeviceBuffer, n: Int) throws {
        let b = try cl(buffer)
        guard b.count == 1 << n else { throw HarsanyiError.invalidArgument("butterfly over n = \(n) needs 2^\(n) values, got \(b.count)") }
        let p = b.precision
        let f = "subset_transform", name = kind.rawValue
        try locked {
            switch style {
            case .cpuStyle:
                let L = min(n, Self.cpuTileBits(p))
                try launch(f, name + "_tile", precision: p, global: 1 << (n - L), [.buffer(b), .uint(UInt32(L))])
                var lo = L
                while lo < n {
                    let k = min(Self.cpuRowBits, n - lo)
                    let vc = Self.cpuRowVectors(k: k)
                    try launch(f, name + "_rows", precision: p, global: (1 << (n - lo - k)) * ((1 << lo) / 16 / vc), local: 1,
                               [.buffer(b), .uint(UInt32(lo)), .uint(UInt32(k)), .uint(UInt32(vc)),
                                .local(bytes: (vc << k) * 16 * p.byteSize)])
                    lo += k
                }
            case .gpuStyle:
                let localBits = max(1, Int.bitWidth - 1 - (device.localMemoryBytes / p.byteSize).leadingZeroBitCount)
                let L = min(n, 12, localBits)
                let wg = max(1, min(256, device.maxWorkGroupSize, (1 << L) / 2))
                try launch(f, name + "_local", precision: p, global: (1 << (n - L)) * wg, local: wg,
                           [.buffer(b), .uint(UInt32(L)), .local(bytes: (1 << L) * p.byteSize)])
                var lo = L
                while lo < n {
                    let k = min(Self.gpuRegisterBits, n - lo)
                    try launch(f, name + "_reg", precision: p, global: 1 << (n - k), [.buffer(b), .uint(UInt32(lo)), .uint(UInt32(k))])
                    lo += k
                }
            }
        }
    }

    public func reverseAffine(_ buffer: DeviceBuffer, scale: Double, scratch: DeviceBuffer, scratchMask: Int) throws {
        let b = try cl(buffer), s = try cl(scratch)
        try locked {
            try launch("index_complement", "reverse_affine", precision: b.precision, global: max(1, b.count / 2),
                       [.buffer(b), .ulong(UInt64(b.count)), .real(scale), .buffer(s), .uint(UInt32(scratchMask))])
        }
    }

    /// One `kron_pass` launch per bit (2^(n−1) work items each).
    public func kronecker(_ m: KroneckerFactor, _ buffer: DeviceBuffer, n: Int) throws {
        let b = try cl(buffer)
        guard b.count == 1 << n, n >= 1 else {
            if b.count == 1 << n { return }
            throw HarsanyiError.invalidArgument("a Kronecker pass over n = \(n) needs 2^\(n) values, got \(b.count)")
        }
        try locked {
            for bit in 0..<n {
                try launch("kronecker", "kron_pass", precision: b.precision, global: b.count / 2,
                           [.buffer(b), .uint(UInt32(bit)), .real(m.c00), .real(m.c01), .real(m.c10), .real(m.c11)])
            }
        }
    }

    public func fixFirst(_ buffer: DeviceBuffer, scratch: DeviceBuffer, c0: Double, c1: Double) throws {
        let b = try cl(buffer), s = try cl(scratch)
        try locked {
            try launch("index_complement", "fix_first", precision: b.precision, global: 1, [.buffer(b), .buffer(s), .real(c0), .real(c1)])
        }
    }
}
