import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiONNX

struct AnalyzeDynamics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dynamics",
        abstract: "Two-phase dynamics over training checkpoints, with the noise-model theory (spec §7, §10).",
        discussion: """
            Runs the dataset extraction (extract's options, after --) on every checkpoint of the manifest into
            OUT/epoch_EEEE (resumable: a rerun skips finished samples and checkpoints), then reports per epoch the
            strength by order, the high-order share and the phase boundary (the first epoch where the moving median
            of the share of orders >= --high-order is smallest; recomputed for neighbouring settings), the epoch
            where the train-test loss gap opens, and the noise-model theory (a reconstruction, spec §10.1) with
            σ² fitted per epoch to the real distribution, y = the last checkpoint's rewards.
            Example: harsanyi analyze dynamics --checkpoints ckpt.json --out dyn -- --input x.npy \\
            --players grid:2x5 --indices 0:50 --labels y.npy
            """)

    @Option(help: #"The checkpoint manifest: {"checkpoints": [{"epoch": E, "model": F}, ...], "losses": CSV}."#)
    var checkpoints: String
    @Option(help: "Output folder (one dataset run per checkpoint, dynamics.json, dynamics.svg, theory.svg).")
    var out: String
    @Option(help: "The losses CSV's train-loss column.")
    var trainLoss = "train_loss"
    @Option(help: "The losses CSV's test-loss column.")
    var testLoss = "test_loss"
    @Option(help: "The lowest order counted as high (default n/2 + 1).")
    var highOrder: Int?
    @Option(help: "Moving-median window over epochs (odd).")
    var window = 3
    @Argument(parsing: .postTerminator, help: "extract's options for the dataset runs (without --model and --out).")
    var extractArguments: [String] = []

    func run() throws {
        try reportingErrors {
            guard window >= 1, window % 2 == 1 else { throw HarsanyiError.invalidArgument("--window must be odd") }
            for flag in ["--model", "--out", "--force"] where extractArguments.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") }) {
                throw HarsanyiError.invalidArgument("\(flag) is set by analyze dynamics: leave it out after --")
            }
            let manifest = try DynamicsManifest(path: checkpoints)
            let losses = try manifest.lossColumns([trainLoss, testLoss])
            let first = try parse(manifest.checkpoints[0], folder: "x")
            guard first.dataset.active else {
                throw HarsanyiError.invalidArgument("give the samples after -- (--indices, --all or --per-class)")
            }
            try checkShapes(manifest, input: first.sampleOptions.inputs[0])
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var folders: [String] = []
            let clock = DispatchTime.now().uptimeNanoseconds
            for (k, cp) in manifest.checkpoints.enumerated() {
                let folder = out + "/" + String(format: "epoch_%04d", cp.epoch)
                let extract = try parse(cp, folder: folder)
                print("checkpoint \(k + 1)/\(manifest.checkpoints.count): epoch \(cp.epoch)")
                do {
                    try DatasetRun(extract: extract, rule: try extract.checkedRule()).run()
                } catch let e as HarsanyiError {
                    throw HarsanyiError.invalidArgument("checkpoint epoch \(cp.epoch) (\(cp.model)): \(e)")
                }
                folders.append(folder)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
            let study = try DynamicsStudy(
                epochs: manifest.checkpoints.map(\.epoch), runs: folders, losses: losses, highOrder: highOrder,
                window: window)
            var json = study.json()
            json["checkpoints"] = checkpoints
            json["extract_arguments"] = extractArguments
            json["extraction_seconds"] = seconds
            try AnalysisOutput.write(json, to: out + "/dynamics.json")
            try AnalysisOutput.write(study.figure(), beside: out + "/dynamics.json")
            try AnalysisOutput.write(study.theoryFigure(), beside: out + "/theory.json")
            print(study.summary)
            print("-> \(out)/dynamics.json, dynamics.svg and theory.svg")
        }
    }

    /// extract's options for one checkpoint.
    func parse(_ cp: DynamicsManifest.Checkpoint, folder: String) throws -> Extract {
        do {
            return try Extract.parse(extractArguments + ["--model", cp.model, "--out", folder])
        } catch {
            throw HarsanyiError.invalidArgument(
                "the extract options after --: \(Extract.message(for: error).split(separator: "\n").first ?? "")")
        }
    }

    /// Every checkpoint must take the input's sample shape (checked before hours of extraction, not after).
    func checkShapes(_ manifest: DynamicsManifest, input: String) throws {
        let file = SampleOptions.split(input).file
        let shape = try NPY.read(file).shape
        for cp in manifest.checkpoints {
            let m = try ONNXModel(path: cp.model)
            do { try m.checkInputShape([1] + shape.dropFirst()) } catch let e as HarsanyiError {
                throw HarsanyiError.invalidArgument("checkpoint epoch \(cp.epoch) does not take \(file): \(e)")
            }
        }
    }
}
