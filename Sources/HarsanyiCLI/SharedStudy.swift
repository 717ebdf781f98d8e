import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiSolvers

/// The samples of one dataset run per model, matched by sample index, for the joint extraction.
struct SharedStudy {
    /// Identity keys every model's run must share: same samples, players, masking and target rule.
    static let sameKeys = [
        "input_fingerprint", "n", "players", "mask_at", "baseline", "background", "output", "subtract_empty", "target",
    ]

    let runs: [String]
    let n: Int
    let settings: JointDecomposition.Settings
    /// Per model, its samples by index.
    let perModel: [[Int: RunSamples.Sample]]
    /// The sample indices done in every run with the same target in every run, increasing.
    let samples: [Int]
    /// The samples left out and why, for the report.
    let leftOut: [String]
    /// c_i = pthres·|mean over the samples of v_i(N) − v_i(∅)| (fixed by the first, training, set with `like`).
    let pBound: [Double]

    var note: String {
        leftOut.isEmpty ? "every sample in all runs" : "\(leftOut.count) sample(s) left out (\(leftOut[0]), ...)"
    }

    init(runs: [String], settings: JointDecomposition.Settings, like reference: SharedStudy? = nil) throws {
        let loaded = try runs.map { try RunSamples(runs: [$0]) }
        for (path, run) in zip(runs, loaded).dropFirst() {
            for key in Self.sameKeys
            where RunIndex.canonical(run.identity[key] ?? "") != RunIndex.canonical(loaded[0].identity[key] ?? "") {
                throw HarsanyiError.invalidArgument(
                    "\(path) and \(runs[0]) differ in \(key): the joint extraction needs the same samples, players, "
                        + "masking and target in every model's run")
            }
        }
        if let reference, loaded[0].n != reference.n {
            throw HarsanyiError.invalidArgument("--test runs have n = \(loaded[0].n), the runs n = \(reference.n)")
        }
        let maps = loaded.map { run in Dictionary(uniqueKeysWithValues: run.samples.map { ($0.index, $0) }) }
        var common = Set(maps[0].keys)
        for m in maps.dropFirst() { common.formIntersection(m.keys) }
        var left: [String] = Set(maps.flatMap(\.keys)).subtracting(common).sorted().map {
            "sample \($0): not done in every run"
        }
        var chosen: [Int] = []
        for i in common.sorted() {
            let targets = maps.map { $0[i]!.target }
            if Set(targets.map { $0 ?? -1 }).count > 1 {
                left.append("sample \(i): the runs' targets differ (\(targets.map { $0.map(String.init) ?? "-" }))")
            } else {
                chosen.append(i)
            }
        }
        guard !chosen.isEmpty else {
            throw HarsanyiError.invalidArgument("no sample is done in every run with the same target")
        }
        self.runs = runs
        n = loaded[0].n
        self.settings = settings
        perModel = maps
        samples = chosen
        leftOut = left
        pBound =
            reference?.pBound
            ?? maps.map { m in
                settings.pthres * abs(chosen.map { m[$0]!.spread }.reduce(0, +) / Double(chosen.count))
            }
    }

    /// The joint extraction of every sample, with the per-model single extractions beside it.
    func extract(label: String) throws -> (samples: [SharedInteractions.Sample], results: [JointDecomposition.Result]) {
        let bar = ProgressBar(label: label, total: samples.count, unit: "samples")
        defer { bar.finish() }
        var out: [SharedInteractions.Sample] = []
        var results: [JointDecomposition.Result] = []
        for (k, i) in samples.enumerated() {
            let models = perModel.map { $0[i]! }
            let r: JointDecomposition.Result
            do {
                r = try JointDecomposition.run(v: models.map(\.v), pBound: pBound, settings: settings)
            } catch let e as HarsanyiError {
                throw HarsanyiError.invalidArgument("sample \(i): \(e)")
            }
            results.append(r)
            out.append(
                SharedInteractions.Sample(
                    index: i, target: models[0].target, joint: r.reorganized,
                    single: models.map { ($0.iand, $0.ior) }, spread: models.map(\.spread)))
            bar.update(k + 1, detail: "sample \(i)")
        }
        return (out, results)
    }
}
