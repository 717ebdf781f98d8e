import Foundation
import HarsanyiCore
import Testing

/// The cases of `Tests/Fixtures/cli/manifest.json` (written by `Tests/Tools/make_cli_fixtures.py` from onnxruntime).
enum CLIFixtures {
    static let dir = CLI.root.appendingPathComponent("Tests/Fixtures/cli")
    static let manifestPath = dir.appendingPathComponent("manifest.json").path
    /// The manifest holds at least these many cases; fewer means a truncated or wrong manifest.
    static let minimumExtractCases = 8
    static let minimumForwardCases = 6

    struct ExtractCase: Decodable {
        let name: String
        let description: String
        let args: [String]
        let n: Int
        let players: String
        let playerElements: [[Int]]
        let baseline: String
        let maskAt: String
        let target: Int
        let targetRule: String
        let output: String
        let subtractEmpty: Bool
        let modelVEmpty: Double
        let vFull: Double
        let logitScale: Double
        let maxAbsV: Double
        let maxAbsIand: Double
        let minPlayerEffect: Double
        let files: [String: String]

        /// `--mode and`: the engine returns I_and = Möbius(v) exactly (no optimisation), so Iand.npy has a reference.
        var modeAnd: Bool { zip(args, args.dropFirst()).contains { $0 == "--mode" && $1 == "and" } }
    }

    struct ForwardCase: Decodable {
        let name: String
        let args: [String]
        let outputName: String
        let shape: [Int]
        let scale: Double
        let expected: String
    }

    struct Manifest: Decodable {
        let extract: [ExtractCase]
        let forward: [ForwardCase]
    }

    static let manifest: Result<Manifest, any Error> = Result {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
    }

    /// `{root}/` in the manifest stands for the repository root.
    static func resolve(_ s: String) -> String { s.replacingOccurrences(of: "{root}", with: CLI.root.path) }
    static func path(_ relative: String) -> String { CLI.root.appendingPathComponent(relative).path }

    /// A name that no case has: a missing or empty manifest yields this one argument, whose test then fails.
    static let missing = "(no cases: \(manifestPath) is missing, unreadable or empty)"

    static func names(_ filter: (ExtractCase) -> Bool = { _ in true }) -> [String] {
        let names = ((try? manifest.get())?.extract ?? []).filter(filter).map(\.name)
        return names.isEmpty ? [missing] : names
    }

    static var forwardNames: [String] {
        let names = ((try? manifest.get())?.forward ?? []).map(\.name)
        return names.isEmpty ? [missing] : names
    }

    static func extractCase(_ name: String) throws -> ExtractCase {
        try #require(try manifest.get().extract.first { $0.name == name }, "no extract case '\(name)'")
    }

    static func forwardCase(_ name: String) throws -> ForwardCase {
        try #require(try manifest.get().forward.first { $0.name == name }, "no forward case '\(name)'")
    }
}

/// Tolerances of the CLI's outputs against onnxruntime, derived from the float32 round-off of one forward pass.
enum CLITolerance {
    /// Absolute error allowed on one float32 logit z: 32 ulps (2^-23 each) of the largest |z| of the case. Both
    /// sides run the same float32 operations in different summation orders (onnxruntime's kernels vs OpenBLAS or
    /// the OpenCL kernels); every partial sum of these small nets (at most 288 products per dot product) is
    /// bounded by a few times the logit scale. Measured: at most 3.6e-7·scale (3 ulps) on the CPU path and on
    /// PoCL; 32 ulps leaves a factor 10 for devices with other reduction orders or FMA contraction. This is 26×
    /// tighter than `onnxTolerance` (1e-4), so that the bound it implies on I (below) stays meaningful.
    static func logit(scale: Double) -> Double { 32 * Double(Float.ulpOfOne) * max(1, scale) }

    /// δ_v, the error allowed on one v(S), from the logit error ε: logit and binary use one logit (ε); log-odds
    /// and log-prob are z_y minus a logsumexp, which moves by at most max_c |Δz_c| (2ε); prob moves by
    /// p(1 − p)·Δ(log-odds) ≤ (1/4)·2ε = ε/2.
    static func v(output: String, scale: Double) -> Double {
        let factor: Double
        switch output {
        case "logit", "binary": factor = 1
        case "prob": factor = 0.5
        default: factor = 2  // log-odds, log-prob
        }
        return factor * logit(scale: scale)
    }

    /// The error allowed on I_and(S) = Σ_{T⊆S} (−1)^{|S|−|T|} v(T): 2^|S| terms, each v(T) off by at most δ_v, so
    /// 2^|S|·δ_v; plus the engine's own round-off at `epsilon` (its precision's machine epsilon): v stored at that
    /// precision (≤ ε/2·max|v| each) and |S| butterfly stages whose stage-k partial sums (2^k terms of v) round
    /// once each, ≤ 2^|S|·(|S| + 1)·ε/2·max|v| in all (negligible for float64).
    static func iand(order: Int, deltaV: Double, maxAbsV: Double, epsilon: Double) -> Double {
        pow(2, Double(order)) * (deltaV + Double(order + 1) * epsilon / 2 * maxAbsV)
    }
}

/// `extract` and `forward` end to end, per option, against onnxruntime (`Tests/Fixtures/cli`, made by
/// `Tests/Tools/make_cli_fixtures.py`; onnxruntime is not needed here):
///
/// - `rewards.npy` against onnxruntime's v over all 2^n masks (float64 rewards of onnxruntime's float32 logits),
///   within δ_v (`CLITolerance.v`), on the CPU path and on OpenCL, for grid, groups and features players, zero,
///   value, tensor and mean baselines, predicted and label:K targets, --keep-empty, the default subtraction and
///   the hidden --subtract-empty, five output kinds and --mask-at on a post-ReLU map (onnxruntime runs the suffix);
/// - `Iand.npy` (with `--mode and`, I_and = Möbius(v)) against the float64 Möbius of onnxruntime's v within
///   2^|S|·δ_v plus the engine's round-off, in float32 and in float64; the float64 bound is checked to be below 5 %
///   of max|I|, so it protects the salient interactions; `Ior.npy` is zero;
/// - `summary.json`: n, target, target_rule, output, subtract_empty, model_v_empty (against onnxruntime's v(∅)),
///   v_empty, baseline, players, player_elements, mask_at, forward_backend (CPU or device), null_players (none:
///   every player of every case changes the output);
/// - bad input (out-of-range label:K, groups out of range or overlapping, a tensor baseline of the wrong size,
///   an unknown --mask-at tensor, contradicting flags): exit 1, one error line, no output folder;
/// - `--backend auto` with no OpenCL platform: the CPU path, the reason on stderr, the same v;
/// - `forward` (graph outputs and intermediates via --output-name) against onnxruntime.
@Suite(
    "extract and forward end to end against onnxruntime",
    .enabled(if: CLI.available, "the harsanyi binary is not built (run swift build first)"))
struct ExtractCLITests {
    func summary(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Runs `extract` for a case; returns the result folder (the run must succeed).
    func run(_ c: CLIFixtures.ExtractCase, backend: String, extra: [String] = [], environment: [String: String] = [:])
        throws -> (CLI.Result, String)
    {
        let out = CLI.tempDir() + "/r"
        let r = try CLI.run(
            ["extract"] + c.args.map(CLIFixtures.resolve) + ["--out", out, "--backend", backend] + extra,
            environment: environment)
        try #require(r.status == 0, "\(c.name) on \(backend): exit \(r.status): \(r.stderr)")
        return (r, out)
    }

    @Test("the manifest loads, with every case and file")
    func manifest() throws {
        let m = try CLIFixtures.manifest.get()
        #expect(m.extract.count >= CLIFixtures.minimumExtractCases, "\(m.extract.count) extract cases")
        #expect(m.forward.count >= CLIFixtures.minimumForwardCases, "\(m.forward.count) forward cases")
        #expect(m.extract.filter(\.modeAnd).count >= 6, "too few --mode and cases for the I_and checks")
        for c in m.extract {
            #expect(c.playerElements.count == c.n && (1 << c.n) > 1, "\(c.name)")
            #expect(c.minPlayerEffect >= 0.05, "\(c.name): a player barely changes the output")
            for (_, file) in c.files {
                #expect(FileManager.default.fileExists(atPath: CLIFixtures.path(file)), "\(c.name): \(file) missing")
            }
        }
        for f in m.forward {
            #expect(FileManager.default.fileExists(atPath: CLIFixtures.path(f.expected)), "\(f.name): missing")
        }
    }

    @Test("extract on the CPU path: v, I_and and summary.json against onnxruntime", arguments: CLIFixtures.names())
    func extractCPU(_ name: String) throws { try checkCase(name, backend: "cpu") }

    @Test(
        "extract on OpenCL (masked inputs and v on the device): v, I_and and summary.json against onnxruntime",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: CLIFixtures.names())
    func extractOpenCL(_ name: String) throws { try checkCase(name, backend: "opencl") }

    func checkCase(_ name: String, backend: String) throws {
        let c = try CLIFixtures.extractCase(name)
        let (r, dir) = try run(c, backend: backend)
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let context = "\(c.name) on \(backend)"
        let deltaV = CLITolerance.v(output: c.output, scale: c.logitScale)
        let want = try NPY.read(CLIFixtures.path(c.files["rewards"] ?? "")).doubles()
        expectClose(try NPY.read(dir + "/rewards.npy").doubles(), want, tolerance: deltaV, "\(context): rewards.npy")

        let s = try summary(dir)
        #expect(s["n"] as? Int == c.n, "\(context): n \(String(describing: s["n"]))")
        #expect(s["target"] as? Int == c.target, "\(context): target \(String(describing: s["target"]))")
        let rule = s["target_rule"] as? String ?? ""
        #expect(rule.hasPrefix(c.targetRule), "\(context): target_rule '\(rule)', want '\(c.targetRule)…'")
        #expect(r.stderr.contains("target class \(c.target): \(rule)"), "\(context): the target is not said")
        #expect(s["output"] as? String == c.output, "\(context): output \(String(describing: s["output"]))")
        #expect(s["subtract_empty"] as? Bool == c.subtractEmpty, "\(context): subtract_empty")
        let modelEmpty = try #require(s["model_v_empty"] as? Double, "\(context): no model_v_empty")
        #expect(
            abs(modelEmpty - c.modelVEmpty) <= deltaV, "\(context): model_v_empty \(modelEmpty) vs \(c.modelVEmpty)")
        let vEmpty = try #require(s["v_empty"] as? Double)
        #expect(c.subtractEmpty ? vEmpty == 0 : abs(vEmpty - c.modelVEmpty) <= deltaV, "\(context): v_empty \(vEmpty)")
        #expect(s["baseline"] as? String == CLIFixtures.resolve(c.baseline), "\(context): baseline")
        #expect(s["players"] as? String == CLIFixtures.resolve(c.players), "\(context): players")
        #expect(s["player_elements"] as? [[Int]] == c.playerElements, "\(context): player_elements")
        #expect(s["mask_at"] as? String == c.maskAt, "\(context): mask_at \(String(describing: s["mask_at"]))")
        #expect(s["null_players"] as? [Int] == [], "\(context): null players \(String(describing: s["null_players"]))")
        let forward = s["forward_backend"] as? String ?? ""
        if backend == "cpu" {
            #expect(forward.hasPrefix("cpu"), "\(context): forward_backend '\(forward)'")
        } else {
            #expect(
                forward.hasPrefix("OpenCL") && forward.contains("on the device"),
                "\(context): forward_backend '\(forward)'")
        }

        // Only mode `and` makes I_and the Möbius transform of v; the default engine sparsifies.
        if c.modeAnd {
            let settings = try #require(s["settings"] as? [String: Any])
            #expect(settings["precision"] as? String == "float32", "\(context): the default precision")
            try checkIand(c, dir: dir, epsilon: Double(Float.ulpOfOne), context: context)
        }
    }

    /// Iand.npy against the float64 Möbius of onnxruntime's v, per subset; Ior.npy is zero in mode and.
    func checkIand(_ c: CLIFixtures.ExtractCase, dir: String, epsilon: Double, context: String) throws {
        let deltaV = CLITolerance.v(output: c.output, scale: c.logitScale)
        let ref = try NPY.read(CLIFixtures.path(c.files["iand"] ?? "")).doubles()
        let got = try NPY.read(dir + "/Iand.npy").doubles()
        try #require(got.count == ref.count, "\(context): Iand.npy has \(got.count) entries, want \(ref.count)")
        var worst = 0.0
        var at = 0
        for s in 0..<ref.count {
            let bound = CLITolerance.iand(
                order: s.nonzeroBitCount, deltaV: deltaV, maxAbsV: c.maxAbsV, epsilon: epsilon)
            let ratio = abs(got[s] - ref[s]) / bound
            if !(ratio <= worst) { (worst, at) = (ratio, s) }
        }
        #expect(
            worst <= 1,
            "\(context): I_and(\(at)) = \(got[at]) vs \(ref[at]): error \(abs(got[at] - ref[at])), \(worst)× its bound")
        let ior = try NPY.read(dir + "/Ior.npy").doubles()
        #expect(ior.allSatisfy { $0 == 0 }, "\(context): Ior is not zero in mode and")
    }

    /// The tolerance on I derived from the tolerance on v, with a float64 engine (no round-off of its own): every
    /// |I_ours(S) − I_ref(S)| ≤ 2^|S|·δ_v, and that bound, at its largest (|S| = n), is below 5 % of max|I|, the
    /// default salient threshold, so an error the test lets through cannot make or break a salient interaction.
    @Test(
        "I_and: the v tolerance carried to I (2^|S|·δ_v) holds and is below the salient threshold, CPU path",
        arguments: CLIFixtures.names(\.modeAnd))
    func iandBoundCPU(_ name: String) throws { try iandBound(name, backend: "cpu") }

    @Test(
        "I_and: the v tolerance carried to I (2^|S|·δ_v) holds and is below the salient threshold, OpenCL",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: CLIFixtures.names(\.modeAnd))
    func iandBoundOpenCL(_ name: String) throws { try iandBound(name, backend: "opencl") }

    func iandBound(_ name: String, backend: String) throws {
        let c = try CLIFixtures.extractCase(name)
        let context = "\(c.name) on \(backend), float64"
        let deltaV = CLITolerance.v(output: c.output, scale: c.logitScale)
        let largest = CLITolerance.iand(order: c.n, deltaV: deltaV, maxAbsV: c.maxAbsV, epsilon: Double.ulpOfOne)
        #expect(
            largest < 0.05 * c.maxAbsIand,
            "\(c.name): the I bound 2^n·δ_v = \(largest) is not below 5 % of max|I| = \(c.maxAbsIand)")
        let (_, dir) = try run(c, backend: backend, extra: ["--precision", "float64"])
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let settings = try #require(try summary(dir)["settings"] as? [String: Any])
        #expect(settings["precision"] as? String == "float64", "\(context)")
        try checkIand(c, dir: dir, epsilon: Double.ulpOfOne, context: context)
    }

    @Test("--backend auto with no OpenCL platform: the CPU path, the reason on stderr, the same v; opencl fails")
    func fallback() throws {
        let c = try CLIFixtures.extractCase(CLIFixtures.names().first ?? CLIFixtures.missing)
        let env = ["OCL_ICD_VENDORS": CLI.noVendors]
        let (r, dir) = try run(c, backend: "auto", environment: env)
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        #expect(
            r.stderr.contains("falling back to the CPU path") && r.stderr.contains("-1001"),
            "\(c.name): the fallback is not explained: \(r.stderr)")
        let s = try summary(dir)
        #expect((s["forward_backend"] as? String)?.hasPrefix("cpu") == true, "\(c.name): \(s["forward_backend"] ?? "")")
        #expect((s["backend"] as? String)?.hasPrefix("CPU") == true, "\(c.name): engine \(s["backend"] ?? "")")
        let want = try NPY.read(CLIFixtures.path(c.files["rewards"] ?? "")).doubles()
        let deltaV = CLITolerance.v(output: c.output, scale: c.logitScale)
        expectClose(try NPY.read(dir + "/rewards.npy").doubles(), want, tolerance: deltaV, "\(c.name) fallback")

        let strictOut = CLI.tempDir() + "/strict"
        let strict = try CLI.run(
            ["extract"] + c.args.map(CLIFixtures.resolve) + ["--out", strictOut, "--backend", "opencl"],
            environment: env)
        #expect(strict.status == 1 && strict.stderr.contains("OpenCL unavailable"), "\(c.name): \(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: strictOut), "\(c.name): a result folder was written")
    }

    /// Bad input, each with the words its error must contain; files are made per run in `dir`.
    enum BadInput: String, CaseIterable, CustomTestStringConvertible {
        case labelBeyondClasses = "label:K beyond the classes (MLP, 2 classes)"
        case labelBeyondBinary = "label:K beyond the classes (single-logit model, binary)"
        case groupOutside = "groups: an element outside the sample"
        case groupOverlap = "groups: an element in two players"
        case groupMalformed = "groups: not a list of index lists"
        case tensorSize = "tensor: baseline of the wrong size"
        case maskAtUnknown = "--mask-at an unknown tensor"
        case contradictingFlags = "--keep-empty with --subtract-empty"
        case binaryMultiLogit = "--output binary on a two-logit model"

        var testDescription: String { rawValue }

        var needle: String {
            switch self {
            case .labelBeyondClasses, .labelBeyondBinary: "out of range"
            case .groupOutside: "outside the sample"
            case .groupOverlap: "belongs to two players"
            case .groupMalformed: #"expected {"players""#
            case .tensorSize: "baseline has 63 elements"
            case .maskAtUnknown: "no tensor named"
            case .contradictingFlags: "contradict"
            case .binaryMultiLogit: "single-logit"
            }
        }

        func args(_ dir: String) throws -> [String] {
            let onnx = CLI.root.appendingPathComponent("Tests/Fixtures/onnx").path
            let lenet = ["--model", onnx + "/lenet_digits.onnx", "--input", onnx + "/lenet_digits.inputs.npy"]
            let mlpSample = ["--input", onnx + "/mlp_breast_cancer.inputs.npy", "--players", "features:0,1,2"]
            func groups(_ json: String) throws -> [String] {
                try AtomicFile.write(Array(json.utf8), to: dir + "/groups.json")
                return lenet + ["--players", "groups:\(dir)/groups.json"]
            }
            switch self {
            case .labelBeyondClasses:
                return ["--model", onnx + "/mlp_breast_cancer.onnx"] + mlpSample + ["--target", "label:2"]
            case .labelBeyondBinary:
                return ["--model", CLIFixtures.dir.path + "/mlp_binary.onnx"] + mlpSample
                    + ["--target", "label:2", "--output", "binary"]
            case .groupOutside: return try groups(#"{"players": [[0, 1], [63, 64]]}"#)
            case .groupOverlap: return try groups(#"{"players": [[0, 1], [1, 2]]}"#)
            case .groupMalformed: return try groups(#"{"players": [0, 1]}"#)
            case .tensorSize:
                try NPY.write([Float](repeating: 0.5, count: 63), to: dir + "/base.npy")
                return lenet + ["--players", "grid:2x2", "--baseline", "tensor:\(dir)/base.npy"]
            case .maskAtUnknown: return lenet + ["--players", "grid:2x2", "--mask-at", "no_such_tensor"]
            case .contradictingFlags: return lenet + ["--players", "grid:2x2", "--keep-empty", "--subtract-empty"]
            case .binaryMultiLogit:
                return ["--model", onnx + "/mlp_breast_cancer.onnx"] + mlpSample + ["--output", "binary"]
            }
        }
    }

    @Test("bad input: exit 1, one error line, no output folder", arguments: BadInput.allCases)
    func badInput(_ bad: BadInput) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        let r = try CLI.run(["extract"] + (try bad.args(dir)) + ["--out", out, "--backend", "cpu", "--mode", "and"])
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("error") }
        #expect(r.status == 1, "\(bad.rawValue): exit \(r.status): \(r.stderr)")
        #expect(lines.count == 1 && r.stderr.contains(bad.needle), "\(bad.rawValue): stderr \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "\(bad.rawValue): a result folder was written")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("out") }
        #expect(left.isEmpty, "\(bad.rawValue): leftovers \(left)")
    }

    @Test(
        "forward: the graph output or an intermediate tensor against onnxruntime", arguments: CLIFixtures.forwardNames)
    func forward(_ name: String) throws {
        let f = try CLIFixtures.forwardCase(name)
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["forward"] + f.args.map(CLIFixtures.resolve) + ["--out", dir + "/y.npy"])
        try #require(r.status == 0, "\(name): exit \(r.status): \(r.stderr)")
        #expect(r.stdout.contains("\(f.outputName): shape \(f.shape)"), "\(name): \(r.stdout)")
        let got = try NPY.read(dir + "/y.npy")
        #expect(got.shape == f.shape, "\(name): shape \(got.shape), want \(f.shape)")
        let want = try NPY.read(CLIFixtures.path(f.expected)).doubles()
        // Each output is one float32 forward result, as a logit is: the logit tolerance of its scale.
        expectClose(got.doubles(), want, tolerance: CLITolerance.logit(scale: f.scale), "forward \(name)")
    }
}
