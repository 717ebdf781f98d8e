import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCLExecutor

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Baselines for masking.", subcommands: [BaselineLearn.self])
}

/// `harsanyi baseline learn`: a learned baseline embedding for a text model (`BaselineLearner`).
struct BaselineLearn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Fits one baseline embedding on a set of sentences so that masked words interact little (spec §3).",
        discussion: """
            Every row of the ids .npy is a sample (held inputs such as the attention mask give one row per sample); \
            --players words:FILE.json names each sample's words ("samples": [{"words": ...}, ...], or one "words" \
            list for all). Loss: mean over --draws draws of disjoint word sets S1, S2, S3 of \
            |v(S1∪S2∪S3) − v(S1∪S3) − v(S2∪S3) + v(S3)|, v the log-odds of the class (next token) predicted on the \
            full sentence; SGD with momentum, one step per sample and epoch, gradients by central differences \
            (4·draws·(2H + 1) masked forwards per step). Writes the vector (H values) to --out; pass it to extract \
            as --baseline tensor:FILE.npy.
            """)

    @OptionGroup var sampleOptions: SampleOptions
    @Option(help: "The starting point: token:ID (that token's embedding, as the reference) or tensor:FILE.npy.")
    var initial: String
    @Option(help: "Epochs (passes over the samples).")
    var epochs: Int = 100
    @Option(help: "SGD learning rate.")
    var lr: Double = 1e-3
    @Option(help: "SGD momentum.")
    var momentum: Double = 0.9
    @Option(help: "Draws of (S1, S2, S3) per sample and step.")
    var draws: Int = 10
    @Option(help: "Central-difference step h.")
    var step: Float = 1e-2
    @Option(help: "Seed of the draws.")
    var seed: UInt64 = 0
    @Option(help: "Output .npy: the baseline vector.")
    var out: String
    @Option(help: "Also write the loss per epoch as JSON here.")
    var losses: String?
    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            guard epochs >= 1, draws >= 1, lr > 0, step > 0, momentum >= 0, momentum < 1 else {
                throw HarsanyiError.invalidArgument(
                    "--epochs and --draws must be >= 1, --lr and --step > 0, --momentum in [0, 1)")
            }
            let backend = try options.select(requirement: nil).backend
            let count = try NPY.read(sampleOptions.input).shape.first ?? 0
            var samples: [BaselineLearner.Sample] = []
            var start: [Float] = []
            for i in 0..<count {
                var one = sampleOptions
                one.index = i
                let (m, ids) = try one.load()
                let point = try MaskPoint(model: m, sample: ids, maskAt: nil, players: one.players, sample: i)
                guard let lookup = point.embedding, let name = point.name else {
                    throw HarsanyiError.invalidArgument("baseline learn needs a text model with token ids as input")
                }
                let plan = try SuffixPlan(model: m, start: name, sample: ids)
                guard case .words(let file) = try PlayerSpec.parse(one.players) else {
                    throw HarsanyiError.invalidArgument("baseline learn needs --players words:FILE.json")
                }
                let words = try WordPlayers(file: file, sample: i).words
                let full = try m.run(ids).asFloats
                let target = full.indices.max { full[$0] < full[$1] } ?? 0
                let (runner, executor) = ModelExecution.runner(for: plan, backend: backend) { Console.note($0) }
                if i == 0 {
                    Console.note("\(count) samples, H = \(lookup.width), batches on \(executor)")
                    start = try point.baseline(initial).prefix(lookup.width).map { $0 }
                }
                samples.append(.init(plan: plan, runner: runner, words: words, target: target))
            }
            guard !samples.isEmpty else { throw HarsanyiError.invalidArgument("\(sampleOptions.input) has no samples") }
            let (b, curve) = try BaselineLearner.learn(
                samples, initial: start, epochs: epochs, learningRate: lr, momentum: momentum, drawsPerSample: draws,
                step: step, seed: seed
            ) { epoch, loss in Console.note(String(format: "epoch %d: loss %.6g", epoch, loss)) }
            try NPY.write(b, to: out)
            if let losses {
                let data = try JSONSerialization.data(withJSONObject: ["loss_per_epoch": curve], options: [.sortedKeys])
                try AtomicFile.write(Array(data), to: losses)
            }
            print(
                String(
                    format: "loss %.6g -> %.6g over %d epochs; wrote %@", curve.first ?? 0, curve.last ?? 0,
                    epochs, out))
        }
    }
}
