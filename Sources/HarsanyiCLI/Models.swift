import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor
import HarsanyiPlot

extension RewardKind: ExpressibleByArgument {}

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "AND-OR interactions of an ONNX model on one sample: 2^n masked forward passes, then the engine.",
        discussion: """
            Players: grid:RxC (image cells), features:i,j,... (tabular columns), positions:p,q,... (sequence
            positions) or groups:FILE.json ({"players": [[element indices into the flattened sample], ...]}).
            Baseline: zero, value:X, mean:FILE.npy or tensor:FILE.npy (the sample's shape). Elements in no player
            are present unless --background masked. v = the --output of the --target class on each masked input.
            The masked forwards and the engine run on the selected backend (OpenCL kernels, or the CPU path with
            OpenBLAS); on OpenCL the masked inputs (or the linearity shortcut's rows) are made on the device and
            v stays there for the engine. v(empty) is subtracted (on the device too) as in every cited setup, unless
            --keep-empty. The target is the ground-truth label with --labels, else the predicted class.
            """)

    @OptionGroup var sampleOptions: SampleOptions
    @Option(help: "zero | value:X | mean:FILE.npy | tensor:FILE.npy")
    var baseline: String = "zero"
    @Option(help: "present (default) or masked: what happens to elements that belong to no player.")
    var background: String = "present"
    @Option(
        help: """
            label:K, predicted (the class the model predicts on the full sample) or auto: the label from --labels \
            when given, else predicted.
            """)
    var target: String = "auto"
    @Option(help: "Ground-truth labels (a 1-D integer .npy, one per sample of --input): the default target.")
    var labels: String?
    @Option(
        name: .customLong("output"), help: "log-odds (default), logit, log-prob, prob or binary (single-logit models).")
    var reward: RewardKind = .logOdds
    @Flag(help: "Keep v(empty) as the model gives it (default: subtract it so that v(empty) = 0, spec §13.4).")
    var keepEmpty = false
    @Flag(help: .hidden)
    var subtractEmpty = false
    @Option(
        help:
            """
            Masked inputs per forward batch (rounded down to a power of two; default on the CPU path: chosen per \
            model so that a batch's tensors fit 4 MiB (64 to 4096) and every core gets two batches or more; \
            \(Extract.openCLBatch) on OpenCL, where larger batches amortise the fixed cost of each kernel launch).
            """
    )
    var batch: Int?
    @Option(
        help:
            """
            Mask an intermediate tensor (e.g. a post-ReLU feature map) instead of the input: the prefix runs once, \
            the suffix 2^n times. Players and baseline then index that tensor (per sample).
            """
    )
    var maskAt: String?
    @Flag(
        help:
            "Do not use the linearity shortcut (the first operator after the mask point computed from n + 1 products).")
    var noLinearity = false
    @OptionGroup var result: ResultOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var options: BackendOptions

    @OptionGroup var dataset: DatasetOptions

    func run() throws {
        try reportingErrors {
            let rule = try checkedRule()
            if dataset.active {
                try DatasetRun(extract: self, rule: rule).run()
                return
            }
            try ResultDirectory.checkWritable(result.out, force: result.force)
            let (m, sampleTensor) = try sampleOptions.load()
            let n = try playerLists(model: m, sample: sampleTensor).count
            let selection = try options.select(requirement: requirement(n: n))
            let one = try extractSample(
                model: m, sample: sampleTensor, index: sampleOptions.index, selection: selection)
            print(one.line)
            let labels = MaskPoint.wordLabels(sampleOptions.players)
            try result.write(one.result, rule: rule, extra: one.extra, labels: labels)
            let figure = ExtractFigure.make(
                one.result, try InteractionAnalysis(one.result, rule: rule), sample: sampleTensor,
                players: sampleOptions.players, maskAt: maskAt, labels: labels)
            let path = result.out + "/figure.svg"
            do { try figure.write(to: path) } catch {
                throw HarsanyiError.io(path: path, reason: "cannot write the figure")
            }
        }
    }

    /// The salient rule, after the checks every extraction (single, dataset, dynamics) shares.
    func checkedRule() throws -> SalientRule {
        guard ["present", "masked"].contains(background) else {
            throw HarsanyiError.invalidArgument("--background must be present or masked")
        }
        guard !(keepEmpty && subtractEmpty) else {
            throw HarsanyiError.invalidArgument("--keep-empty and --subtract-empty contradict")
        }
        return try engine.rule()
    }

    /// What the backend must hold for n players: v, I_and, I_or, p, q and the optimisers' state (11 vectors).
    func requirement(n: Int) -> BackendRequirement {
        BackendRequirement(count: 1 << n, precision: engine.precision, buffers: 11, sparsifier: true)
    }

    /// The players' element lists in the tensor that is masked (the input, --mask-at's tensor, or the word
    /// embeddings of token ids).
    func playerLists(model m: ONNXModel, sample: Tensor) throws -> [[Int]] {
        try MaskPoint(model: m, sample: sample, maskAt: maskAt, players: sampleOptions.players)
            .players(sampleOptions.players)
    }

    /// One sample's extraction: 2^n masked forwards on the selected backend, then the engine. Returns the result,
    /// the summary's extra keys and the line `extract` prints. `quiet` mutes the per-phase progress bars (a
    /// dataset run shows one bar over all samples).
    func extractSample(model m: ONNXModel, sample sampleTensor: Tensor, index: Int, selection: BackendSelection)
        throws -> (result: InteractionResult, extra: [String: Any], line: String, target: Int, predicted: Int)
    {
        let players = sampleOptions.players
        let model = sampleOptions.model
        let input = sampleOptions.input
        let point = try MaskPoint(model: m, sample: sampleTensor, maskAt: maskAt, players: players, sample: index)
        let playerLists = try point.players(players, sample: index)
        let base = try point.baseline(baseline)
        let n = playerLists.count
        let total = 1 << n
        let driver = try Self.maskedForward(
            backend: selection.backend, model: m, sample: sampleTensor, maskAt: point.name, players: playerLists,
            baseline: base, maskBackground: background == "masked", batch: batch, linearity: !noLinearity)
        let full = try m.run(sampleTensor).asFloats
        guard !full.isEmpty, full.allSatisfy(\.isFinite) else {
            throw HarsanyiError.invalidArgument(
                "the model's output on the unmasked sample is empty or has NaN/Inf values")
        }
        if reward == .binary && full.count != 1 {
            throw HarsanyiError.invalidArgument(
                "--output binary needs a single-logit model; this one gives \(full.count) outputs (use log-odds)")
        }
        let classes = reward == .binary ? 2 : full.count
        let predicted: Int = reward == .binary ? (full[0] >= 0 ? 1 : 0) : Self.argmax(full)
        let (y, targetRule) = try TargetChoice.resolve(target, labels: labels, index: index, classes: classes) {
            predicted
        }
        if !ProgressBar.muted { Console.note("target class \(y): \(targetRule)") }
        // Cells whose elements all equal the baseline: masking them changes no input (reported and removed).
        let structuralNull = NullPlayers.structural(
            players: driver.players, sample: driver.sample, baseline: driver.baseline)
        let start = DispatchTime.now().uptimeNanoseconds
        let bar = ProgressBar(label: "masked forwards", total: total, unit: "samples")
        defer { bar.finish() }  // also when a batch fails: the error line starts on a line of its own
        let progress: (Int) -> Void = { done in
            bar.update(done)
            if done >= total { bar.finish() }
        }
        // On OpenCL, masked inputs (or the shortcut's rows) are made on the device and v stays there for the engine.
        let onDevice = try ModelExecution.devicePath(driver, backend: selection.backend)
        let r: InteractionResult
        let forwardSeconds: Double
        var emptyValue = 0.0  // v(∅) as the model gave it (subtracted unless --keep-empty)
        if let onDevice {
            let vBuffer = try onDevice.rewards(kind: reward, target: y, precision: engine.precision, progress: progress)
            if !keepEmpty, let ops = selection.backend as? any SparsifierOps {  // v ← v − v(∅), on the device
                let v0 = try selection.backend.makeBuffer(count: 1, precision: vBuffer.precision)
                try selection.backend.copyElement(from: vBuffer, at: 0, to: v0, at: 0)
                try ops.subtract(vBuffer, scalarAt: 0, of: v0)
                emptyValue = try selection.backend.readDoubles(v0)[0]
            }
            try selection.backend.finish()
            forwardSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            r = try engine.run(device: vBuffer, backend: selection.backend, knownNull: structuralNull)
        } else {
            var v = try driver.rewards(kind: reward, target: y, progress: progress)
            forwardSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            emptyValue = v[0]
            if !keepEmpty {
                let v0 = v[0]
                v = v.map { $0 - v0 }
            }
            r = try engine.run(v: v, backend: selection.backend, knownNull: structuralNull)
        }
        // A model the CPU program cannot compile (or only in part) runs through the interpreter: say so.
        var backendNote = onDevice != nil ? driver.executor + ", masked inputs and v on the device" : driver.executor
        if let cpu = driver.runner as? CPUSuffixRunner, cpu.status != "compiled" {
            if !ProgressBar.muted { Console.note("masked forwards on the CPU path: \(cpu.status)") }
            backendNote += ", " + cpu.status
        }
        let extra: [String: Any] = [
            "model": model, "input": input, "sample_index": index, "players": players, "player_elements": playerLists,
            "player_labels": MaskPoint.wordLabels(players) ?? NSNull(),
            "baseline": baseline, "background": background, "target": y, "target_rule": targetRule,
            "output": reward.rawValue, "predicted": predicted,
            "subtract_empty": !keepEmpty, "model_v_empty": keepEmpty ? r.v[0] : emptyValue,
            "forward_seconds_with_setup": forwardSeconds,
            "forward_backend": backendNote,
            "mask_at": point.name ?? m.input.name, "linearity_shortcut": driver.usesLinearity,
            "output_position": m.position.map { $0 as Any } ?? NSNull(),
            "masked_samples_per_second": Double(total) / max(forwardSeconds, 1e-9),
        ]
        // The time includes set-up: compiling the CPU program or the device plan and, on PoCL, its first-use kernel
        // builds.
        let line = String(
            format:
                "%@ sample %d, target class %d, %d masked forwards in %.2f s with set-up (%.0f samples/s on %@%@%@)",
            model, index, y, total, forwardSeconds, Double(total) / max(forwardSeconds, 1e-9), driver.executor,
            driver.usesLinearity ? ", linearity shortcut" : "", onDevice != nil ? ", on the device" : "")
        return (r, extra, line, y, predicted)
    }
}

extension Extract {
    static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }
}

/// The model, the sample and the players of a masked-forward job; shared by `extract` and `bench forward`.
struct SampleOptions: ParsableArguments {
    @Option(help: "ONNX model (float32 data input; other inputs given as NAME=FILE.npy).")
    var model: String
    @Option(
        name: .customLong("input"),
        help: """
            Input .npy: a batch of samples along axis 0; this input is masked. A model with several inputs: \
            the masked one first (FILE.npy or NAME=FILE.npy), then NAME=FILE.npy per other input, whose sample \
            --index is held fixed for every masked sample (token ids, attention masks).
            """)
    var inputs: [String]
    @Option(help: "Which sample of the batch.")
    var index: Int = 0
    @Option(help: "grid:RxC | features:i,j,... | positions:p,q,... | groups:FILE.json | words:FILE.json")
    var players: String
    @Option(
        help: """
            Sequence outputs [B, L, C] (causal LMs): the position whose row v is taken from (negative: from the \
            end). auto: the last position (the next-token prediction) when the declared output has rank 3; none: \
            the whole output.
            """)
    var position: String = "auto"

    /// An --input entry: NAME=FILE.npy (a name without '/', a file ending in .npy) or a plain file.
    static func split(_ entry: String) -> (name: String?, file: String) {
        if let eq = entry.firstIndex(of: "="), !entry[..<eq].contains("/"), entry.hasSuffix(".npy") {
            return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
        }
        return (nil, entry)
    }

    /// The masked input's file.
    var input: String { Self.split(inputs.first ?? "").file }
    /// The other inputs, by name.
    var fixedInputs: [(name: String, file: String)] {
        inputs.dropFirst().map { e in
            let (name, file) = Self.split(e)
            return (name ?? "", file)
        }
    }

    /// Sample `index` of a batch file as a [1, ...] tensor (integer arrays stay integer).
    func sample(of file: String) throws -> Tensor {
        let x = try NPY.read(file)
        guard x.shape.count >= 1, index >= 0, index < x.shape[0] else {
            throw HarsanyiError.invalidArgument("--index \(index) is outside the batch of \(x.shape.first ?? 0) samples in \(file)")
        }
        let t = Tensor(npy: x)
        let shape = [1] + x.shape.dropFirst(), size = shape.reduce(1, *)
        if t.dtype == .int64 { return Tensor(shape: shape, ints: Array(t.ints[(index * size)..<((index + 1) * size)])) }
        return Tensor(shape: shape, floats: Array(t.floats[(index * size)..<((index + 1) * size)]))
    }

    /// Loads the model and the chosen sample as a [1, ...] tensor, checked against the model's input shape.
    func load() throws -> (ONNXModel, Tensor) {
        guard !inputs.isEmpty else { throw HarsanyiError.invalidArgument("--input is missing") }
        var fixed: [String: Tensor] = [:]
        for (name, file) in fixedInputs {
            guard !name.isEmpty else {
                throw HarsanyiError.invalidArgument("--input \(file): inputs after the first are given as NAME=FILE.npy")
            }
            fixed[name] = try sample(of: file)
        }
        let choice: OutputPosition
        switch position {
        case "auto": choice = .lastOfSequence
        case "none": choice = .whole
        default:
            guard let k = Int(position) else {
                throw HarsanyiError.invalidArgument("--position must be auto, none or a position, got \(position)")
            }
            choice = .index(k)
        }
        let m = try ONNXModel(path: model, input: Self.split(inputs[0]).name, fixed: fixed, position: choice)
        let x = try sample(of: input)
        // Token ids (integers) are masked at their embeddings (MaskPoint); float inputs must be finite.
        guard x.dtype == .int64 || x.floats.allSatisfy(\.isFinite) else {
            throw HarsanyiError.badFile(path: input, reason: "sample \(index) has NaN or infinite values")
        }
        try m.checkInputShape(x.shape)
        return (m, x)
    }
}

extension Extract {
    static let openCLBatch = ModelExecution.openCLBatch

    /// The masked-forward driver on the selected backend (ModelExecution decides; its fallback note goes to stderr).
    static func maskedForward(
        backend: ComputeBackend, model: ONNXModel, sample: Tensor, maskAt: String?, players: [[Int]], baseline: [Float],
        maskBackground: Bool, batch: Int?, linearity: Bool
    ) throws -> MaskedForward {
        try ModelExecution.maskedForward(
            backend: backend, model: model, sample: sample, maskAt: maskAt, players: players, baseline: baseline,
            maskBackground: maskBackground, batch: batch, linearity: linearity
        ) { Console.note($0) }
    }
}

/// The first error of work run concurrently.
final class BatchFailure: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}

struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract:
            "Masked samples per second of the 2^n masked forward passes, with and without the linearity shortcut.",
        discussion: """
            On OpenCL this times the path `extract` uses: masked inputs (or the shortcut's rows) made on the device,
            v written by the reward kernel into a device buffer (wall time until the queue is drained).
            """)

    @OptionGroup var sampleOptions: SampleOptions
    @Option(
        help:
            """
            Masked inputs per batch (default: chosen per model on the CPU path, see extract --batch; \
            \(Extract.openCLBatch) on OpenCL, where larger batches amortise the fixed cost of each kernel launch).
            """
    )
    var batch: Int?
    @Option(help: "Timed measurements (median reported).")
    var `repeat`: Int = 3
    @Option(
        help: """
            Seconds per measurement: batches of masked samples (cycling through the 2^n subsets) run until this \
            much time has passed, at least one batch. Set-up (plan compilation, first batch) is timed separately.
            """)
    var seconds: Double = 2
    @Option(name: .customLong("baseline"), help: "As for extract (text models: token:ID).")
    var baselineSpec: String = "zero"
    @Flag(help: "Print one JSON object.")
    var json = false
    @Flag(help: "OpenCL: also print each kernel's device time for one full batch (event profiling) on stderr.")
    var profile = false
    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            let backend = try options.select(requirement: nil, quiet: json).backend
            let (m, sample) = try sampleOptions.load()
            let point = try MaskPoint(model: m, sample: sample, maskAt: nil, players: sampleOptions.players)
            let lists = try point.players(sampleOptions.players)
            let base = try point.baseline(baselineSpec)
            var result: [String: Any] = [
                "model": sampleOptions.model, "n": lists.count, "batch": batch.map { $0 as Any } ?? "auto",
            ]
            for linear in [false, true] {
                let f = try Extract.maskedForward(
                    backend: backend, model: m, sample: sample, maskAt: point.name, players: lists,
                    baseline: base, maskBackground: false, batch: self.batch,
                    linearity: linear)
                result["executor"] = f.executor
                result[linear ? "shortcut_batch" : "plain_batch"] = f.batchSize
                // One step = one batch of masked samples, cycling through the 2^n subsets.
                let total = 1 << lists.count
                var start = 0, batchCount = min(f.batchSize, total)
                // CPU path: as many batches at once as there are cores, as `extract` runs them (MaskedForward.rewards).
                // Four batches per core per step, scheduled dynamically (as rewards does over the 2^n set), so that one
                // slow batch does not idle the other cores at every step.
                let perStep = 4 * ProcessInfo.processInfo.activeProcessorCount
                var step: () throws -> Int = {
                    let starts = (0..<perStep).map { (start + $0 * batchCount) % total }
                    let counts = starts.map { min(batchCount, total - $0) }
                    let failure = BatchFailure()
                    nonisolated(unsafe) let forward = f  // outputs(from:count:) is safe concurrently (rewards uses it so)
                    DispatchQueue.concurrentPerform(iterations: perStep) { k in
                        do { _ = try forward.outputs(from: starts[k], count: counts[k]) } catch { failure.record(error) }
                    }
                    if let e = failure.error { throw e }
                    start = (starts[perStep - 1] + counts[perStep - 1]) % total
                    return counts.reduce(0, +)
                }
                var drain: () throws -> Void = {}
                // Set-up: one batch, which compiles the plan for the batch size (then cached).
                var first: () throws -> Void = { _ = try f.outputs(from: 0, count: batchCount) }
                if let cl = backend as? OpenCLBackend, let d = try ModelExecution.devicePath(f, backend: cl) {
                    result["executor"] = f.executor + ", masked inputs and v on the device"
                    result["batch"] = d.batch
                    result[linear ? "shortcut_batch" : "plain_batch"] = d.batch
                    batchCount = min(d.batch, total)
                    let v = try cl.makeBuffer(count: total, precision: .float32)
                    step = {
                        let count = min(batchCount, total - start)
                        try d.enqueueRewards(from: start, count: count, kind: .logit, target: 0, precision: .float32, into: v)
                        start = (start + count) % total
                        return count
                    }
                    drain = { try cl.finish() }
                    first = {
                        try d.enqueueRewards(from: 0, count: batchCount, kind: .logit, target: 0, precision: .float32, into: v)
                    }
                    if profile {
                        let p = try d.profile()
                        let total = p.reduce(0) { $0 + $1.seconds }
                        Console.note(
                            String(
                                format: "%@ kernels, batch %d: %.3f ms",
                                linear && f.usesLinearity ? "shortcut" : "plain", d.batch, total * 1e3))
                        for (node, kernel, s) in p {
                            Console.note(String(format: "  %-24@ %-14@ %8.3f ms", node, kernel, s * 1e3))
                        }
                    }
                }
                let setup = try wall {
                    try first()
                    try drain()
                }
                result[linear ? "shortcut_setup_s" : "plain_setup_s"] = setup
                var rates: [Double] = []
                for _ in 0..<max(1, self.repeat) {
                    var done = 0
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    var elapsed = 0.0
                    repeat {
                        done += try step()
                        if done % (batchCount * 2) == 0 { try drain() }  // two batches in flight at most
                        elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                    } while elapsed < seconds
                    try drain()
                    rates.append(Double(done) / (Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9))
                }
                let key =
                    linear
                    ? (f.usesLinearity ? "shortcut_samples_per_s" : "shortcut_not_applicable") : "plain_samples_per_s"
                result[key] = f.usesLinearity || !linear ? median(rates) : true
            }
            for line in OperatorProfile.report() { Console.note("operator time: " + line) }
            if json {
                print(
                    String(
                        decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]),
                        as: UTF8.self))
            } else {
                print(result.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            }
        }
    }
}
