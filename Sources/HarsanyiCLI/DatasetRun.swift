import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiONNX

/// The options that turn `extract` into a dataset run over many samples of `--input`.
struct DatasetOptions: ParsableArguments {
    @Option(
        help: "Samples to extract: A:B (A to B − 1) or a list (0,5,9). A dataset run: --out is then a run folder.")
    var indices: String?
    @Flag(help: "Every sample of --input (a dataset run).")
    var all = false
    @Option(help: "The first K samples of each class (by --labels, in index order, within --indices when given).")
    var perClass: Int?
    @Flag(help: "Only samples the model classifies correctly (needs --labels); the others are listed as skipped.")
    var onlyCorrect = false

    var active: Bool { indices != nil || all || perClass != nil || onlyCorrect }

    /// The candidate indices in 0..<count, in increasing order, from --indices (or all of them).
    func candidates(count: Int) throws -> [Int] {
        guard let spec = indices else { return Array(0..<count) }
        var out: [Int]
        if let colon = spec.firstIndex(of: ":") {
            guard let a = Int(spec[..<colon]), let b = Int(spec[spec.index(after: colon)...]), 0 <= a, a < b else {
                throw HarsanyiError.invalidArgument("--indices A:B needs integers 0 <= A < B, got \(spec)")
            }
            out = Array(a..<b)
        } else {
            let parts = spec.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw HarsanyiError.invalidArgument("--indices needs A:B or a list of sample numbers, got \(spec)")
            }
            out = Array(Set(parts.map { $0! })).sorted()
        }
        if let bad = out.first(where: { $0 >= count }) {
            throw HarsanyiError.invalidArgument("--indices: sample \(bad) is outside the batch of \(count) samples")
        }
        return out
    }
}

/// `extract` over many samples into one run folder:
///
///     RUN/run.json                the run index: model, input, players, baseline, settings, each sample's status
///     RUN/samples/000012/         one sample's result folder in the lab layout (rewards, masks, Iand, Ior, p, q)
///
/// The model, its compiled program or device plan, and the backend are set up once. Each sample folder is written
/// into a temporary sibling and renamed into place, and run.json is rewritten atomically after every sample, so a
/// run killed at any moment leaves only complete samples; a rerun with the same settings skips them (a folder with
/// a summary.json is done) and continues. run.json holds no timings, so a resumed run's index is byte-identical to
/// an uninterrupted one's; results are deterministic (seedless solvers, single-threaded BLAS in the exact solver).
struct DatasetRun {
    let extract: Extract
    let rule: SalientRule

    var out: String { extract.result.out }

    func run() throws {
        let opts = extract.dataset
        let so = extract.sampleOptions
        if opts.perClass != nil || opts.onlyCorrect, extract.labels == nil {
            throw HarsanyiError.invalidArgument("--per-class and --only-correct need --labels FILE.npy")
        }
        if let k = opts.perClass, k < 1 { throw HarsanyiError.invalidArgument("--per-class needs K >= 1") }
        guard so.inputs.count == 1 else {
            throw HarsanyiError.unsupported(
                "dataset runs take models with one input (--input given \(so.inputs.count) times)")
        }
        let m = try ONNXModel(path: so.model)
        let batch = try NPY.read(so.input)
        guard batch.shape.count >= 2, batch.shape[0] >= 1 else {
            throw HarsanyiError.badFile(path: so.input, reason: "expected a batch of samples, got shape \(batch.shape)")
        }
        guard batch.type == .float32 || batch.type == .float64 else {
            throw HarsanyiError.unsupported(
                "dataset runs take float inputs; for token ids run extract once per sentence (--index)")
        }
        let sampleShape = Array(batch.shape.dropFirst())
        let size = sampleShape.reduce(1, *)
        try m.checkInputShape([1] + sampleShape)
        let values = batch.floats()
        func sample(_ i: Int) -> Tensor {
            Tensor(shape: [1] + sampleShape, floats: Array(values[(i * size)..<((i + 1) * size)]))
        }
        let labels = try extract.labels.map { try Self.readLabels($0, count: batch.shape[0]) }
        let plan = try planSamples(model: m, count: batch.shape[0], labels: labels, sample: sample)
        guard !plan.chosen.isEmpty else {
            throw HarsanyiError.invalidArgument("the selection is empty: no sample to extract")
        }
        let first = sample(plan.chosen[0])
        let out = self.out
        let playerLists = try extract.playerLists(model: m, sample: first)
        let identity = try self.identity(n: playerLists.count)
        var index = try RunIndex.open(out, identity: identity, force: extract.result.force)
        let selection = try extract.options.select(requirement: extract.requirement(n: playerLists.count))

        for (i, why) in plan.skipped { index.set(i, status: "skipped: \(why)") }
        for i in plan.chosen where index.samples[i] == nil { index.set(i, status: "pending") }
        try index.save()  // before any sample: a run killed from here on has its index, and resumes
        let bar = ProgressBar(label: "dataset run", total: plan.chosen.count, unit: "samples")
        ProgressBar.muted = true
        defer {
            ProgressBar.muted = false
            bar.finish()
        }
        var resumed = 0
        var done = 0
        var failed: [String] = []
        for (k, i) in plan.chosen.enumerated() {
            let folder = out + "/" + RunIndex.folder(i)
            if FileManager.default.fileExists(atPath: folder + "/summary.json") {
                resumed += 1
                // A run killed after the folder was renamed into place but before the index was saved: the target
                // and prediction come from the sample's own summary.
                let summary = (try? Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json")))
                    .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                index.set(
                    i, status: "done", target: summary?["target"] as? Int, predicted: summary?["predicted"] as? Int)
            } else {
                do {
                    let one = try extract.extractSample(model: m, sample: sample(i), index: i, selection: selection)
                    let analysis = try InteractionAnalysis(one.result, rule: rule)
                    try ResultDirectory.write(one.result, analysis, to: folder, force: true, extra: one.extra)
                    index.set(i, status: "done", target: one.target, predicted: one.predicted)
                    done += 1
                } catch let e as HarsanyiError {
                    index.set(i, status: "failed: \(e)")
                    failed.append("sample \(i): \(e)")
                }
            }
            try index.save()
            bar.update(k + 1, detail: "sample \(i)")
        }
        bar.finish()
        try index.save()
        print(
            "\(out): \(plan.chosen.count) samples (\(done) extracted, \(resumed) already done), "
                + "\(plan.skipped.count) skipped, \(failed.count) failed; index in \(out)/run.json")
        if let firstFailure = failed.first {
            throw HarsanyiError.invalidArgument("\(failed.count) sample(s) failed, e.g. \(firstFailure)")
        }
    }

    /// The samples to extract, and those left out with the reason (--only-correct).
    func planSamples(model m: ONNXModel, count: Int, labels: [Int]?, sample: (Int) -> Tensor) throws
        -> (chosen: [Int], skipped: [(Int, String)])
    {
        let opts = extract.dataset
        var chosen: [Int] = []
        var skipped: [(Int, String)] = []
        var perClass: [Int: Int] = [:]
        for i in try opts.candidates(count: count) {
            if let labels, let k = opts.perClass, perClass[labels[i], default: 0] >= k { continue }
            if opts.onlyCorrect, let labels {
                let z = try m.run(sample(i)).asFloats
                let predicted = z.count == 1 ? (z[0] >= 0 ? 1 : 0) : Extract.argmax(z)
                if predicted != labels[i] {
                    skipped.append((i, "misclassified (predicted \(predicted), label \(labels[i]))"))
                    continue
                }
            }
            if let labels { perClass[labels[i], default: 0] += 1 }
            chosen.append(i)
        }
        return (chosen, skipped)
    }

    /// What a rerun must share with the run folder to resume it.
    func identity(n: Int) throws -> [String: Any] {
        let e = extract
        let s = e.engine.settings
        var id: [String: Any] = [
            "model": e.sampleOptions.model, "model_fingerprint": try Self.fingerprint(e.sampleOptions.model),
            "input": e.sampleOptions.input, "input_fingerprint": try Self.fingerprint(e.sampleOptions.input),
            "players": e.sampleOptions.players, "n": n, "baseline": e.baseline, "background": e.background,
            "target": e.target, "output": e.reward.rawValue, "subtract_empty": !e.keepEmpty,
            "mask_at": e.maskAt ?? "", "linearity_shortcut_allowed": !e.noLinearity,
            "mode": s.mode.rawValue, "optimizer": s.optimizer.rawValue, "qthres": s.qthres,
            "precision": s.precision.rawValue, "salient_rule": rule.description,
            "selection": [
                "indices": e.dataset.indices ?? "", "all": e.dataset.all, "per_class": e.dataset.perClass ?? 0,
                "only_correct": e.dataset.onlyCorrect,
            ] as [String: Any],
        ]
        if let labels = e.labels {
            id["labels"] = labels
            id["labels_fingerprint"] = try Self.fingerprint(labels)
        }
        return id
    }

    /// Size and FNV-1a 64 of a file's bytes: enough to notice a changed model or input on resume.
    static func fingerprint(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarsanyiError.io(path: path, reason: "cannot read")
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        return "\(data.count) bytes, fnv1a64 \(String(h, radix: 16))"
    }

    static func readLabels(_ path: String, count: Int) throws -> [Int] {
        let a = try NPY.read(path)
        guard a.shape.count == 1, a.shape[0] == count else {
            throw HarsanyiError.badFile(
                path: path, reason: "expected \(count) labels (one per sample), shape \(a.shape)")
        }
        return try a.doubles().enumerated().map { i, y in
            guard y.isFinite, y >= 0, y == y.rounded() else {
                throw HarsanyiError.badFile(path: path, reason: "label \(i) is \(y), not a class number")
            }
            return Int(y)
        }
    }
}
