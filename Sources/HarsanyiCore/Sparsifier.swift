import Foundation

/// The AND-OR interactions of one sample: what the engine computes from v.
public struct InteractionResult: Sendable {
    public var n: Int
    /// v(x_S) for every subset S (index bit i = player i).
    public var v: [Double]
    /// AND interactions, after the |S| ≤ 1 OR mass was moved into AND (`reorganized`).
    public var iand: [Double]
    /// OR interactions (zero for |S| ≤ 1 after reorganisation, and for AND-only modes).
    public var ior: [Double]
    public var p: [Double]
    public var q: [Double]
    /// The loss Σ|I_and| + Σ|I_or| at every iteration (one entry for un-optimised modes).
    public var lossTrace: [Double]
    public var settings: InteractionSettings
    /// True: I_and(S) += I_or(S) and I_or(S) = 0 for |S| ≤ 1 (exact: both trigger on the same masks).
    public var reorganized: Bool
    /// The iteration whose p and q are returned (the last one, or the best one with `keepBest`).
    public var returnedIteration: Int
    public var backend: String
    public var seconds: Double
    /// Players whose marginal contribution is exactly zero (v(S ∪ {d}) = v(S) for all S), found before optimising.
    public var nullPlayers: [Int] = []
    /// max |v(S ∪ {d}) − v(S)| over the null players: 0 when all were found in v itself; the forward pass's
    /// round-off when some are null by construction (their cells equal the baseline) and were removed anyway.
    public var nullPlayerDeviation = 0.0
    /// How close the returned loss is to the optimum, for every optimised mode.
    public var optimality: Optimality?

    public init(n: Int, v: [Double], iand: [Double], ior: [Double], p: [Double], q: [Double], lossTrace: [Double],
                settings: InteractionSettings, reorganized: Bool, returnedIteration: Int, backend: String,
                seconds: Double) {
        self.n = n
        self.v = v
        self.iand = iand
        self.ior = ior
        self.p = p
        self.q = q
        self.lossTrace = lossTrace
        self.settings = settings
        self.reorganized = reorganized
        self.returnedIteration = returnedIteration
        self.backend = backend
        self.seconds = seconds
    }

    /// The loss of the returned p and q.
    public var loss: Double { lossTrace.isEmpty ? 0 : lossTrace[returnedIteration] }
}

/// The AND-OR decomposition of the reference code (spec §5), written once against `SparsifierOps`, so it
/// runs on device memory with OpenCL and on the CPU path alike.
///
/// Per iteration (mode pq): clamp q; v_and = 0.5(v+q)+p, v_or = 0.5(v+q)−p; I_and = M_and v_and,
/// I_or = M_or v_or (two transforms); loss = Σ|I_and| + Σ|I_or| into a device-side trace; then the gradient
/// through the transposed transforms (g_and = M_andᵀ sign I_and, g_or = M_orᵀ sign I_or; ∂p = g_and − g_or,
/// ∂q = ½(g_and + g_or)) and one optimiser step. No step on the last iteration. The host only enqueues work;
/// it reads the trace for progress and the results at the end.
///
/// - Complexity: O(iterations · n · 2^n) operations, about 4 transforms per iteration; memory 7–11 buffers of 2^n.
public enum Sparsifier {
    /// The largest n accepted (the memory check refuses what does not fit long before).
    public static let maxPlayers = 30

    /// Called every so often with (iteration, loss at that iteration).
    public typealias Progress = (Int, Double) -> Void

    public static func run(
        v: [Double], settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int = 0, progress: Progress? = nil
    ) throws -> InteractionResult {
        try check(v, settings)
        try backend.requireFits(count: v.count, precision: settings.precision, buffers: buffersNeeded(settings))
        let vBuf = try backend.makeBuffer(count: v.count, precision: settings.precision)
        if settings.precision == .float32 { try backend.write(v.map { Float($0) }, to: vBuf) } else { try backend.write(v, to: vBuf) }
        return try run(v: v, vBuffer: vBuf, settings: settings, backend: backend, progressEvery: progressEvery, progress: progress)
    }

    /// The same with v already in a device buffer of the settings' precision (written there by the masked-forward
    /// kernels): it is read once, for the checks and the report, and the iterations use the buffer as it is.
    public static func run(
        device vBuffer: DeviceBuffer, settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int = 0, progress: Progress? = nil
    ) throws -> InteractionResult {
        guard vBuffer.precision == settings.precision else {
            throw HarsanyiError.invalidArgument("v is \(vBuffer.precision) but the settings ask for \(settings.precision)")
        }
        let v = settings.precision == .float32 ? try backend.read(vBuffer, as: Float.self).map(Double.init) : try backend.read(vBuffer, as: Double.self)
        try check(v, settings)
        try backend.requireFits(count: v.count, precision: settings.precision, buffers: buffersNeeded(settings))
        return try run(v: v, vBuffer: vBuffer, settings: settings, backend: backend, progressEvery: progressEvery, progress: progress)
    }

    static func check(_ v: [Double], _ settings: InteractionSettings) throws {
        try settings.validate()
        guard let n = Subsets.playerCount(forLength: v.count) else {
            throw HarsanyiError.invalidArgument("v has \(v.count) values; it needs 2^n (one per subset of n players)")
        }
        guard n <= maxPlayers else { throw HarsanyiError.unsupported("n = \(n) players: at most \(maxPlayers)") }
        if let i = v.firstIndex(where: { !$0.isFinite }) {
            throw HarsanyiError.invalidArgument("v[\(i)] = \(v[i]) is not finite (NaN or infinite model output)")
        }
    }

    static func buffersNeeded(_ s: InteractionSettings) -> Int {
        let mode = s.mode
        return 3 + (mode.hasOr ? 1 : 0) + (mode.hasP ? 2 : 0) + (mode.hasQ ? 2 : 0) + (s.optimizer == .pdhg ? 6 : 2)
    }

    private static func run(
        v: [Double], vBuffer vBuf: DeviceBuffer, settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int,
        progress: Progress?
    ) throws -> InteractionResult {
        let n = v.count.trailingZeroBitCount
        let s = settings
        let count = v.count, prec = s.precision
        let mode = s.mode
        let start = DispatchTime.now().uptimeNanoseconds

        func make() throws -> DeviceBuffer {
            let b = try backend.makeBuffer(count: count, precision: prec)
            try fill(b, with: [Double](repeating: 0, count: count))
            return b
        }
        func fill(_ b: DeviceBuffer, with values: [Double]) throws { try backend.writeDoubles(values, to: b) }
        func fetch(_ b: DeviceBuffer) throws -> [Double] { try backend.readDoubles(b) }

        let iAnd = try make()
        let iOr = mode.hasOr ? try make() : nil
        let p = mode.hasP ? try make() : nil
        let q = mode.hasQ ? try make() : nil
        let iterations = mode.optimized ? s.iterations : 1
        let trace = try backend.makeBuffer(count: iterations, precision: prec)
        let bound = s.qthres * abs(v[count - 1] - v[0])
        // Best-iterate tracking: (best loss, improved flag) and copies of p and q, all on the device.
        let keepBest = mode.optimized && s.effectiveKeepBest
        let best = keepBest ? try backend.makeBuffer(count: 2, precision: prec) : nil
        let bestP = keepBest && p != nil ? try make() : nil, bestQ = keepBest && q != nil ? try make() : nil

        /// I_and, I_or at the current p, q (clamping q) and the loss into trace[it].
        func interactions(_ it: Int) throws {
            try backend.splitAndOr(v: vBuf, p: p, q: q, bound: bound, scale: mode.scale, vAnd: iAnd, vOr: iOr)
            try backend.transform(.and, iAnd, n: n)
            if let iOr { try backend.transform(.or, iOr, n: n) }
            try backend.reduceSum(iAnd, iOr, absolute: true, into: trace, at: it, scale: 1)
            if let best {
                try backend.trackBest(trace: trace, at: it, state: best)
                if let p, let bestP { try backend.copyIfImproved(state: best, from: p, to: bestP) }
                if let q, let bestQ { try backend.copyIfImproved(state: best, from: q, to: bestQ) }
            }
        }
        func report(_ it: Int) throws {
            guard let progress, progressEvery > 0, (it + 1) % progressEvery == 0 || it == iterations - 1 else { return }
            progress(it, try fetch(trace)[it])
        }

        switch s.optimizer {
        case _ where !mode.optimized:
            try interactions(0)
        case .auto, .exact:
            throw HarsanyiError.unsupported(
                "optimizer \(s.optimizer) runs through Decomposition.run (module HarsanyiSolvers)")
        case .pdlp:
            throw HarsanyiError.unsupported("optimizer pdlp runs through PDLP.run")
        case .sgd, .adam:
            let state1 = try [p, q].map { $0 == nil ? nil : try make() }  // momentum buffers or Adam's m
            let state2 = s.optimizer == .adam ? try [p, q].map { $0 == nil ? nil : try make() } : [nil, nil]  // Adam's s
            let mean = q != nil && s.recenterQ ? try backend.makeBuffer(count: 1, precision: prec) : nil
            for it in 0..<iterations {
                try interactions(it)
                if it == iterations - 1 { try report(it); break }
                try backend.signInPlace(iAnd)
                try backend.transform(.mobiusSuperset, iAnd, n: n)
                if let iOr {
                    try backend.signInPlace(iOr)
                    try backend.transform(.orTranspose, iOr, n: n)
                }
                let lr = s.learningRate(it)
                // ∂L/∂p = g_and − g_or; ∂L/∂q = ½(g_and + g_or), or g_and when AND only.
                let steps: [(DeviceBuffer?, Double, Double)] = [(p, 1, -1), (q, mode.scale, 0.5)]
                for (k, (x, cA, cB)) in steps.enumerated() {
                    guard let x else { continue }
                    if s.optimizer == .sgd {
                        try backend.momentumStep(x: x, buffer: state1[k]!, gA: iAnd, gB: iOr, cA: cA, cB: cB, lr: lr,
                                                 momentum: s.momentum, first: it == 0)
                    } else {
                        try backend.adamStep(x: x, m: state1[k]!, s: state2[k]!, gA: iAnd, gB: iOr, cA: cA, cB: cB, lr: lr,
                                             beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: it + 1)
                    }
                }
                if let mean, let q {
                    try backend.reduceSum(q, nil, absolute: false, into: mean, at: 0, scale: 1 / Double(count))
                    try backend.subtract(q, scalarAt: 0, of: mean)
                }
                try report(it)
            }
        case .pdhg:
            // Dual variables for the I_and and I_or rows, their extrapolations, and transpose scratch.
            let yAnd = try make(), yAndBar = try make(), gAnd = try make()
            let yOr = iOr != nil ? try make() : nil, yOrBar = iOr != nil ? try make() : nil, gOr = iOr != nil ? try make() : nil
            let rowWeight = (mode.hasP ? 1 : 0) + (mode.hasQ ? mode.scale : 0)
            for it in 0..<iterations {
                if it > 0 {  // x ← clamp(x − τ Kᵀ ȳ)
                    try backend.copy(from: yAndBar, to: gAnd)
                    try backend.transform(.mobiusSuperset, gAnd, n: n)
                    if let gOr, let yOrBar {
                        try backend.copy(from: yOrBar, to: gOr)
                        try backend.transform(.orTranspose, gOr, n: n)
                    }
                    if let p {
                        try backend.primalDualPrimal(x: p, gA: gAnd, gB: gOr, cA: 1, cB: -1, weight: 1, n: n, withOr: true, bound: .infinity)
                    }
                    if let q {
                        try backend.primalDualPrimal(x: q, gA: gAnd, gB: gOr, cA: mode.scale, cB: 0.5, weight: mode.scale, n: n,
                                                     withOr: iOr != nil, bound: bound)
                    }
                }
                try interactions(it)  // K x + c at the new x, and its loss
                if it == iterations - 1 { try report(it); break }
                try backend.primalDualDual(y: yAnd, yBar: yAndBar, interactions: iAnd, weight: rowWeight, isOr: false)
                if let yOr, let yOrBar, let iOr {
                    try backend.primalDualDual(y: yOr, yBar: yOrBar, interactions: iOr, weight: rowWeight, isOr: true)
                }
                try report(it)
            }
        }

        let lossTrace = try fetch(trace)
        var returned = iterations - 1
        if keepBest, let bestIt = lossTrace.indices.min(by: { lossTrace[$0] < lossTrace[$1] }), bestIt != returned {
            // Restore the best p and q and recompute their interactions (q is already inside its box).
            if let p, let bestP { try backend.copy(from: bestP, to: p) }
            if let q, let bestQ { try backend.copy(from: bestQ, to: q) }
            try backend.splitAndOr(v: vBuf, p: p, q: q, bound: bound, scale: mode.scale, vAnd: iAnd, vOr: iOr)
            try backend.transform(.and, iAnd, n: n)
            if let iOr { try backend.transform(.or, iOr, n: n) }
            returned = bestIt
        }
        var iand = try fetch(iAnd)
        var ior = try iOr.map(fetch) ?? [Double](repeating: 0, count: count)
        let pv = try p.map(fetch) ?? [Double](repeating: 0, count: count)
        let qv = try q.map(fetch) ?? [Double](repeating: 0, count: count)
        let reorganized = mode.hasOr
        if reorganized { reorganize(&iand, &ior) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return InteractionResult(
            n: n, v: v, iand: iand, ior: ior, p: pv, q: qv, lossTrace: lossTrace, settings: s, reorganized: reorganized,
            returnedIteration: returned, backend: backend.deviceDescription, seconds: seconds)
    }

    /// Moves the OR mass of |S| ≤ 1 into AND (`reorganize_and_or_harsanyi`): exact, since for ∅ and
    /// singletons the AND and OR trigger patterns coincide.
    public static func reorganize(_ iand: inout [Double], _ ior: inout [Double]) {
        var s = 0
        while s < iand.count {
            iand[s] += ior[s]
            ior[s] = 0
            s = s == 0 ? 1 : s << 1
        }
    }
}
