import Foundation
import HarsanyiCore
import HarsanyiTestSupport
import Testing

/// `extract` end to end with the certified defaults: v(∅) subtracted (on the device too), the target rule, null
/// players and the optimality report, checked against an independent recomputation from the written files.
@Suite(
    "extract: certified defaults",
    .enabled(if: CLI.available, "the harsanyi binary is not built (run swift build first)"))
struct ExtractCertifiedTests {
    static let model = CLI.root.appendingPathComponent("Tests/Fixtures/onnx/lenet_digits.onnx").path
    static let input = CLI.root.appendingPathComponent("Tests/Fixtures/onnx/lenet_digits.inputs.npy").path
    static let labels = CLI.root.appendingPathComponent("Tests/Fixtures/onnx/lenet_digits.labels.npy").path

    func extract(_ backend: String, _ extra: [String]) throws -> (CLI.Result, String) {
        let out = CLI.tempDir() + "/r"
        let r = try CLI.run(
            [
                "extract", "--model", Self.model, "--input", Self.input, "--players", "grid:3x4", "--out", out,
                "--backend", backend,
            ] + extra)
        return (r, out)
    }

    func summary(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Σ|M_and·v_and| + Σ|M_or·v_or| from the written v, p, q with the O(3^n) Double references (not the solver's),
    /// on the v the solver is documented to decompose: v(S ∖ D) with D the null players (equal to v where the forward
    /// pass is exact; the CPU path's round-off can move v(S ∪ {d}) by ~1e-7 for a cell equal to the baseline).
    func referenceLoss(_ dir: String, bound: Double, null: [Int]) throws -> Double {
        let raw = try NPY.read(dir + "/rewards.npy").doubles()
        let p = try NPY.read(dir + "/p.npy").doubles()
        let mask = null.reduce(0) { $0 | 1 << $1 }
        let v = raw.indices.map { raw[$0 & ~mask] }
        let q = try NPY.read(dir + "/q.npy").doubles()
        #expect(q.allSatisfy { abs($0) <= bound * (1 + 1e-12) }, "q leaves its box ±\(bound)")
        let vAnd = v.indices.map { 0.5 * (v[$0] + q[$0]) + p[$0] }
        let vOr = v.indices.map { 0.5 * (v[$0] + q[$0]) - p[$0] }
        return Reference.transform(.and, vAnd).map(abs).reduce(0, +)
            + Reference.transform(.or, vOr).map(abs).reduce(0, +)
    }

    @Test("defaults on the CPU path: v(∅) subtracted, predicted target said, null players, exact optimum certified")
    func defaultsCPU() throws { try defaults("cpu") }

    @Test(
        "defaults on OpenCL (v made and v(∅) subtracted on the device)",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func defaultsOpenCL() throws { try defaults("opencl") }

    @Test("--keep-empty on the CPU path")
    func keepEmptyCPU() throws { try keepEmpty("cpu") }

    @Test("--keep-empty on OpenCL", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func keepEmptyOpenCL() throws { try keepEmpty("opencl") }

    func defaults(_ backend: String) throws {
        let (r, dir) = try extract(backend, [])
        try #require(r.status == 0, "\(backend): \(r.stderr)")
        let s = try summary(dir)
        #expect(
            s["subtract_empty"] as? Bool == true && (s["v_empty"] as? Double) == 0, "\(backend): v(∅) not subtracted")
        #expect(
            (s["target_rule"] as? String)?.contains("predicted") == true && r.stderr.contains("the predicted class"))
        // Cells 0, 3, 4 and 8 of the 3 × 4 grid are blank in sample 0 (equal to the zero baseline).
        #expect(
            s["null_players"] as? [Int] == [0, 3, 4, 8],
            "\(backend): null players \(String(describing: s["null_players"]))")
        let o = try #require(s["optimality"] as? [String: Any])
        let loss = try #require(o["loss"] as? Double)
        let bound = try #require(o["lower_bound"] as? Double)
        #expect(o["status"] as? String == "optimal" && abs(loss - bound) <= 1e-9 * loss, "\(backend): \(o)")
        let settings = try #require(s["settings"] as? [String: Any])
        let qBound = try #require(settings["q_bound"] as? Double)
        let recomputed = try referenceLoss(dir, bound: qBound, null: [0, 3, 4, 8])
        let deviation = try #require(s["null_player_deviation"] as? Double)
        #expect(deviation <= 1e-5, "\(backend): null cells move v by \(deviation)")
        #expect(abs(recomputed - loss) <= 1e-9 * loss, "\(backend): loss \(loss) vs recomputed \(recomputed)")
        #expect(r.stdout.contains("lower bound") && r.stdout.contains("null players"))
    }

    /// --keep-empty keeps v(∅); the default run's v is the kept v minus v(∅).
    func keepEmpty(_ backend: String) throws {
        let (a, kept) = try extract(backend, ["--keep-empty", "--mode", "and"])
        let (b, subtracted) = try extract(backend, ["--mode", "and"])
        try #require(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        let v = try NPY.read(kept + "/rewards.npy").doubles()
        let w = try NPY.read(subtracted + "/rewards.npy").doubles()
        #expect(v[0] != 0 && w[0] == 0)
        let recorded = try #require(try summary(subtracted)["model_v_empty"] as? Double)
        #expect(abs(recorded - v[0]) <= 1e-6 * abs(v[0]), "\(backend): model_v_empty \(recorded) vs v(∅) \(v[0])")
        // float32 v: the subtraction is one rounding of values below 16 in magnitude.
        expectClose(w, v.map { $0 - v[0] }, tolerance: 4e-6, "\(backend) subtracted v")
    }

    @Test("--labels makes the ground truth the target; out-of-range and malformed targets fail with one line")
    func targets() throws {
        let (r, dir) = try extract("cpu", ["--labels", Self.labels, "--mode", "and"])
        try #require(r.status == 0, "\(r.stderr)")
        let y = Int(try NPY.read(Self.labels).doubles()[0])
        let s = try summary(dir)
        #expect(s["target"] as? Int == y && (s["target_rule"] as? String)?.contains("ground-truth") == true)
        for bad in [
            ["--target", "label:10"], ["--target", "label:-1"], ["--target", "label"], ["--target", "soon"],
        ] {
            let (e, _) = try extract("cpu", bad + ["--mode", "and"])
            let lines = e.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(e.status == 1 && lines.count == 1, "\(bad): status \(e.status), stderr \(e.stderr)")
        }
    }

    @Test("interactions: NaN in v, a zero noise bound in mode pq, exact past its limit: one line, exit 1")
    func badInput() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write([0, 1, .nan, 2], to: dir + "/nan.npy")
        try NPY.write([1, 2, 3, 1], to: dir + "/flat.npy")
        var rng = SplitMix64(seed: seed(17, 3))
        try NPY.write(rng.uniform(1 << 17), to: dir + "/big.npy")
        for (file, extra, needle) in [
            ("nan", [String](), "not finite"), ("flat", [], "mode p"), ("big", ["--optimizer", "exact"], "pdlp"),
        ] {
            let r = try CLI.run(
                ["interactions", "--values", "\(dir)/\(file).npy", "--out", "\(dir)/o_\(file)", "--backend", "cpu"]
                    + extra)
            let lines = r.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(r.status == 1 && lines.count == 1 && r.stderr.contains(needle), "\(file): \(r.status) \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/o_\(file)"), "\(file): a result folder was written")
        }
    }
}
