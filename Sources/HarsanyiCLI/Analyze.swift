import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Studies across the samples of dataset runs (made by `harsanyi extract --indices/--all/...`).",
        subcommands: [AnalyzeOrders.self, AnalyzeGeneralization.self, AnalyzeTransfer.self])
}

/// The salient rule of an analysis (spec §6), shared by the analyze subcommands.
struct ThresholdOptions: ParsableArguments {
    @Option(help: "sample (τ·max|I| of each sample), pooled (τ·max|I| over all samples) or model (τ·E|v(N)−v(∅)|).")
    var threshold: String = "sample"
    @Option(help: "τ (default 0.05; 0.03 with --threshold model, as in Chen et al.).")
    var tau: Double?
    @Flag(help: "Salient means |I| > τ (default |I| ≥ τ).")
    var strict = false

    func make() throws -> SalientThreshold {
        guard let reference = SalientThreshold.Reference(rawValue: threshold) else {
            throw HarsanyiError.invalidArgument("--threshold must be sample, pooled or model, got \(threshold)")
        }
        if let tau, !(tau > 0 && tau.isFinite) { throw HarsanyiError.invalidArgument("--tau must be positive") }
        return SalientThreshold(reference: reference, tau: tau, strict: strict)
    }
}

/// Where an analysis writes: a JSON file and its figure beside it (same name, .svg).
struct AnalysisOutput: ParsableArguments {
    @Option(help: "Output JSON (default: RUN/<analysis>.json for one run; required for several).")
    var out: String?

    func path(runs: [String], name: String) throws -> String {
        if let out { return out }
        guard runs.count == 1 else {
            throw HarsanyiError.invalidArgument("several runs: say where with --out FILE.json")
        }
        return runs[0] + "/" + name + ".json"
    }

    static func write(_ json: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(data) + [10], to: path)
    }

    /// The figure's path: the JSON's, with .svg.
    static func figurePath(_ json: String) -> String {
        (json.hasSuffix(".json") ? String(json.dropLast(5)) : json) + ".svg"
    }

    static func write(_ figure: Figure, beside json: String) throws {
        let path = figurePath(json)
        do { try figure.write(to: path) } catch {
            throw HarsanyiError.io(path: path, reason: "cannot write the figure")
        }
    }
}

struct AnalyzeOrders: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Interaction strength by order over the samples of one or more runs (spec §7).",
        discussion: """
            Per order k and for AND, OR and both together, means over samples of: I⁺(k) = Σ_{|S|=k} max(I, 0),
            I⁻(k) = Σ min(I, 0) (all S, and salient S only), the number of salient S, mean |I| and
            η(k) = Σ I / Σ |I|. --normalize divides strengths by E|v(N) − v(∅)|. Runs pooled together must share
            the model, the players and n.
            """)

    @Argument(help: "Run folders.")
    var runs: [String]
    @OptionGroup var thresholds: ThresholdOptions
    @Flag(help: "Divide strengths by E_x |v(x_N) − v(x_∅)| (comparable across models and epochs).")
    var normalize = false
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            let rule = try thresholds.make()
            let path = try output.path(runs: runs, name: "orders")
            let samples = try RunSamples(runs: runs)
            let stats = OrderStatistics(samples, threshold: rule, normalize: normalize)
            let json: [String: Any] = [
                "analysis": "orders", "runs": runs, "n": samples.n, "samples": samples.samples.count,
                "threshold": [
                    "reference": rule.reference.rawValue, "tau": rule.tau, "comparison": rule.strict ? ">" : ">=",
                    "values": stats.thresholds,
                ] as [String: Any],
                "normalized_by": normalize ? "E|v(N) - v(empty)|" : "none",
                "mean_abs_v_N_minus_v_empty": stats.meanSpread,
                "orders": stats.json(),
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(Self.figure(stats, samples: samples, rule: rule), beside: path)
            print("analyze orders: \(samples.samples.count) samples, n = \(samples.n) -> \(path) and .svg")
            for row in stats.rows {
                print(
                    String(
                        format: "order %2d: I+ %10.4g  I- %10.4g  salient %7.2f  mean|I| %9.3g  eta %6.3f",
                        row.order, row.both.positive, row.both.negative, row.both.salientCount, row.both.meanAbs,
                        row.both.eta))
            }
        }
    }
}

extension AnalyzeOrders {
    /// The papers' order plot: per order, I⁺(k) up and I⁻(k) down, for AND, OR and both; then the salient counts.
    static func figure(_ stats: OrderStatistics, samples: RunSamples, rule: SalientThreshold) -> Figure {
        var fig = Figure(
            width: 1040, height: 640, rows: 2, cols: 3,
            title: "Interaction strength by order: \(samples.samples.count) samples, n = \(samples.n)")
        let categories = stats.rows.map { String($0.order) }
        let unit = stats.normalized ? "strength / E|v(N) − v(∅)|" : "strength"
        for (col, (name, pick)) in [
            ("AND", { (r: OrderRow) in r.and }), ("OR", { (r: OrderRow) in r.or }),
            ("AND + OR", { (r: OrderRow) in r.both }),
        ].enumerated() {
            var top = Axes(title: "\(name): I⁺(k), I⁻(k) (all S)", xLabel: "order k", yLabel: unit)
            top.signedBars(
                categories: categories,
                series: [
                    SignedBarSeries("I⁺ (positive)", stats.rows.map { pick($0).positive }),
                    SignedBarSeries("I⁻ (negative)", stats.rows.map { pick($0).negative }),
                ], overlay: true)
            fig.panels[col] = top
            var bottom = Axes(
                title: "\(name): salient (\(rule.reference.rawValue), τ = \(rule.tau))", xLabel: "order k",
                yLabel: "mean count per sample")
            bottom.signedBars(
                categories: categories,
                series: [SignedBarSeries("salient count", stats.rows.map { pick($0).salientCount })])
            fig.panels[3 + col] = bottom
        }
        return fig
    }
}

struct AnalyzeGeneralization: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generalization",
        abstract: "Train-vs-test similarity of interactions per order (generalised Jaccard, spec §8), with a control.",
        discussion: """
            sim(k) = mean over classes c of J(u_c(train), u_c(test)), u_c the class mean of the (I_and, I_or) vectors
            of order k, J the generalised Jaccard of signed vectors. Control: the same similarity between random
            disjoint halves of the test samples (and of the training samples), split per class, over --splits seeded
            splits (mean, min, max). Without it a fall with the order cannot be told from sample-to-sample variation.
            """)

    @Option(help: "Run folder of training samples.")
    var train: String
    @Option(help: "Run folder of test samples (same model, players and n).")
    var test: String
    @Option(help: "Random half-splits for the control.")
    var splits = 20
    @Option(help: "Seed of the control's splits.")
    var seed: UInt64 = 1
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            guard splits >= 1 else { throw HarsanyiError.invalidArgument("--splits must be at least 1") }
            let path = try output.path(runs: [test], name: "generalization")
            let pooled = try RunSamples(runs: [train, test])
            let n = pooled.n
            let all = pooled.samples
            let trainIdx = all.indices.filter { all[$0].run == train }
            let testIdx = all.indices.filter { all[$0].run == test }
            guard !trainIdx.isEmpty, !testIdx.isEmpty else {
                throw HarsanyiError.invalidArgument("both --train and --test need done samples")
            }
            let sim = Generalization.similarity(all, trainIdx, testIdx, n: n)
            var rng = SplitMix(seed: seed)
            func control(_ members: [Int]) -> [[Double]] {
                (0..<splits).map { _ in
                    let (a, b) = Generalization.halves(all, members, rng: &rng)
                    return Generalization.similarity(all, a, b, n: n).map { $0 ?? .nan }
                }
            }
            let testControl = control(testIdx)
            let trainControl = control(trainIdx)
            func summary(_ runs: [[Double]], _ k: Int) -> Any {
                let values = runs.map { $0[k] }.filter(\.isFinite)
                guard !values.isEmpty else { return NSNull() }
                return ["mean": values.reduce(0, +) / Double(values.count), "min": values.min()!, "max": values.max()!]
            }
            let rows: [[String: Any]] = (0...n).map { k in
                [
                    "order": k, "train_vs_test": sim[k].map { $0 as Any } ?? NSNull(),
                    "test_halves": summary(testControl, k), "train_halves": summary(trainControl, k),
                ]
            }
            let json: [String: Any] = [
                "analysis": "generalization", "train": train, "test": test, "n": n,
                "train_samples": trainIdx.count, "test_samples": testIdx.count, "splits": splits, "seed": seed,
                "similarity": "mean over classes of generalised Jaccard of class-mean (Iand, Ior) vectors per order",
                "orders": rows,
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(figure(rows, n: n), beside: path)
            print("analyze generalization: \(trainIdx.count) train, \(testIdx.count) test samples, n = \(n) -> \(path)")
            for (k, row) in rows.enumerated() {
                let t = (row["test_halves"] as? [String: Double])?["mean"] ?? .nan
                print(String(format: "order %2d: train vs test %.3f, test halves %.3f", k, sim[k] ?? .nan, t))
            }
        }
    }
}

extension AnalyzeGeneralization {
    /// Train-vs-test Jaccard per order, with the two controls drawn as mean lines and min–max bands.
    func figure(_ rows: [[String: Any]], n: Int) -> Figure {
        var fig = Figure(width: 720, height: 440, title: "Generalisation of interactions by order (n = \(n))")
        var axes = Axes(title: "train vs test, and random halves (control)", xLabel: "order k", yLabel: "Jaccard")
        let orders = (0...n).map(Double.init)
        axes.line(LineSeries("train vs test", x: orders, y: rows.map { $0["train_vs_test"] as? Double ?? .nan }))
        for (key, name) in [("test_halves", "test vs test (halves)"), ("train_halves", "train vs train (halves)")] {
            let c = rows.map { $0[key] as? [String: Double] }
            axes.line(
                LineSeries(
                    name, x: orders, y: c.map { $0?["mean"] ?? .nan }, dashed: true,
                    band: Band(lower: c.map { $0?["min"] ?? .nan }, upper: c.map { $0?["max"] ?? .nan })))
        }
        fig.panels[0] = axes
        return fig
    }
}

struct AnalyzeTransfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "How salient primitives recur across the samples of each class (spec §8), and the sparsity curve.",
        discussion: """
            Per class (the target class of each sample): the mean cover ratio |Ω_x ∩ Ω_x'| / |Ω_x| over pairs of
            samples, the frequency α(S) and discrimination power β(S) = max(m⁺, m⁻)/(m⁺ + m⁻) of every primitive
            salient somewhere, and their α-weighted mean; pooled over all samples, the sorted |I| / max|I|.
            """)

    @Argument(help: "Run folders.")
    var runs: [String]
    @OptionGroup var thresholds: ThresholdOptions
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            let rule = try thresholds.make()
            let path = try output.path(runs: runs, name: "transfer")
            let samples = try RunSamples(runs: runs)
            let t = Transferability(samples, threshold: rule)
            // The sparsity curve at up to 512 log-spaced ranks (its full length is 2^(n+1) per sample).
            let total = t.sparsity.count
            var ranks = Set<Int>()
            for j in 0..<512 { ranks.insert(min(total - 1, Int(pow(Double(total), Double(j) / 511).rounded()) - 1)) }
            let curve = ranks.filter { $0 >= 0 }.sorted().map { [Double($0 + 1), t.sparsity[$0]] }
            let json: [String: Any] = [
                "analysis": "transfer", "runs": runs, "n": samples.n, "samples": samples.samples.count,
                "threshold": [
                    "reference": rule.reference.rawValue, "tau": rule.tau, "comparison": rule.strict ? ">" : ">=",
                ],
                "mean_cover_ratio": t.meanCoverRatio.map { $0 as Any } ?? NSNull(),
                "mean_discrimination_score": t.meanScore.map { $0 as Any } ?? NSNull(),
                "classes": t.classes.map { c in
                    [
                        "target": c.target, "samples": c.samples,
                        "cover_ratio": c.coverRatio.map { $0 as Any } ?? NSNull(),
                        "discrimination_score": c.score.map { $0 as Any } ?? NSNull(),
                        "primitives_salient_somewhere": c.alphaBeta.count,
                        "alpha_beta": c.alphaBeta.map { [$0.alpha, $0.beta] },
                    ] as [String: Any]
                },
                "sparsity_curve": ["rank_and_normalized_abs_I": curve, "entries": total] as [String: Any],
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(figure(t, curve: curve, samples: samples, rule: rule), beside: path)
            print("analyze transfer: \(samples.samples.count) samples, \(t.classes.count) classes -> \(path) and .svg")
            for c in t.classes {
                print(
                    String(
                        format: "class %d (%d samples): cover ratio %.3f, discrimination %.3f", c.target, c.samples,
                        c.coverRatio ?? .nan, c.score ?? .nan))
            }
        }
    }

    func figure(_ t: Transferability, curve: [[Double]], samples: RunSamples, rule: SalientThreshold) -> Figure {
        var fig = Figure(
            width: 1040, height: 400, rows: 1, cols: 3,
            title: "Transferability across samples (\(samples.samples.count) samples, n = \(samples.n))")
        var sparsity = Axes(title: "sparsity: sorted |I| / max|I|", xLabel: "rank", yLabel: "normalised |I|")
        sparsity.yScale = .log10
        sparsity.xScale = .log10
        sparsity.line(LineSeries("pooled |I|", x: curve.map { $0[0] }, y: curve.map { $0[1] }))
        sparsity.horizontalMarker(at: rule.tau, label: "τ = \(rule.tau)")
        fig.panels[0] = sparsity
        var cover = Axes(title: "cover ratio per class", xLabel: "class", yLabel: "mean |Ω ∩ Ω'| / |Ω|")
        cover.signedBars(
            categories: t.classes.map { String($0.target) },
            series: [SignedBarSeries("cover ratio", t.classes.map { $0.coverRatio ?? .nan })])
        fig.panels[1] = cover
        var ab = Axes(title: "discrimination power β vs frequency α", xLabel: "α (fraction of samples)", yLabel: "β")
        let all = t.classes.flatMap(\.alphaBeta)
        ab.scatter(ScatterSeries("primitives", x: all.map(\.alpha), y: all.map(\.beta)))
        fig.panels[2] = ab
        return fig
    }
}
