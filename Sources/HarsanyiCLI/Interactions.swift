import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiSolvers

extension InteractionMode: ExpressibleByArgument {}
extension SparsifierOptimizer: ExpressibleByArgument {}

/// The engine's options, shared with commands that run it after computing v.
struct EngineOptions: ParsableArguments {
    @Option(
        help:
            """
            pq (sparsified AND-OR with p and noise q), p (no noise), q (AND only with noise), none (v_and = v_or = \
            v/2), and (Harsanyi dividends only).
            """
    )
    var mode: InteractionMode = .pq
    @Option(help: "Noise bound: |q| <= qthres * |v(N) - v(empty)|.")
    var qthres: Double = 0.04
    @Option(
        help:
            """
            Initial learning rate of sgd (default 1e-5, the reference's) or adam (default 1e-3); decays \
            geometrically to lr/10. pdhg needs none.
            """
    )
    var lr: Double?
    @Option(
        help: """
            Iterations: sgd, adam and pdhg run exactly this many (default 10000, the reference's); \
            pdlp at most this many (default 1000000).
            """)
    var iterations: Int?
    @Option(
        help: """
            auto (default: exact where the problem after removing null players is small enough, else pdlp), \
            exact (LP optimum, COIN-OR CLP), pdlp (restarted primal-dual with a certified gap), \
            sgd (the reference: momentum 0.9, last iterate; reproduces published numbers), adam or pdhg (best iterate).
            """)
    var optimizer: SparsifierOptimizer = .auto
    @Option(help: "Certified optimisers stop at this relative gap (loss - lower bound)/loss.")
    var gap: Double = 1e-4
    @Option(help: "Wall-clock limit of the certified optimisers, in seconds.")
    var timeLimit: Double = 600
    @Flag(help: "Do not remove null players before a certified optimiser (they are still reported).")
    var keepNullPlayers = false
    @Flag(help: "Return the last iterate even for adam and pdhg.")
    var lastIterate = false
    @Flag(help: "Re-centre q to zero mean after every step (q_tricks).")
    var recenterQ = false
    @Option(help: "float32 (as the reference code) or float64.")
    var precision: Precision = .float32
    @Option(help: "Salient if |I| >= threshold * max|I| (default 0.05).")
    var threshold: Double?
    @Option(help: "Salient if |I| >= this * |v(N) - v(empty)| instead.")
    var absoluteThreshold: Double?
    @Option(help: "Salient: the K largest |I| instead.")
    var topK: Int?

    var settings: InteractionSettings {
        var s = InteractionSettings()
        s.mode = mode
        s.qthres = qthres
        s.lr = lr
        s.iterations = iterations ?? (optimizer.certified ? 1_000_000 : 10_000)
        s.optimizer = optimizer
        s.gapTolerance = gap
        s.timeLimit = timeLimit
        s.reduceNullPlayers = !keepNullPlayers
        s.recenterQ = recenterQ
        s.precision = precision
        if lastIterate { s.keepBest = false }
        return s
    }

    func rule() throws -> SalientRule {
        let given = [threshold != nil, absoluteThreshold != nil, topK != nil].filter { $0 }.count
        guard given <= 1 else {
            throw HarsanyiError.invalidArgument("give at most one of --threshold, --absolute-threshold, --top-k")
        }
        if let k = topK {
            guard k >= 0 else { throw HarsanyiError.invalidArgument("--top-k must be >= 0") }
            return .topK(k)
        }
        if let t = absoluteThreshold { return .absolute(t) }
        return .relative(threshold ?? 0.05)
    }

    /// Runs the engine with a progress bar on stderr for long runs (the loss read back every 1/100 of the
    /// iterations, one small read each); v is on the host, or already in a buffer of `backend` (then the
    /// iterations use it where it is).
    func run(v: [Double]? = nil, device: DeviceBuffer? = nil, backend: ComputeBackend, knownNull: [Int] = [])
        throws -> InteractionResult
    {
        guard let ops = backend as? any SparsifierOps else {
            throw HarsanyiError.unsupported("\(backend.deviceDescription) has no sparsifier")
        }
        let total = settings.iterations
        let every = total >= 1000 && settings.mode != .none && settings.mode != .and ? max(1, total / 100) : 0
        // Certified optimisers stop at a gap or the time limit long before their iteration cap: their bar runs
        // against the time limit (an upper bound), the others' against the iterations.
        let certified = settings.optimizer.certified
        let bar =
            certified
            ? ProgressBar(
                label: "certified solver (time limit)", total: Int(settings.timeLimit.rounded(.up)),
                unit: "s")
            : ProgressBar(label: "sparsifier", total: total, unit: "iterations")
        defer { bar.finish() }
        let start = DispatchTime.now().uptimeNanoseconds
        let progress: Sparsifier.Progress = { it, loss in
            if certified {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                bar.update(Int(seconds), detail: String(format: "iteration %d, best loss %.6g", it + 1, loss))
            } else {
                bar.update(it + 1, detail: String(format: "loss %.6g", loss))
            }
        }
        if let device {
            return try Decomposition.run(
                device: device, settings: settings, backend: ops, knownNull: knownNull,
                progressEvery: every, progress: progress)
        }
        return try Decomposition.run(
            v: v ?? [], settings: settings, backend: ops, knownNull: knownNull,
            progressEvery: every, progress: progress)
    }
}

struct Interactions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "AND-OR interactions of one sample from its 2^n outputs v(x_S).",
        discussion: """
            Reads v (a 1-D .npy of 2^n values; bit i of the index is player i), runs the AND-OR decomposition
            on the selected backend and writes rewards.npy, masks.npy, Iand.npy, Ior.npy, p.npy, q.npy and
            summary.json into --out (atomically; an existing folder needs --force).
            """)

    @Option(help: "The 2^n outputs v(x_S), a 1-D .npy.")
    var values: String
    @OptionGroup var result: ResultOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            let rule = try engine.rule()
            try ResultDirectory.checkWritable(result.out, force: result.force)
            let array = try NPY.read(values)
            guard array.shape.count == 1 else {
                throw HarsanyiError.badFile(
                    path: values, reason: "expected a 1-D array of 2^n values, got shape \(array.shape)")
            }
            let v = array.doubles()
            guard let n = Subsets.playerCount(forLength: v.count) else {
                throw HarsanyiError.badFile(
                    path: values, reason: "length \(v.count) is not a power of two (2^n values for n players)")
            }
            if let i = v.firstIndex(where: { !$0.isFinite }) {
                throw HarsanyiError.badFile(path: values, reason: "v[\(i)] = \(v[i]) is not finite")
            }
            guard n <= Sparsifier.maxPlayers else {
                throw HarsanyiError.unsupported("n = \(n): at most \(Sparsifier.maxPlayers) players")
            }
            let selection = try options.select(
                requirement: BackendRequirement(
                    count: v.count, precision: engine.precision, buffers: 11, sparsifier: true))
            let r = try engine.run(v: v, backend: selection.backend)
            try result.write(r, rule: rule, extra: ["values_file": values])
        }
    }
}

/// Where a result folder goes and what is printed about it; shared by `interactions` and `extract`.
struct ResultOptions: ParsableArguments {
    @Option(help: "Output folder.")
    var out: String
    @Flag(help: "Replace an existing output folder.")
    var force = false
    @Option(help: "How many top primitives to print.")
    var show = 10

    /// Analyses the result, writes the folder atomically and prints the summary.
    /// `labels`: the players' names (words), printed beside the top primitives.
    func write(_ r: InteractionResult, rule: SalientRule, extra: [String: Any], labels: [String]? = nil) throws {
        let analysis = try InteractionAnalysis(r, rule: rule)
        try ResultDirectory.write(r, analysis, to: out, force: force, extra: extra)
        Report.print(r, analysis, show: show, labels: labels)
        print("wrote \(out)/{rewards,masks,Iand,Ior,p,q}.npy and summary.json")
    }
}

/// The short human summary printed after a run.
enum Report {
    /// "loss L, lower bound D, gap G (status, solver)"; without a bound it says so.
    static func optimalityLine(_ o: Optimality) -> String {
        guard let lb = o.lowerBound, let gap = o.gap else {
            return String(
                format: "loss %.8g (%@; no lower bound: use --optimizer auto for a certified optimum)",
                o.loss, o.status)
        }
        return String(
            format: "loss %.8g, lower bound %.8g, relative gap %.2e (%@; %@, %d players, %d iterations)",
            o.loss, lb, gap, o.status, o.solver, o.solvedPlayers, o.iterations)
    }

    static func print(_ r: InteractionResult, _ a: InteractionAnalysis, show: Int, labels: [String]? = nil) {
        let s = r.settings
        let count = r.v.count
        Swift.print(String(format: "n = %d players, v(N) = %.6g, v(empty) = %.6g", r.n, r.v[count - 1], r.v[0]))
        if s.mode == .none || s.mode == .and {
            Swift.print("mode \(s.mode) (no sparsification), L1 = \(String(format: "%.6g", r.loss))")
        } else if s.optimizer.certified {
            Swift.print(String(format: "mode %@, %@ in %.2f s", s.mode.rawValue, s.optimizer.rawValue, r.seconds))
        } else {
            Swift.print(
                String(
                    format: "mode %@, %@, %d iterations in %.2f s (%.0f it/s): loss %.6g -> %.6g%@",
                    s.mode.rawValue, s.optimizer.rawValue, s.iterations, r.seconds,
                    Double(s.iterations) / max(r.seconds, 1e-9),
                    r.lossTrace.first ?? 0, r.loss,
                    r.returnedIteration == s.iterations - 1
                        ? "" : " (best iterate, iteration \(r.returnedIteration + 1))"))
        }
        if !r.nullPlayers.isEmpty {
            let list = r.nullPlayers.map(String.init).joined(separator: ", ")
            let fate =
                s.optimizer.certified
                ? ", removed before optimising and lifted back" : ", not removed (\(s.optimizer))"
            let roundOff =
                r.nullPlayerDeviation > 0
                ? String(
                    format: " (null by construction; the forward pass's round-off moves v by %.2g)",
                    r.nullPlayerDeviation)
                : ""
            Swift.print("null players (v(S + i) = v(S) for every S): " + list + fate + roundOff)
        }
        if let o = r.optimality { Swift.print(optimalityLine(o)) }
        Swift.print(
            String(format: "faithfulness: max |v_hat - v| = %.3g (relative %.3g)", a.matchingMaxAbs, a.matchingMaxRel))
        let total = 2 * count
        Swift.print(
            String(
                format: "salient (%@): %d of %d interactions (%.2f%%), threshold %.4g",
                a.rule.description, a.primitives.count, total, 100 * Double(a.primitives.count) / Double(total),
                a.threshold))
        let shown = a.primitives.prefix(show)
        if !shown.isEmpty {
            Swift.print("top primitives:")
            for (i, p) in shown.enumerated() {
                let names = labels.map { l in
                    "  (" + p.players.map { $0 < l.count ? l[$0] : String($0) }.joined(separator: ", ") + ")"
                }
                Swift.print(
                    String(
                        format: "  %2d. %-3@ order %2d  %+.6g  players {%@}%@", i + 1, p.type.rawValue, p.order,
                        p.value, p.players.map(String.init).joined(separator: ","), names ?? ""))
            }
        }
        let perOrder = a.orders.filter { $0.salientAnd + $0.salientOr > 0 }
            .map { "\($0.order): \($0.salientAnd) AND + \($0.salientOr) OR" }
        if !perOrder.isEmpty { Swift.print("salient per order: " + perOrder.joined(separator: ", ")) }
    }
}
