import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor
import HarsanyiTestSupport
import Testing

/// Masked outputs must match onnxruntime within this fraction of the largest logit magnitude (the issue's 1e-4
/// relative; float32 transformer layers here agree with onnxruntime to ~1e-6 of it).
let textTolerance = 1e-4

/// A tiny language model of one family under one exporter (Tests/Tools/make_text_fixtures.py): a sentence with
/// words (some of two sub-word tokens) as players, the [MASK] token's embedding as baseline, onnxruntime's logits
/// on the plain sentence and on 18 masked versions (the words of each subset kept, the others' embeddings replaced).
struct TextCase: CustomTestStringConvertible, Sendable {
    let family: String
    let exporter: String
    var testDescription: String { "\(family) \(exporter)" }

    static let dir = OperatorCase.dir.deletingLastPathComponent().appendingPathComponent("text")
    static let encoders = ["bert", "distilbert", "roberta"]
    static let decoders = ["gpt2", "llama", "opt"]
    static let all: [TextCase] = (encoders + decoders).flatMap { f in
        ["legacy17", "dynamo18"].map { TextCase(family: f, exporter: $0) }
    }.filter { FileManager.default.fileExists(atPath: $0.url($0.exporter + ".onnx")) }

    var decoder: Bool { Self.decoders.contains(family) }
    /// Encoders' other samples (file suffix, reference key): a padded sentence; BERT also 128 and 512 tokens.
    var lengthVariants: [(suffix: String, key: String)] {
        [("_padded", "plain_logits_padded")]
            + (family == "bert" ? [("_len128", "plain_logits_len128"), ("_len512", "plain_logits_len512")] : [])
    }
    func url(_ file: String) -> String { Self.dir.appendingPathComponent(family).appendingPathComponent(file).path }
    func npy(_ file: String) throws -> Tensor { Tensor(npy: try NPY.read(url(file))) }
    func reference(_ key: String) throws -> [Double] { try NPY.read(url("ref/\(key).npy")).doubles() }

    /// The model with the attention mask (and token types) held, `suffix` naming the sample files' variant.
    func model(suffix: String = "", position: OutputPosition = .lastOfSequence) throws -> ONNXModel {
        var fixed = ["attention_mask": try npy("attention_mask\(suffix).npy")]
        if FileManager.default.fileExists(atPath: url("token_type_ids\(suffix).npy")) {
            fixed["token_type_ids"] = try npy("token_type_ids\(suffix).npy")
        }
        return try ONNXModel(path: url(exporter + ".onnx"), input: "input_ids", fixed: fixed, position: position)
    }

    var baselineToken: Int {
        get throws {
            let text = try String(contentsOfFile: url("baseline_token.txt"), encoding: .utf8)
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    /// The masked-forward driver at the word embeddings; `runner` as in `MaskedForward`.
    func driver(runner: ((SuffixPlan) throws -> BatchRunner)? = nil) throws -> (MaskedForward, ONNXModel) {
        let m = try model()
        let ids = try npy("input_ids.npy")
        let lookup = try TokenEmbedding(model: m)
        let plan = try SuffixPlan(model: m, start: lookup.output, sample: ids)
        let players = try PlayerSpec.words(url("words.json")).resolve(sampleShape: plan.sampleShape)
        let baseline = try Baseline.token(try baselineToken).resolve(shape: plan.sampleShape, embedding: lookup)
        let f =
            try runner.map {
                try MaskedForward(
                    model: m, sample: ids, maskAt: lookup.output, players: players, baseline: baseline, batchSize: 8,
                    runner: $0)
            }
            ?? MaskedForward(
                model: m, sample: ids, maskAt: lookup.output, players: players, baseline: baseline, batchSize: 8)
        return (f, m)
    }

    /// onnxruntime's masked logits row by row with their subsets, and the tolerance.
    func maskedReference() throws -> (subsets: [Int], rows: [[Double]], tolerance: Double) {
        let subsets = try reference("subsets").map { Int($0) }
        let logits = try reference("masked_logits")
        let width = logits.count / subsets.count
        let rows = (0..<subsets.count).map { Array(logits[($0 * width)..<(($0 + 1) * width)]) }
        return (subsets, rows, textTolerance * max(1, logits.map(abs).max() ?? 0))
    }

    /// log p_y / (1 − p_y) of a logit row, in Double (the independent reference of v).
    static func logOdds(_ z: [Double], _ y: Int) -> Double {
        let rest = z.enumerated().filter { $0.offset != y }.map(\.element)
        let m = rest.max() ?? 0
        return z[y] - m - log(rest.reduce(0) { $0 + exp($1 - m) })
    }

    /// Checks a driver's rows and v on the reference subsets; `v` is every subset's v from the driver's path.
    func checkMasked(_ f: MaskedForward, v: [Double], label: String) throws {
        let (subsets, rows, tol) = try maskedReference()
        let y = Int(try reference("target")[0])
        for (s, want) in zip(subsets, rows) {
            let got = try f.outputs(from: s, count: 1).asFloats
            expectClose(got, want, tolerance: tol, "\(testDescription) \(label) subset \(s)")
            let v0 = Self.logOdds(rows[subsets.firstIndex(of: 0)!], y)
            #expect(
                abs(v[s] - (Self.logOdds(want, y) - v0)) <= 4 * tol,
                "\(testDescription) \(label) v(\(s)) = \(v[s]), want \(Self.logOdds(want, y) - v0)")
        }
    }
}

@Suite("language models: words masked at the embeddings, against onnxruntime")
struct TextModelTests {
    @Test("the fixtures cover six families and both exporters")
    func inventory() {
        #expect(Set(TextCase.all.map(\.family)).count == 6, "families: \(TextCase.all.map(\.testDescription))")
        #expect(TextCase.all.filter { $0.exporter == "dynamo18" }.count >= 5)
    }

    @Test("plain outputs: interpreter and compiled CPU path", arguments: TextCase.all)
    func plain(_ c: TextCase) throws {
        let whole = try c.model(position: .whole)
        let want = try c.reference("plain_logits")
        let tol = textTolerance * max(1, want.map(abs).max() ?? 0)
        let ids = try c.npy("input_ids.npy")
        expectClose(try whole.run(ids).asFloats, want, tolerance: tol, "\(c.testDescription) interpreter")
        let (got, status) = try Self.compiled(whole, ids)
        expectClose(got, want, tolerance: tol, "\(c.testDescription) \(status)")
        if c.decoder {  // the last position's row is the output with --position auto
            let last = try c.model()
            #expect(last.position == -1)
            expectClose(try last.run(ids).asFloats, Array(want.suffix(want.count / ids.count)), tolerance: tol, "last")
        }
    }

    /// The model's output on `ids` from the compiled CPU program of everything after the word embeddings (the
    /// part the masked forwards run), and what ran it.
    static func compiled(_ m: ONNXModel, _ ids: Tensor) throws -> ([Float], String) {
        let plan = try SuffixPlan(model: m, start: try TokenEmbedding(model: m).output, sample: ids)
        let runner = CPUSuffixRunner(plan, compiled: true)
        let y = try runner.run(Tensor(shape: [1] + plan.sampleShape, floats: plan.sampleValue))
        return (y.asFloats, runner.status)
    }

    @Test("masked forwards and v on the CPU path", arguments: TextCase.all)
    func maskedCPU(_ c: TextCase) throws {
        let (f, m) = try c.driver()
        let names = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: URL(fileURLWithPath: c.url("ref/embedding_output.json"))))
        #expect(try TokenEmbedding(model: m).output == names[c.exporter], "\(c.testDescription): the lookup found")
        let y = Int(try c.reference("target")[0])
        let v = try f.rewards(kind: .logOdds, target: y)
        try c.checkMasked(f, v: v.map { $0 - v[0] }, label: "cpu")
    }

    @Test(
        "encoders: a padded sentence and sequences of 128 and 512 tokens",
        arguments: TextCase.all.filter { !$0.decoder })
    func lengths(_ c: TextCase) throws {
        for (suffix, key) in c.lengthVariants {
            let want = try c.reference(key)
            let m = try c.model(suffix: suffix)
            let ids = try c.npy("input_ids\(suffix).npy")
            let (got, status) = try Self.compiled(m, ids)
            let tol = textTolerance * max(1, want.map(abs).max()!)
            expectClose(got, want, tolerance: tol, "\(c.testDescription)\(suffix) \(status)")
            expectClose(try m.run(ids).asFloats, want, tolerance: tol, "\(c.testDescription)\(suffix) interpreter")
        }
    }

    @Test("bad input: ids outside the vocabulary, mismatched shapes, words outside the sentence or on [CLS]")
    func badInput() throws {
        let c = TextCase(family: "bert", exporter: "legacy17")
        let m = try c.model()
        let lookup = try TokenEmbedding(model: m)
        let ids = try c.npy("input_ids.npy").ints.map { Int($0) }
        #expect(throws: HarsanyiError.self) { try lookup.checkIDs(ids + [lookup.vocabulary]) }
        #expect(throws: HarsanyiError.self) { try lookup.checkIDs([-1] + ids) }
        #expect(throws: HarsanyiError.self) { try m.checkInputShape([1, ids.count + 1]) }
        let words = try WordPlayers(file: c.url("words.json"))
        try words.check(ids: ids, attentionMask: nil)
        #expect(throws: HarsanyiError.self) { try words.check(ids: Array(ids.prefix(5)), attentionMask: nil) }
        let padded = [1, 0] + [Int](repeating: 1, count: ids.count - 2)  // word 0 ([1]) on padding
        #expect(throws: HarsanyiError.self) { try words.check(ids: ids, attentionMask: padded) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("harsanyi-words-cls.json")
        try Data(#"{"words": [[0], [1, 2]], "special_ids": [\#(ids[0])]}"#.utf8).write(to: file)
        #expect(throws: HarsanyiError.self) { try WordPlayers(file: file.path).check(ids: ids, attentionMask: nil) }
        #expect(throws: HarsanyiError.self) {
            try Baseline.token(lookup.vocabulary).resolve(shape: [ids.count, lookup.width], embedding: lookup)
        }
    }
}

@Suite("language models on OpenCL", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct TextModelOpenCLTests {
    static var backend: OpenCLBackend { TestBackends.opencl(.cpuStyle) }

    @Test("plain outputs, masked forwards and v made on the device", arguments: TextCase.all)
    func opencl(_ c: TextCase) throws {
        let whole = try c.model(position: .whole)
        let want = try c.reference("plain_logits")
        let ids = try c.npy("input_ids.npy")
        let cl = try OpenCLModel(whole, backend: Self.backend)
        expectClose(
            try cl.run(ids).asFloats, want, tolerance: textTolerance * max(1, want.map(abs).max() ?? 0),
            "\(c.testDescription) OpenCL plain")
        let (f, _) = try c.driver { try OpenCLModel(suffix: $0, backend: Self.backend) }
        let y = Int(try c.reference("target")[0])
        let device = try #require(try ModelExecution.devicePath(f, backend: Self.backend), "no device path")
        let v = try Self.backend.readDoubles(
            try device.rewards(kind: .logOdds, target: y, precision: .float32))
        try c.checkMasked(f, v: v.map { $0 - v[0] }, label: "OpenCL")
    }

    /// Every Softmax of the fixtures sits in an attention chain: with fusion, each runs as one `attention` launch
    /// and the masked rows equal those of the node-by-node plan (same sums in the same order up to the GEMM's
    /// blocking: 1e-5 of the largest logit).
    @Test("attention chains fused into one kernel, same rows as node by node", arguments: TextCase.all)
    func fusedAttention(_ c: TextCase) throws {
        let m = try c.model()
        let ids = try c.npy("input_ids.npy")
        let plan = try SuffixPlan(model: m, start: try TokenEmbedding(model: m).output, sample: ids)
        let fused = try OpenCLModel(suffix: plan, backend: Self.backend)
        let plain = try OpenCLModel(
            suffix: plan, backend: Self.backend, options: OpenCLModel.Options(fuseAttention: false))
        let softmaxes = plan.steps.filter { $0.op == "Softmax" }.count
        let how = try fused.explain([
            fused.inputNames[0]: Tensor(shape: [1] + plan.sampleShape, floats: plan.sampleValue)
        ])
        .map(\.how)
        #expect(how.filter { $0.contains("nn_attention.attention") }.count == softmaxes, "\(c.testDescription)")
        #expect(!how.contains { $0.contains("softmax") }, "\(c.testDescription): a softmax ran unfused")
        var rng = SplitMix64(seed: 11)
        let rows = 8
        let size = plan.sampleValue.count
        var x = [Float](repeating: 0, count: rows * size)
        for r in 0..<rows {
            for i in 0..<size {
                x[r * size + i] = plan.sampleValue[i] * Float(Double.random(in: 0.5..<1.5, using: &rng))
            }
        }
        let batch = Tensor(shape: [rows] + plan.sampleShape, floats: x)
        let want = try plain.run(batch).asFloats.map(Double.init)
        expectClose(
            try fused.run(batch).asFloats, want, tolerance: 1e-5 * max(1, want.map(abs).max() ?? 0),
            "\(c.testDescription) fused vs node by node (seed 11)")
    }

    @Test("encoders: a padded sentence and 128 and 512 tokens", arguments: TextCase.all.filter { !$0.decoder })
    func lengths(_ c: TextCase) throws {
        for (suffix, key) in c.lengthVariants {
            let want = try c.reference(key)
            let m = try c.model(suffix: suffix)
            let ids = try c.npy("input_ids\(suffix).npy")
            let plan = try SuffixPlan(model: m, start: try TokenEmbedding(model: m).output, sample: ids)
            let cl = try OpenCLModel(suffix: plan, backend: Self.backend)
            let y = try cl.run(Tensor(shape: [1] + plan.sampleShape, floats: plan.sampleValue))
            expectClose(
                y.asFloats, want, tolerance: textTolerance * max(1, want.map(abs).max()!),
                "\(c.testDescription)\(suffix) OpenCL")
        }
    }
}
