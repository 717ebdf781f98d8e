import Foundation
import HarsanyiCore

/// The AND-OR decomposition of one v with any optimiser: the one place that picks the solver, removes null
/// players and attaches the optimality report.
///
/// - `auto` (default): `exact` when the problem after removing null players has at most
///   `ExactDecomposition.maxPlayers(mode)` players, else `pdlp`;
/// - `exact`, `pdlp`: null players removed first (spec §5.4, exact), the result lifted back;
/// - `sgd`, `adam`, `pdhg`: the reference algorithms unchanged on the full problem (`Sparsifier`); null players are
///   reported but not removed, so the reference's numbers are reproduced.
public enum Decomposition {
    /// Runs on v given on the host.
    /// `knownNull`: players null by construction (`NullPlayers.structural`), removed even where the forward pass's
    /// round-off makes v(S ∪ {d}) and v(S) differ in the last bits.
    public static func run(
        v: [Double], settings: InteractionSettings, backend: some SparsifierOps, knownNull: [Int] = [],
        progressEvery: Int = 0,
        progress: Sparsifier.Progress? = nil
    ) throws -> InteractionResult {
        try dispatch(
            v: v, device: nil, settings: settings, backend: backend, knownNull: knownNull, progressEvery: progressEvery,
            progress: progress)
    }

    /// Runs on v already in a device buffer of `backend` (the masked-forward kernels' output).
    public static func run(
        device: DeviceBuffer, settings: InteractionSettings, backend: some SparsifierOps, knownNull: [Int] = [],
        progressEvery: Int = 0, progress: Sparsifier.Progress? = nil
    ) throws -> InteractionResult {
        try dispatch(
            v: nil, device: device, settings: settings, backend: backend, knownNull: knownNull,
            progressEvery: progressEvery,
            progress: progress)
    }

    /// The optimiser `auto` resolves to for a problem of `players` players (after null-player removal).
    public static func resolve(_ optimizer: SparsifierOptimizer, players: Int, mode: InteractionMode)
        -> SparsifierOptimizer
    {
        optimizer == .auto ? (players <= ExactDecomposition.maxPlayers(mode) ? .exact : .pdlp) : optimizer
    }

    private static func dispatch(
        v host: [Double]?, device: DeviceBuffer?, settings: InteractionSettings, backend: some SparsifierOps,
        knownNull: [Int],
        progressEvery: Int, progress: Sparsifier.Progress?
    ) throws -> InteractionResult {
        try settings.validate()
        let mode = settings.mode
        guard mode.optimized, settings.optimizer.certified else {
            var r =
                try device.map {
                    try Sparsifier.run(
                        device: $0, settings: settings, backend: backend, progressEvery: progressEvery,
                        progress: progress)
                }
                ?? Sparsifier.run(
                    v: host ?? [], settings: settings, backend: backend, progressEvery: progressEvery,
                    progress: progress)
            r.nullPlayers = Array(Set(try nullPlayers(of: device, v: r.v, backend: backend) + knownNull)).sorted()
            r.nullPlayerDeviation = NullPlayers.deviation(r.v, players: r.nullPlayers)
            if mode.optimized { r.optimality = try uncertified(r) }
            return r
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let v = try host ?? backend.readDoubles(device!)
        let full = try DecompositionLP(v: v, mode: mode, qthres: settings.qthres)  // checks v and the bound
        let found = Array(Set(try nullPlayers(of: device, v: v, backend: backend) + knownNull)).sorted()
        let null = settings.reduceNullPlayers ? found : []
        let reducedV = NullPlayers.reduce(v, removing: null)
        let lp = try DecompositionLP(v: reducedV, mode: mode, qthres: settings.qthres)
        var solver = resolve(settings.optimizer, players: lp.n, mode: mode)
        var iand: [Double]
        var ior: [Double]?
        var optimality: Optimality
        switch solver {
        case .exact:
            guard lp.n <= Self.exactHardLimit else {
                throw HarsanyiError.unsupported(
                    "the exact optimum is practical up to n = \(ExactDecomposition.maxPlayers(mode)) players here "
                        + "(n = \(lp.n) "
                        + "after removing \(null.count) null players); use --optimizer pdlp (certified gap) or auto")
            }
            // auto gives the exact solve half the time and falls back to pdlp for the rest.
            let limit = settings.optimizer == .auto ? settings.timeLimit / 2 : settings.timeLimit
            do {
                let s = try ExactDecomposition.solve(lp, timeLimit: limit)
                (iand, ior, optimality) = (s.iand, s.ior, exactReport(s, players: lp.n))
            } catch ExactDecomposition.Failure.timeLimit where settings.optimizer == .auto {
                solver = .pdlp
                var rest = settings
                rest.timeLimit = settings.timeLimit - limit
                let s = try PDLP.run(
                    lp: lp, settings: rest, backend: backend, progressEvery: progressEvery, progress: progress)
                (iand, ior, optimality) = (s.iand, s.ior, s.optimality)
                optimality.status += " (after the exact solve did not finish in \(Int(limit)) s)"
            } catch let failure as ExactDecomposition.Failure {
                throw HarsanyiError.unsupported(failure.description)
            }
        default:
            var reduced = settings
            reduced.optimizer = .pdlp
            let s = try PDLP.run(
                lp: lp, settings: reduced, backend: backend, progressEvery: progressEvery, progress: progress)
            iand = s.iand
            ior = s.ior
            optimality = s.optimality
        }
        let (pReduced, qReduced) = lp.parameters(iand: iand, ior: ior)
        let n = full.n
        var iandFull = NullPlayers.liftInteractions(iand, n: n, removing: null)
        var iorFull =
            ior.map { NullPlayers.liftInteractions($0, n: n, removing: null) } ?? [Double](repeating: 0, count: v.count)
        let p = NullPlayers.liftSetFunction(pReduced, n: n, removing: null)
        let q = NullPlayers.liftSetFunction(qReduced, n: n, removing: null)
        let reorganized = mode.hasOr
        if reorganized { Sparsifier.reorganize(&iandFull, &iorFull) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        var effective = settings
        effective.optimizer = solver
        var r = InteractionResult(
            n: n, v: v, iand: iandFull, ior: iorFull, p: p, q: q, lossTrace: [optimality.loss], settings: effective,
            reorganized: reorganized, returnedIteration: 0,
            backend: solver == .exact ? "CPU: \(ClpModel.version) (double precision)" : backend.deviceDescription,
            seconds: seconds)
        r.nullPlayers = found
        r.nullPlayerDeviation = NullPlayers.deviation(v, players: found)
        r.optimality = optimality
        return r
    }

    static func exactReport(_ s: ExactDecomposition.Solution, players: Int) -> Optimality {
        Optimality(
            solver: "exact (\(ClpModel.version), row and column generation)", loss: s.loss, lowerBound: s.lowerBound,
            status: "optimal", iterations: s.simplexIterations, solvedPlayers: players,
            details: [
                "rounds": Double(s.rounds), "master_rows": Double(s.rows), "master_columns": Double(s.columns),
                "nonzeros": Double(s.iand.filter { $0 != 0 }.count + (s.ior?.filter { $0 != 0 }.count ?? 0)),
            ])
    }

    /// `--optimizer exact` given explicitly may go past `auto`'s limit up to here (minutes or more; the time limit
    /// still applies).
    public static let exactHardLimit = 16

    /// Null players, checked where v lives (on the device when it is there).
    static func nullPlayers(of device: DeviceBuffer?, v: [Double], backend: some SparsifierOps) throws -> [Int] {
        if let device { return try backend.nullPlayers(device) }
        return NullPlayers.find(v)
    }

    /// The loss of an uncertified optimiser's p and q, recomputed in Double from v, p and q (no bound).
    static func uncertified(_ r: InteractionResult) throws -> Optimality {
        let lp = try DecompositionLP(
            v: r.v, mode: r.settings.mode == .pq && r.settings.qthres == 0 ? .p : r.settings.mode,
            qthres: r.settings.qthres)
        let loss = lp.loss(p: r.p, q: r.q)
        let last = r.returnedIteration == r.settings.iterations - 1
        return Optimality(
            solver: r.settings.optimizer.rawValue, loss: loss, lowerBound: nil,
            status: last ? "iteration limit (no certificate)" : "best iterate (no certificate)",
            iterations: r.settings.iterations, solvedPlayers: r.n)
    }

}
