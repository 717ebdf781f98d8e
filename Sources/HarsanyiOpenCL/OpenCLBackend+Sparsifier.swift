import COpenCL
import Foundation
import HarsanyiCore

extension OpenCLBackend: SparsifierOps {
    private func opt(_ b: DeviceBuffer?, or fallback: OpenCLBuffer) throws -> OpenCLBuffer { try b.map(cl) ?? fallback }

    private func run(_ file: String, _ kernel: String, _ first: OpenCLBuffer, _ args: [Arg]) throws {
        try locked { try launch(file, kernel, precision: first.precision, global: first.count, args) }
    }

    public func splitAndOr(v: DeviceBuffer, p: DeviceBuffer?, q: DeviceBuffer?, bound: Double, scale: Double, vAnd: DeviceBuffer, vOr: DeviceBuffer?) throws {
        let v_ = try cl(v), a = try cl(vAnd)
        let flags = (p != nil ? 1 : 0) | (q != nil ? 2 : 0) | (vOr != nil ? 4 : 0)
        // Absent buffers are never touched (the flags say so); `v` stands in for them as a valid argument.
        try run("sparsify", "split_and_or", v_, [.buffer(v_), .buffer(try opt(p, or: v_)), .buffer(try opt(q, or: a)), .buffer(a),
                                                   .buffer(try opt(vOr, or: a)), .real(bound), .real(scale), .uint(UInt32(flags))])
    }

    public func reduceSum(_ a: DeviceBuffer, _ b: DeviceBuffer?, absolute: Bool, into out: DeviceBuffer, at index: Int, scale: Double) throws {
        let a_ = try cl(a), o = try cl(out)
        let wg = 1 << (Int.bitWidth - 1 - min(256, device.maxWorkGroupSize).leadingZeroBitCount)  // a power of two
        let groups = max(1, min(64, a_.count / (wg * 4)))
        try locked {
            let partial = try partials(a_.precision)
            try launch("reduce", "sum_partial", precision: a_.precision, global: groups * wg, local: wg,
                       [.buffer(a_), .buffer(try opt(b, or: a_)), .ulong(UInt64(a_.count)), .uint(absolute ? 1 : 0),
                        .uint(b != nil ? 1 : 0), .buffer(partial), .local(bytes: wg * a_.precision.byteSize)])
            try launch("reduce", "sum_final", precision: a_.precision, global: 1,
                       [.buffer(partial), .uint(UInt32(groups)), .buffer(o), .uint(UInt32(index)), .real(scale)])
        }
    }

    public func nullPlayers(_ v: DeviceBuffer) throws -> [Int] {
        let v_ = try cl(v)
        guard let n = Subsets.playerCount(forLength: v_.count), n <= 31 else {
            throw HarsanyiError.invalidArgument("null players need 2^n values with n ≤ 31, got \(v_.count)")
        }
        let mask = try OpenCLBuffer(count: 1, precision: .float32, context: context)  // one uint, zero bits
        try write([Float(0)], to: mask)
        try run("sparsify", "null_players", v_, [.buffer(v_), .uint(UInt32(n)), .buffer(mask)])
        let moving = try read(mask, as: Float.self)[0].bitPattern
        return (0..<n).filter { moving & (1 << UInt32($0)) == 0 }
    }

    public func blend(_ target: DeviceBuffer, _ source: DeviceBuffer, alpha: Double, beta: Double) throws {
        let t = try cl(target), s = try cl(source)
        try run("sparsify", "blend", t, [.buffer(t), .buffer(s), .real(alpha), .real(beta)])
    }

    public func signInPlace(_ a: DeviceBuffer) throws {
        let a_ = try cl(a)
        try run("sparsify", "sign_inplace", a_, [.buffer(a_)])
    }

    public func momentumStep(x: DeviceBuffer, buffer: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                             lr: Double, momentum: Double, first: Bool) throws {
        let x_ = try cl(x), ga = try cl(gA)
        try run("sparsify", "momentum_step", x_, [.buffer(x_), .buffer(try cl(buffer)), .buffer(ga), .buffer(try opt(gB, or: ga)),
                                                    .real(cA), .real(gB == nil ? 0 : cB), .real(lr), .real(momentum), .uint(first ? 1 : 0)])
    }

    public func adamStep(x: DeviceBuffer, m: DeviceBuffer, s: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                         lr: Double, beta1: Double, beta2: Double, epsilon: Double, step: Int) throws {
        let x_ = try cl(x), ga = try cl(gA)
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        try run("sparsify", "adam_step", x_, [.buffer(x_), .buffer(try cl(m)), .buffer(try cl(s)), .buffer(ga), .buffer(try opt(gB, or: ga)),
                                                .real(cA), .real(gB == nil ? 0 : cB), .real(lr), .real(beta1), .real(beta2),
                                                .real(epsilon), .real(c1), .real(c2)])
    }

    public func subtract(_ x: DeviceBuffer, scalarAt index: Int, of s: DeviceBuffer) throws {
        let x_ = try cl(x)
        try run("sparsify", "subtract_at", x_, [.buffer(x_), .buffer(try cl(s)), .uint(UInt32(index))])
    }

    public func primalDualPrimal(x: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double, weight: Double,
                                 n: Int, withOr: Bool, bound: Double) throws {
        let x_ = try cl(x), ga = try cl(gA)
        try run("sparsify", "pdhg_primal", x_, [.buffer(x_), .buffer(ga), .buffer(try opt(gB, or: ga)), .real(cA), .real(gB == nil ? 0 : cB),
                                                  .real(weight), .uint(UInt32(n)), .uint(withOr ? 1 : 0), .real(bound)])
    }

    public func trackBest(trace: DeviceBuffer, at it: Int, state: DeviceBuffer) throws {
        let t = try cl(trace)
        try locked { try launch("sparsify", "track_best", precision: t.precision, global: 1, [.buffer(t), .uint(UInt32(it)), .buffer(try cl(state))]) }
    }

    public func copyIfImproved(state: DeviceBuffer, from source: DeviceBuffer, to destination: DeviceBuffer) throws {
        let s = try cl(source)
        try run("sparsify", "copy_if", s, [.buffer(try cl(state)), .buffer(s), .buffer(try cl(destination))])
    }

    public func primalDualDual(y: DeviceBuffer, yBar: DeviceBuffer, interactions: DeviceBuffer, weight: Double, isOr: Bool) throws {
        let y_ = try cl(y)
        try run("sparsify", "pdhg_dual", y_, [.buffer(y_), .buffer(try cl(yBar)), .buffer(try cl(interactions)), .real(weight), .uint(isOr ? 1 : 0)])
    }
}
