import Dispatch
import Foundation

/// The CPU fast path of the four butterflies: cache-blocked and multithreaded.
///
/// Same plan as the OpenCL kernels for CPU devices: one pass over tiles of 2^L contiguous values that stay in
/// cache (all bits < L, radix-16 then radix-4 stages), then passes over the remaining bits in blocks of
/// `columns` contiguous values × 2^k rows (radix-4 stages). Each pass reads and writes the buffer once, so
/// n = 24 in float32 costs two passes over memory. The bits commute, so the grouping does not change the
/// result, and each butterfly is one exact add or subtract: the result is bit-identical to the naive loop.
enum CPUButterfly {
    /// log2 of the tile handled in the first pass: 2^16 floats = 256 KiB (2^15 doubles), inside L2.
    static func tileBits<T>(_: T.Type) -> Int { MemoryLayout<T>.size == 4 ? 16 : 15 }
    /// log2 of the rows per later pass: n = 26 in float32 takes two passes over memory.
    static let rowBits = 10
    /// Contiguous values per row block: one 64-byte line of floats. Rows of a block lie 2^lo values apart,
    /// a power-of-two stride that maps them all onto the same cache sets, so each block is gathered into a
    /// contiguous scratch (2^10 × 16 values = 64 KiB), transformed there and scattered back.
    static let columns = 64

    static func run<T: HarsanyiReal>(_ kind: Butterfly, _ a: UnsafeMutablePointer<T>, n: Int) {
        switch kind {
        case .mobius: apply(a, n: n, SubsetMinus<T>.self)
        case .zeta: apply(a, n: n, SubsetPlus<T>.self)
        case .mobiusSuperset: apply(a, n: n, SupersetMinus<T>.self)
        case .zetaSuperset: apply(a, n: n, SupersetPlus<T>.self)
        }
    }

    private static func apply<T: HarsanyiReal, Op: ButterflyOp>(_ a: UnsafeMutablePointer<T>, n: Int, _: Op.Type)
    where Op.T == T {
        let L = min(n, tileBits(T.self))
        let tiles = 1 << (n - L)
        let base = UnsafeMutableSendablePointer(a)
        parallelFor(tiles, minimumWork: 1 << L) { t in tile(base.pointer + (t << L), L: L, Op.self) }
        var lo = L
        while lo < n {
            let k = min(rowBits, n - lo)
            let c = min(columns, 1 << lo)
            let chunks = (1 << lo) / c
            let items = (1 << (n - lo - k)) * chunks
            parallelChunks(items, minimumWork: c << k) { range in
                let scratch = UnsafeMutablePointer<T>.allocate(capacity: c << k)
                defer { scratch.deallocate() }
                for item in range {
                    let t = base.pointer + ((item / chunks) << (lo + k)) + (item % chunks) * c
                    for r in 0..<(1 << k) { (scratch + r * c).update(from: t + (r << lo), count: c) }
                    rows(scratch, stride: c, k: k, columns: c, Op.self)
                    for r in 0..<(1 << k) { (t + (r << lo)).update(from: scratch + r * c, count: c) }
                }
            }
            lo += k
        }
    }

    @inline(__always)
    private static func tile<Op: ButterflyOp>(_ t: UnsafeMutablePointer<Op.T>, L: Int, _: Op.Type) {
        let len = 1 << L
        var b = 0
        if L > 8 {  // bits 0..7 block by block while each 256-value block sits in L1, then sweeps for the rest
            var blk = 0
            while blk < len {
                tile(t + blk, L: 8, Op.self)
                blk += 256
            }
            b = 8
        } else if L >= 4 {
            var g = 0
            while g < len {  // bits 0..3 on groups of 16, unrolled
                let x = t + g
                var s = 1
                while s < 16 {
                    for i in 0..<8 {
                        let lo = (i & (s - 1)) | ((i & ~(s - 1)) << 1)
                        Op.apply(&x[lo], &x[lo + s])
                    }
                    s <<= 1
                }
                g += 16
            }
            b = 4
        }
        while b + 1 < L {
            let s = 1 << b
            var base = 0
            while base < len {
                let p0 = t + base, p1 = p0 + s, p2 = p1 + s, p3 = p2 + s
                for j in 0..<s { radix4(p0 + j, p1 + j, p2 + j, p3 + j, Op.self) }
                base += 4 * s
            }
            b += 2
        }
        if b < L {
            let s = 1 << b
            for j in 0..<s { Op.apply(&t[j], &t[j + s]) }
        }
    }

    @inline(__always)
    private static func rows<Op: ButterflyOp>(
        _ t: UnsafeMutablePointer<Op.T>, stride: Int, k: Int, columns: Int, _: Op.Type
    ) {
        let count = 1 << k
        var b = 0
        while b + 1 < k {
            let s = stride << b
            var r = 0
            while r < count {
                for q in r..<(r + (1 << b)) {
                    let p0 = t + q * stride, p1 = p0 + s, p2 = p1 + s, p3 = p2 + s
                    for c in 0..<columns { radix4(p0 + c, p1 + c, p2 + c, p3 + c, Op.self) }
                }
                r += 4 << b
            }
            b += 2
        }
        if b < k {
            let s = stride << b
            var r = 0
            while r < count {
                for q in r..<(r + (1 << b)) {
                    let p = t + q * stride
                    for c in 0..<columns { Op.apply(&p[c], &p[c + s]) }
                }
                r += 2 << b
            }
        }
    }

    @inline(__always)
    private static func radix4<Op: ButterflyOp>(
        _ p0: UnsafeMutablePointer<Op.T>, _ p1: UnsafeMutablePointer<Op.T>, _ p2: UnsafeMutablePointer<Op.T>,
        _ p3: UnsafeMutablePointer<Op.T>, _: Op.Type
    ) {
        var x0 = p0.pointee, x1 = p1.pointee, x2 = p2.pointee, x3 = p3.pointee
        Op.apply(&x0, &x1); Op.apply(&x2, &x3); Op.apply(&x0, &x2); Op.apply(&x1, &x3)
        p0.pointee = x0; p1.pointee = x1; p2.pointee = x2; p3.pointee = x3
    }
}

protocol ButterflyOp {
    associatedtype T: HarsanyiReal
    static func apply(_ lo: inout T, _ hi: inout T)
}
enum SubsetMinus<T: HarsanyiReal>: ButterflyOp { @inline(__always) static func apply(_ lo: inout T, _ hi: inout T) { hi -= lo } }
enum SubsetPlus<T: HarsanyiReal>: ButterflyOp { @inline(__always) static func apply(_ lo: inout T, _ hi: inout T) { hi += lo } }
enum SupersetMinus<T: HarsanyiReal>: ButterflyOp { @inline(__always) static func apply(_ lo: inout T, _ hi: inout T) { lo -= hi } }
enum SupersetPlus<T: HarsanyiReal>: ButterflyOp { @inline(__always) static func apply(_ lo: inout T, _ hi: inout T) { lo += hi } }

/// A pointer that may cross into concurrently running closures; each closure touches a disjoint range.
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Runs `body(i)` for i in 0..<count on all cores, in contiguous chunks; serially when the whole job
/// (count × minimumWork elements) is too small to be worth waking threads for.
func parallelFor(_ count: Int, minimumWork: Int, _ body: (Int) -> Void) {
    parallelChunks(count, minimumWork: minimumWork) { range in for i in range { body(i) } }
}

/// Splits 0..<count into contiguous ranges and runs `body` on each, on all cores.
func parallelChunks(_ count: Int, minimumWork: Int, _ body: (Range<Int>) -> Void) {
    let threads = CPUInfo.activeCores
    if threads <= 1 || count <= 1 || count * minimumWork < (1 << 16) {
        body(0..<count)
        return
    }
    let chunks = min(count, threads * 4)
    withoutActuallyEscaping(body) { body in
        let box = UnsafeSendableClosure(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            box.body((count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }
}

struct UnsafeSendableClosure: @unchecked Sendable {
    let body: (Range<Int>) -> Void
    init(_ body: @escaping (Range<Int>) -> Void) { self.body = body }
}

/// Facts about the host CPU.
public enum CPUInfo {
    /// Cores the CPU path uses.
    public static let activeCores = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
