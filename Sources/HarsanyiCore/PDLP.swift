import Foundation

/// Restarted, preconditioned primal-dual hybrid gradient on the decomposition (spec §5.5), in the style of PDLP
/// (Applegate et al., NeurIPS 2021): every iteration on the device with four fast transforms, a certified lower
/// bound every `checkEvery` iterations on the host.
///
/// Saddle problem (x = (p, q), y = (y_and, y_or), |y| ≤ 1, |q| ≤ b): min_x max_y y_andᵀ·I_and(x) + y_orᵀ·I_or(x), with
/// I_and = M_and·(s(v + q) + p), I_or = M_or·(s(v + q) − p). Every iterate is primal feasible, so its loss is an upper
/// bound. Steps: x′ = proj(x − (1/ω)·T·Kᵀȳ), y′ = clip(y + ω·S·K x′), ȳ = 2y′ − y, with the closed-form
/// Pock–Chambolle diagonal scalings T, S (‖S^½·K·T^½‖ ≤ 1, so the step η = 1 is safe and needs no tuning) and
/// the primal weight ω.
///
/// Every `checkEvery` iterations the host reads the current and the averaged iterate and evaluates, in Double,
/// the loss (upper bound) and the dual bound of `DecompositionLP.lowerBound` for w ∈ {M_andᵀy_and, M_orᵀy_or, their
/// mean}. Restarts (PDLP's rules, with the certified gap P − D standing in for the normalised duality gap): to the
/// better of current and average when its gap fell to 0.2 of the gap at the last restart, or to 0.8 and rose
/// since the previous check, or when the iterations since the restart reach 0.36 of all so far. At a restart the
/// primal weight moves halfway (in log) to Δy/Δx. It stops at the gap tolerance, the iteration or the time limit.
///
/// Not here (measured choices of the prototype or left out): PDLP's adaptive step size (η stays 1) and
/// its bisection for the normalised gap (the certified gap is used instead).
///
/// - Complexity: per iteration 4 transforms and O(2^n) elementwise work on the device; per check O(n·2^n) on the
///   host and 8 reads of 2^n values. Memory: 14 device buffers of 2^n.
public enum PDLP {
    public struct Result: Sendable {
        public var iand: [Double]
        public var ior: [Double]?
        public var optimality: Optimality
    }

    /// Iterations between certificate checks.
    public static let checkEvery = 64

    /// Runs on v / max|v| and scales the result back: the iterates, restarts and stopping are then the same for v
    /// and c·v (the problem is positively homogeneous: L*(c·v) = |c|·L*(v), the bound scaling with v).
    public static func run(
        lp original: DecompositionLP, settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int,
        progress: Sparsifier.Progress?
    ) throws -> Result {
        let scale = original.v.reduce(0) { max($0, abs($1)) }
        guard scale > 0 else {
            let zero = [Double](repeating: 0, count: original.v.count)
            return Result(
                iand: zero, ior: original.withOr ? zero : nil,
                optimality: Optimality(
                    solver: "pdlp", loss: 0, lowerBound: 0, status: "optimal (v = 0)", iterations: 0,
                    solvedPlayers: original.n))
        }
        let lp = try DecompositionLP(v: original.v.map { $0 / scale }, mode: original.mode, qthres: original.qthres)
        var r = try solve(lp: lp, settings: settings, backend: backend, progressEvery: progressEvery) { it, loss in
            progress?(it, loss * scale)
        }
        r.iand = r.iand.map { $0 * scale }
        r.ior = r.ior?.map { $0 * scale }
        r.optimality.loss = DecompositionLP.loss(iand: r.iand, ior: r.ior)
        r.optimality.lowerBound = r.optimality.lowerBound.map { $0 * scale }
        return r
    }

    static func solve(
        lp: DecompositionLP, settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int,
        progress: Sparsifier.Progress?
    ) throws -> Result {
        let clock = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9 }
        let n = lp.n
        let count = lp.v.count
        let prec = settings.precision
        let mode = lp.mode
        try backend.requireFits(count: count, precision: prec, buffers: 14)
        let state = try DeviceState(backend: backend, lp: lp, precision: prec)
        let rowWeight = (mode.hasP ? 1 : 0) + (mode.hasQ ? mode.scale : 0)
        var omega = 1.0

        var bestLoss = Double.infinity
        var bestBound = 0.0
        var bestP = [Double](repeating: 0, count: count)
        var bestQ = bestP
        var restartGap = Double.infinity
        var lastGap = Double.infinity
        var restartAt = 0
        var averaged = 0
        var restarts = 0
        var restartPoint = try state.snapshot(average: false)
        var it = 0
        var status = "iteration limit"
        try state.interactions()
        while true {
            // One PDHG iteration: x-step with Kᵀȳ, then y-step with K x′ (the constant c is inside I).
            try state.primalStep(omega: omega, n: n)
            try state.interactions()
            try state.dualStep(weight: rowWeight / omega)
            averaged += 1
            try state.accumulateAverage(count: averaged)
            it += 1
            guard it % checkEvery == 0 || it >= settings.iterations else { continue }

            let current = try state.snapshot(average: false)
            let average = try state.snapshot(average: true)
            let evaluated = [current, average].map { z -> (loss: Double, bound: Double) in
                (lp.loss(p: z.p, q: z.q), bound(lp, z))
            }
            for (z, e) in zip([current, average], evaluated) {
                if e.loss < bestLoss {
                    bestLoss = e.loss
                    bestP = z.p
                    bestQ = z.q
                }
                bestBound = max(bestBound, e.bound)
            }
            let gap = bestLoss > 0 ? (bestLoss - bestBound) / bestLoss : 0
            if let progress, progressEvery > 0 { progress(min(it, settings.iterations) - 1, bestLoss) }
            if gap <= settings.gapTolerance {
                status = "gap tolerance reached"
                break
            }
            if it >= settings.iterations {
                status = "iteration limit"
                break
            }
            if elapsed() >= settings.timeLimit {
                status = "time limit"
                break
            }

            // Restart to the candidate with the smaller gap P − D (PDLP's three criteria).
            let pick = evaluated[1].loss - evaluated[1].bound < evaluated[0].loss - evaluated[0].bound ? 1 : 0
            let candidateGap = evaluated[pick].loss - evaluated[pick].bound
            if restartGap == .infinity { restartGap = candidateGap }
            let sufficient = candidateGap <= 0.2 * restartGap
            let necessary = candidateGap <= 0.8 * restartGap && candidateGap > lastGap
            let artificial = it - restartAt >= max(checkEvery, Int(0.36 * Double(it)))
            lastGap = candidateGap
            guard sufficient || necessary || artificial else { continue }
            let chosen = pick == 1 ? average : current
            if pick == 1 { try state.restartFromAverage() } else { try state.restartFromCurrent() }
            let dx = distance(chosen.p, restartPoint.p) + distance(chosen.q, restartPoint.q)
            let dy = distance(chosen.yAnd, restartPoint.yAnd) + distance(chosen.yOr, restartPoint.yOr)
            if dx > 1e-10, dy > 1e-10 { omega = exp(0.5 * log(dy / dx) + 0.5 * log(omega)) }
            restartPoint = chosen
            restartGap = candidateGap
            lastGap = .infinity
            restartAt = it
            averaged = 0
            restarts += 1
            try state.interactions()
        }
        let ior: [Double]? = lp.withOr ? lp.orInteractions(p: bestP, q: bestQ) : nil
        let iand = lp.andInteractions(p: bestP, q: bestQ)
        let optimality = Optimality(
            solver: "pdlp (restarted PDHG on \(backend.deviceDescription), \(prec))", loss: bestLoss,
            lowerBound: bestBound,
            status: status, iterations: it, solvedPlayers: n,
            details: ["restarts": Double(restarts), "primal_weight": omega, "seconds": elapsed()])
        return Result(iand: iand, ior: ior, optimality: optimality)
    }

    /// The best certified bound from the iterate's duals: w = M_andᵀy_and, M_orᵀy_or or their mean.
    static func bound(_ lp: DecompositionLP, _ z: Snapshot) -> Double {
        let w1 = HostButterfly.apply(.mobiusSuperset, z.yAnd)
        guard lp.withOr else { return lp.lowerBound(w1) }
        let w2 = lp.orTranspose(z.yOr)
        let mean = zip(w1, w2).map { 0.5 * ($0 + $1) }
        return [w1, w2, mean].map(lp.lowerBound).max() ?? 0
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices {
            let d = a[i] - b[i]
            s += d * d
        }
        return s.squareRoot()
    }

    /// One iterate read back to the host, in Double.
    struct Snapshot {
        var p: [Double], q: [Double], yAnd: [Double], yOr: [Double]
    }
}
