import Foundation
import HarsanyiCore
import HarsanyiONNX
import Testing

/// `harsanyi extract` on the language-model fixtures as a user runs it: token ids and the attention mask as
/// inputs, words as players, the [MASK] token's embedding as baseline; v against onnxruntime's masked logits, and
/// bad input as one line, exit 1, nothing written.
@Suite("extract on language models", .enabled(if: CLI.available, "the harsanyi binary is not built"))
struct TextCLITests {
    static func args(
        _ c: TextCase, out: String, backend: String = "cpu", ids: String? = nil, mask: String? = nil,
        words: String? = nil, baseline: String = "token:4"
    ) -> [String] {
        var a = [
            "extract", "--model", c.url(c.exporter + ".onnx"), "--input", ids ?? c.url("input_ids.npy"),
            "--input", "attention_mask=" + (mask ?? c.url("attention_mask.npy")),
            "--players", "words:" + (words ?? c.url("words.json")), "--baseline", baseline,
            "--out", out, "--backend", backend,
        ]
        if c.family == "bert" { a += ["--input", "token_type_ids=" + c.url("token_type_ids.npy")] }
        return a
    }

    /// Writes int64 `values` of `shape` as .npy (token ids, attention masks).
    static func writeInts(_ values: [Int], shape: [Int], to path: String) throws {
        var bytes = NPY.header(shape: shape, type: .int64)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
        try AtomicFile.write(bytes, to: path)
    }

    @Test("an encoder and a decoder: v matches onnxruntime on the reference subsets", arguments: ["cpu", "opencl"])
    func extract(_ backend: String) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for c in [TextCase(family: "bert", exporter: "legacy17"), TextCase(family: "gpt2", exporter: "dynamo18")]
        where backend == "cpu" || TestBackends.hasOpenCL {
            let out = "\(dir)/\(c.family)-\(backend)"
            let r = try CLI.run(Self.args(c, out: out, backend: backend))
            #expect(r.status == 0, "\(c.testDescription) \(backend): \(r.stderr)")
            let v = try NPY.read("\(out)/rewards.npy").doubles()
            let (subsets, rows, tol) = try c.maskedReference()
            let y = Int(try c.reference("target")[0])
            let v0 = TextCase.logOdds(rows[0], y)
            for (s, row) in zip(subsets, rows) {
                #expect(
                    abs(v[s] - (TextCase.logOdds(row, y) - v0)) <= 4 * tol,
                    "\(c.testDescription) \(backend): v(\(s)) = \(v[s]), want \(TextCase.logOdds(row, y) - v0)")
            }
            let summary = try String(contentsOfFile: "\(out)/summary.json", encoding: .utf8)
            #expect(summary.contains("\"target\" : \(y)") || summary.contains("\"target\": \(y)"), "\(summary)")
            let figure = try String(contentsOfFile: "\(out)/figure.svg", encoding: .utf8)
            #expect(
                figure.contains("wonderful") || figure.contains("terrible") || figure.contains("not"),
                "\(c.testDescription): the figure names no word")
        }
    }

    @Test("baseline learn writes an H-vector that extract takes; bad settings are one line and exit 1")
    func learn() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = TextCase(family: "bert", exporter: "legacy17")
        let common = [
            "--model", c.url("legacy17.onnx"), "--input", c.url("input_ids.npy"),
            "--input", "attention_mask=" + c.url("attention_mask.npy"),
            "--input", "token_type_ids=" + c.url("token_type_ids.npy"),
            "--players", "words:" + c.url("words.json"), "--backend", "cpu",
        ]
        let r = try CLI.run(
            ["baseline", "learn"] + common + ["--initial", "token:4", "--epochs", "2", "--out", "\(dir)/b.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        let b = try NPY.read("\(dir)/b.npy")
        #expect(b.shape == [32] && b.floats().allSatisfy(\.isFinite), "\(b.shape)")
        let e = try CLI.run(
            ["extract"] + common + ["--baseline", "tensor:\(dir)/b.npy", "--out", "\(dir)/r"])
        #expect(e.status == 0, "\(e.stderr)")
        let bad = try CLI.run(
            ["baseline", "learn"] + common + ["--initial", "token:4", "--epochs", "0", "--out", "\(dir)/c.npy"])
        #expect(bad.status == 1 && bad.stderr.contains("--epochs"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/c.npy"))
    }

    @Test("bad input: one line, exit 1, nothing written")
    func badInput() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = TextCase(family: "bert", exporter: "legacy17")
        let ids = try c.npy("input_ids.npy").ints.map { Int($0) }
        try Self.writeInts(ids.dropLast() + [500], shape: [1, ids.count], to: "\(dir)/oov.npy")
        try Self.writeInts(
            [Int](repeating: 1, count: ids.count - 1), shape: [1, ids.count - 1], to: "\(dir)/short.npy")
        try AtomicFile.write(#"{"words": [[1], [2, 40]]}"#, to: "\(dir)/beyond.json")
        try AtomicFile.write(#"{"words": [[0, 1], [2]], "special_ids": [2, 3]}"#, to: "\(dir)/cls.json")
        let out = "\(dir)/r"
        let runs: [([String], String)] = [
            (Self.args(c, out: out, ids: "\(dir)/oov.npy"), "outside the vocabulary"),
            (Self.args(c, out: out, mask: "\(dir)/short.npy"), "disagree on axis"),
            (Self.args(c, out: out, words: "\(dir)/beyond.json"), "beyond the sequence"),
            (Self.args(c, out: out, words: "\(dir)/cls.json"), "special token"),
            (Self.args(c, out: out, baseline: "token:147"), "outside the vocabulary"),
        ]
        for (args, message) in runs {
            let r = try CLI.run(args)
            #expect(r.status == 1, "\(args): status \(r.status)")
            let errors = r.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(errors.count == 1 && errors[0].contains(message), "\(message): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(message): wrote \(out)")
        }
    }
}
