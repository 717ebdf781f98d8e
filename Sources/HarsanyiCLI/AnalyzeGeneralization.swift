import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct AnalyzeGeneralization: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generalization",
        abstract: "Train-vs-test similarity of interactions per order (generalised Jaccard, spec §8), with a control.",
        discussion: """
            sim(k) = mean over classes c of J(u_c(train), u_c(test)), u_c the class mean of the (I_and, I_or) vectors
            of order k, J the generalised Jaccard of signed vectors. Control: the same similarity between random
            disjoint halves of the test samples (and of the training samples), split per class, over --splits seeded
            splits (mean, min, max), next to a half of the training samples against a half of the test samples (like for
            like: class means over as many samples). Without them a fall with the order cannot be told from
            sample-to-sample variation.
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
            var rng = SplitMix64(seed: seed)
            func control(_ members: [Int]) -> [[Double]] {
                (0..<splits).map { _ in
                    let (a, b) = Generalization.halves(all, members, rng: &rng)
                    return Generalization.similarity(all, a, b, n: n).map { $0 ?? .nan }
                }
            }
            let testControl = control(testIdx)
            let trainControl = control(trainIdx)
            // Like for like: a random half of the training samples against a random half of the test samples, so
            // each side's class means average as few samples as in the controls (a mean over fewer samples is
            // noisier, which alone lowers J).
            let matched: [[Double]] = (0..<splits).map { _ in
                let (a, _) = Generalization.halves(all, trainIdx, rng: &rng)
                let (b, _) = Generalization.halves(all, testIdx, rng: &rng)
                return Generalization.similarity(all, a, b, n: n).map { $0 ?? .nan }
            }
            func summary(_ runs: [[Double]], _ k: Int) -> Any {
                let values = runs.map { $0[k] }.filter(\.isFinite)
                guard !values.isEmpty else { return NSNull() }
                return ["mean": values.reduce(0, +) / Double(values.count), "min": values.min()!, "max": values.max()!]
            }
            let rows: [[String: Any]] = (0...n).map { k in
                [
                    "order": k, "train_vs_test": sim[k].map { $0 as Any } ?? NSNull(),
                    "test_halves": summary(testControl, k), "train_halves": summary(trainControl, k),
                    "train_half_vs_test_half": summary(matched, k),
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
        for (key, name) in [
            ("train_half_vs_test_half", "train vs test (halves, like for like)"),
            ("test_halves", "test vs test (halves)"), ("train_halves", "train vs train (halves)"),
        ] {
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
