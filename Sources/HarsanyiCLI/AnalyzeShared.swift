import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot
import HarsanyiSolvers

struct AnalyzeShared: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared",
        abstract: "Interactions shared by several models on the same samples: the joint extraction (spec §9).",
        discussion: """
            Give one dataset run per model, made with the same --input, players, baseline and target on the same
            samples. Per sample, the models' rewards are decomposed jointly (loss (1−α)·max over models + α·sum;
            p_share free, |p_i| ≤ pthres·|mean v_i(N) − v_i(∅)|, |q_i| ≤ qthres·|v_i(N) − v_i(∅)|), by the exact
            linear program (certified; auto up to n = 8) or the reference SGD. Reports s_and, s_or against k (joint
            and single-model), shared and distinctive strength per order, and the shared and distinctive primitives;
            with --test (one run per model on other samples, e.g. test samples), whether shared primitives are more
            similar between the two sample sets than distinctive ones (generalised Jaccard of class means).
            """)

    @Argument(help: "Dataset runs, one per model (two or more).")
    var runs: [String]
    @Option(help: "Dataset runs of the same models on other samples (as many as runs, same order).")
    var test: [String] = []
    @Option(help: "α: the weight of the sum in the loss (1−α on the max over models).")
    var alpha = 0.1
    @Option(help: "|p_i| <= pthres·|mean over samples of v_i(N) − v_i(∅)|.")
    var pthres = 0.5
    @Option(help: "|q_i| <= qthres·|v_i(N) − v_i(∅)|.")
    var qthres = 0.02
    @Option(help: "auto (exact up to n = \(JointDecomposition.exactLimit), else sgd), exact or sgd.")
    var optimizer = "auto"
    @Option(help: "SGD iterations (the reference: 20000).")
    var iterations = 20_000
    @Option(help: "SGD learning rate (default: 1e-6·max|v(N) − v(∅)|).")
    var lr: Double?
    @Option(help: "Salient: |I| >= tau·E|v_i(N) − v_i(∅)| (Chen et al.: 0.03).")
    var tau = 0.03
    @Option(help: "Wall-clock limit of one exact solve, in seconds.")
    var timeLimit = 600.0
    @Option(help: "How many shared and distinctive primitives to list.")
    var list = 20
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            guard runs.count >= 2 else { throw HarsanyiError.invalidArgument("analyze shared needs two runs or more") }
            guard test.isEmpty || test.count == runs.count else {
                throw HarsanyiError.invalidArgument("--test needs one run per model (\(runs.count)), got \(test.count)")
            }
            guard let opt = JointDecomposition.Optimizer(rawValue: optimizer) else {
                throw HarsanyiError.invalidArgument("--optimizer must be auto, exact or sgd")
            }
            guard let path = output.out else { throw HarsanyiError.invalidArgument("say where with --out FILE.json") }
            var settings = JointDecomposition.Settings()
            (settings.alpha, settings.pthres, settings.qthres) = (alpha, pthres, qthres)
            (settings.optimizer, settings.iterations, settings.lr, settings.timeLimit) = (opt, iterations, lr, timeLimit)
            let train = try SharedStudy(runs: runs, settings: settings)
            print("analyze shared: \(runs.count) models, n = \(train.n), \(train.samples.count) samples, \(train.note)")
            let (trainSamples, results) = try train.extract(label: "joint extraction")
            let metrics = SharedInteractions(trainSamples, n: train.n, tau: tau)
            var json = SharedReport.json(
                metrics, samples: trainSamples, results: results, study: train, settings: settings, list: list)
            var generalization: [(shared: Double?, distinctive: Double?)]? = nil
            if !test.isEmpty {
                let other = try SharedStudy(runs: test, settings: settings, like: train)
                let testSamples = try other.extract(label: "joint extraction (--test)").samples
                generalization = SharedInteractions.generalization(
                    train: trainSamples, trainShared: metrics, test: testSamples, n: train.n)
                json["test_runs"] = test
                json["test_samples"] = testSamples.count
                json["generalization"] = generalization!.enumerated().map { i, g in
                    [
                        "model": runs[i], "jaccard_shared": g.shared.map { $0 as Any } ?? NSNull(),
                        "jaccard_distinctive": g.distinctive.map { $0 as Any } ?? NSNull(),
                    ] as [String: Any]
                }
            }
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(
                SharedReport.figure(metrics, study: train, generalization: generalization), beside: path)
            print("-> \(path) and .svg")
            for (r, (a, o)) in zip(metrics.ratios, zip(metrics.jointAnd, metrics.jointOr)) where [0.05, 0.25].contains(r) {
                let i = metrics.ratios.firstIndex(of: r)!
                print(
                    String(
                        format: "r = %.2f: s_and %.3f (single %.3f), s_or %.3f (single %.3f)", r, a,
                        metrics.singleAnd[i], o, metrics.singleOr[i]))
            }
            if let generalization {
                for (i, g) in generalization.enumerated() {
                    print(
                        String(
                            format: "model %d: train-test Jaccard shared %.3f, distinctive %.3f", i + 1,
                            g.shared ?? .nan, g.distinctive ?? .nan))
                }
            }
        }
    }
}
