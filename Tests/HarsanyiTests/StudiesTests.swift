import Foundation
import HarsanyiCore
import HarsanyiTestSupport
import Testing

/// Dataset runs and `analyze orders`: the metrics against the independent numpy computation of
/// `Tests/Tools/analysis_reference.py` on its synthetic run fixture, resumability (a run killed mid-run and resumed
/// equals an uninterrupted one byte for byte), sample selection, and bad input.
@Suite(
    "Studies across samples: dataset runs and analyze orders",
    .enabled(if: CLI.available, "the harsanyi binary is not built (run swift build first)"))
struct StudiesTests {
    static let fixtures = CLI.root.appendingPathComponent("Tests/Fixtures/studies").path
    static let onnx = CLI.root.appendingPathComponent("Tests/Fixtures/onnx").path
    /// Both sides sum the same Double terms in different orders: a few ulps of magnitudes ≤ 10.
    static let metricTolerance = 1e-12

    static func json(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// The analysis wrote its figure: an SVG document with the given labels and no NaN coordinates.
    static func expectFigure(_ path: String, labels: [String]) throws {
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"), "\(path) is not SVG")
        #expect(svg.contains("</svg>"), "\(path) is cut short")
        for label in labels { #expect(svg.contains(label), "\(path) lacks the label \(label)") }
        #expect(!svg.lowercased().contains("nan"), "\(path) has NaN coordinates")
    }

    @Test("analyze orders equals the numpy reference for every threshold setting")
    func ordersMatchReference() throws {
        let expected = try Self.json(Self.fixtures + "/expected_orders.json")
        let cases = try #require(expected["cases"] as? [[String: Any]])
        #expect(cases.count >= 4, "expected_orders.json has \(cases.count) cases")
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (k, c) in cases.enumerated() {
            var args = ["analyze", "orders", Self.fixtures + "/run_n5", "--out", "\(dir)/o\(k).json"]
            args += ["--threshold", c["threshold"] as! String]
            if let tau = c["tau"] as? Double { args += ["--tau", String(tau)] }
            if c["strict"] as? Bool == true { args.append("--strict") }
            if c["normalize"] as? Bool == true { args.append("--normalize") }
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let got = try Self.json("\(dir)/o\(k).json")
            let want = try #require(c["result"] as? [String: Any])
            #expect(
                got["samples"] as? Int == want["samples"] as? Int, "\(args): sample count (skipped/failed counted?)")
            let gotT = (got["threshold"] as? [String: Any])?["values"] as? [Double] ?? []
            expectClose(gotT, want["thresholds"] as! [Double], tolerance: Self.metricTolerance, "\(args) thresholds")
            let gotRows = try #require(got["orders"] as? [[String: Any]])
            let wantRows = want["orders"] as! [[String: Any]]
            #expect(gotRows.count == wantRows.count)
            for (g, w) in zip(gotRows, wantRows) {
                for type in ["and", "or", "both"] {
                    let gs = g[type] as! [String: Any]
                    let ws = w[type] as! [String: Any]
                    for (key, value) in ws {
                        let a = (gs[key] as? Double) ?? Double(gs[key] as? Int ?? -1)
                        let b = (value as? Double) ?? 0
                        #expect(
                            abs(a - b) <= Self.metricTolerance * max(1, abs(b)),
                            "\(args) order \(w["order"]!) \(type) \(key): \(a) vs numpy \(b)")
                    }
                }
            }
        }
    }

    @Test("analyze generalization: train vs test equals numpy; a run against itself is 1; the control is seeded")
    func generalization() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let want = try Self.json(Self.fixtures + "/expected_generalization.json")["train_vs_test"] as! [Any]
        let args = [
            "analyze", "generalization", "--train", Self.fixtures + "/run_n5", "--test", Self.fixtures + "/run_n5_test",
        ]
        for k in 0..<2 {
            let r = try CLI.run(args + ["--out", "\(dir)/g\(k).json", "--splits", "5"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let got = try #require(try Self.json("\(dir)/g0.json")["orders"] as? [[String: Any]])
        #expect(got.count == want.count)
        for (row, w) in zip(got, want) {
            let a = row["train_vs_test"] as? Double ?? .nan
            let b = w as? Double ?? .nan
            #expect(abs(a - b) <= Self.metricTolerance, "order \(row["order"]!): \(a) vs numpy \(b)")
            for key in ["test_halves", "train_halves", "train_half_vs_test_half"] {
                if let c = row[key] as? [String: Double] {
                    #expect(c["min"]! <= c["mean"]! && c["mean"]! <= c["max"]!, "order \(row["order"]!) \(key): \(c)")
                }
            }
        }
        try Self.expectFigure(
            "\(dir)/g0.svg", labels: ["order k", "Jaccard", "train vs test", "test vs test (halves)"])
        let again = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/g1.json"))
        #expect(again == (try Data(contentsOf: URL(fileURLWithPath: "\(dir)/g0.json"))), "same seed, different control")
        let same = try CLI.run([
            "analyze", "generalization", "--train", Self.fixtures + "/run_n5", "--test", Self.fixtures + "/run_n5",
            "--out", "\(dir)/s.json", "--splits", "2",
        ])
        #expect(same.status == 0, "\(same.stderr)")
        for row in try #require(try Self.json("\(dir)/s.json")["orders"] as? [[String: Any]])
        where row["order"] as? Int != 0 {
            let j = row["train_vs_test"] as? Double ?? 0
            #expect(abs(j - 1) <= 1e-6, "a run against itself: order \(row["order"]!) J = \(j)")
        }
        let bad = try CLI.run(args + ["--splits", "0", "--out", "\(dir)/b.json"])
        #expect(bad.status == 1 && !FileManager.default.fileExists(atPath: "\(dir)/b.json"), "\(bad.stderr)")
    }

    @Test("analyze transfer: cover ratio, α, β and the score per class equal numpy; the figure is written")
    func transfer() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let want = try #require(try Self.json(Self.fixtures + "/expected_transfer.json")["classes"] as? [[String: Any]])
        let r = try CLI.run(["analyze", "transfer", Self.fixtures + "/run_n5", "--out", "\(dir)/t.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let got = try #require(try Self.json("\(dir)/t.json")["classes"] as? [[String: Any]])
        #expect(got.count == want.count && want.count >= 2, "classes: \(got.count) vs \(want.count)")
        for (g, w) in zip(got, want) {
            #expect(g["target"] as? Int == w["target"] as? Int && g["samples"] as? Int == w["samples"] as? Int)
            for key in ["cover_ratio", "discrimination_score"] {
                let a = g[key] as? Double ?? -1
                let b = w[key] as? Double ?? -1
                #expect(abs(a - b) <= Self.metricTolerance, "class \(w["target"]!) \(key): \(a) vs numpy \(b)")
            }
            let ga = g["alpha_beta"] as? [[Double]] ?? []
            let wa = w["alpha_beta"] as? [[Double]] ?? []
            #expect(ga == wa, "class \(w["target"]!): α, β differ (\(ga.count) vs \(wa.count) primitives)")
        }
        try Self.expectFigure("\(dir)/t.svg", labels: ["rank", "cover ratio", "β"])
    }

    @Test("analyze bound: p, δ, λ, η and the bound equal numpy; the bound is never below the real count")
    func bound() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let want = try #require(try Self.json(Self.fixtures + "/expected_bound.json")["samples"] as? [[String: Any]])
        let r = try CLI.run(["analyze", "bound", Self.fixtures + "/run_n5_bound", "--out", "\(dir)/b.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try Self.json("\(dir)/b.json")
        #expect(result["bound_below_count"] as? Int == 0)
        let got = try #require(result["samples"] as? [[String: Any]])
        #expect(got.count == want.count && !want.isEmpty)
        func close(_ a: Any?, _ b: Any?, _ what: String) {
            let x = a as? Double ?? (a as? Int).map(Double.init)
            let y = b as? Double ?? (b as? Int).map(Double.init)
            #expect((x == nil) == (y == nil), "\(what): \(String(describing: x)) vs numpy \(String(describing: y))")
            if let x, let y {
                #expect(abs(x - y) <= Self.metricTolerance * max(1, abs(y)), "\(what): \(x) vs numpy \(y)")
            }
        }
        var bounded = 0
        for (g, w) in zip(got, want) {
            close(g["p"], w["p"], "sample \(g["index"]!) p")
            close(g["delta"], w["delta"], "sample \(g["index"]!) δ")
            for (go, wo) in zip(g["orders"] as! [[String: Any]], w["orders"] as! [[String: Any]]) {
                for key in ["A", "eta", "lambda", "delta_k", "count", "bound"] {
                    close(go[key], wo[key], "sample \(g["index"]!) order \(wo["order"]!) \(key)")
                }
                if let b = go["bound"] as? Double {
                    bounded += 1
                    #expect(Double(go["count"] as! Int) <= b * (1 + 1e-12), "bound below the count: \(go)")
                }
            }
        }
        #expect(bounded >= 20, "only \(bounded) (sample, order) bounds computed")
        try Self.expectFigure("\(dir)/b.svg", labels: ["bound on R^(k)", "R = bound"])
        let lenet = try CLI.run(extractArgs("\(dir)/run", ["--indices", "0:1"]))
        #expect(lenet.status == 0, "\(lenet.stderr)")
        let listed = try CLI.run(["analyze", "bound", "\(dir)/run", "--out", "\(dir)/l.json"])
        #expect(listed.status == 0 && listed.stdout.contains("break an assumption"), "\(listed.stdout)")
    }

    @Test("extract draws its sample: image players as highlighted grid cells, other players as labelled bars")
    func extractFigure() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = try CLI.run(extractArgs("\(dir)/img").filter { $0 != "--labels" && !$0.hasSuffix("labels.npy") })
        #expect(image.status == 0, "\(image.stderr)")
        try Self.expectFigure("\(dir)/img/figure.svg", labels: ["sample (grid 2×3)", "salient primitives", "AND {"])
        let tabular = try CLI.run([
            "extract", "--model", Self.onnx + "/mlp_breast_cancer.onnx", "--input",
            Self.onnx + "/mlp_breast_cancer.inputs.npy", "--players", "features:0,1,2,3,4", "--backend", "cpu",
            "--out", "\(dir)/tab",
        ])
        #expect(tabular.status == 0, "\(tabular.stderr)")
        try Self.expectFigure("\(dir)/tab/figure.svg", labels: ["players: features:0,1,2,3,4", "interaction I(S)"])
    }

    func extractArgs(_ out: String, _ extra: [String] = []) -> [String] {
        [
            "extract", "--model", Self.onnx + "/lenet_digits.onnx", "--input", Self.onnx + "/lenet_digits.inputs.npy",
            "--labels", Self.onnx + "/lenet_digits.labels.npy", "--players", "grid:2x3", "--backend", "cpu",
            "--out", out,
        ] + extra
    }

    /// The files of every sample folder and run.json, as bytes; summary.json without its timing fields.
    func contents(_ run: String) throws -> [String: Data] {
        var out: [String: Data] = ["run.json": try Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))]
        let fm = FileManager.default
        for folder in try fm.contentsOfDirectory(atPath: run + "/samples").sorted() {
            for file in try fm.contentsOfDirectory(atPath: "\(run)/samples/\(folder)") {
                let path = "\(run)/samples/\(folder)/\(file)"
                if file == "summary.json" {
                    var s = try Self.json(path)
                    for key in ["seconds", "forward_seconds_with_setup", "masked_samples_per_second"] {
                        s.removeValue(forKey: key)
                    }
                    out["\(folder)/\(file)"] = try JSONSerialization.data(withJSONObject: s, options: [.sortedKeys])
                } else {
                    out["\(folder)/\(file)"] = try Data(contentsOf: URL(fileURLWithPath: path))
                }
            }
        }
        return out
    }

    @Test("a run killed mid-run resumes to the uninterrupted run's files, byte for byte; reruns skip done samples")
    func resume() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = try CLI.run(extractArgs("\(dir)/whole", ["--indices", "0:4"]))
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.contains("4 extracted, 0 already done"), "\(whole.stdout)")

        // Start the same run, kill it (SIGKILL, no clean-up) once the first sample is written.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = extractArgs("\(dir)/killed", ["--indices", "0:4"])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: "\(dir)/killed/samples/000000/summary.json") && Date() < deadline
            && p.isRunning
        {
            usleep(2_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let partial = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/killed/samples")) ?? []
        #expect(partial.filter { !$0.contains(".tmp-") }.count < 4, "the run finished before it was killed: \(partial)")

        let resumed = try CLI.run(extractArgs("\(dir)/killed", ["--indices", "0:4"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("already done"), "\(resumed.stdout)")
        let a = try contents("\(dir)/whole")
        let b = try contents("\(dir)/killed")
        #expect(a.keys.sorted() == b.keys.sorted(), "files differ: \(Set(a.keys).symmetricDifference(b.keys))")
        for (k, v) in a { #expect(b[k] == v, "\(k) differs between the resumed and the uninterrupted run") }

        let again = try CLI.run(extractArgs("\(dir)/whole", ["--indices", "0:4"]))
        #expect(again.status == 0 && again.stdout.contains("0 extracted, 4 already done"), "\(again.stdout)")
    }

    @Test("--per-class and --only-correct choose samples by label and prediction; skipped ones are listed")
    func selection() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Labels shifted by one class: every sample is misclassified against them except where the shift is a no-op.
        let labels = try NPY.read(Self.onnx + "/lenet_digits.labels.npy").doubles()
        try NPY.write(labels.map { Double((Int($0) + 1) % 10) }, to: "\(dir)/wrong.npy")
        let r = try CLI.run(
            extractArgs("\(dir)/run", ["--indices", "0:3", "--only-correct"]).map {
                $0.hasSuffix("lenet_digits.labels.npy") ? "\(dir)/wrong.npy" : $0
            })
        #expect(r.status == 1 && r.stderr.contains("selection is empty"), "\(r.stderr)")
        let perClass = try CLI.run(extractArgs("\(dir)/pc", ["--per-class", "1", "--indices", "0:8", "--all"]))
        #expect(perClass.status == 0, "\(perClass.stderr)")
        let index = try Self.json("\(dir)/pc/run.json")
        let samples = try #require(index["samples"] as? [[String: Any]])
        let classes = samples.compactMap { $0["target"] as? Int }
        #expect(Set(classes).count == classes.count && !classes.isEmpty, "one sample per class: \(classes)")
        let wantClasses = Set(labels.prefix(8).map { Int($0) })
        #expect(Set(classes) == wantClasses, "classes \(classes) vs labels \(wantClasses)")
    }

    @Test("bad input: mixed runs, an empty run, changed settings on resume, selection without labels")
    func badInput() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try CLI.run(extractArgs("\(dir)/a", ["--indices", "0:1"]))
        #expect(made.status == 0, "\(made.stderr)")
        let mixed = try CLI.run(["analyze", "orders", "\(dir)/a", Self.fixtures + "/run_n5", "--out", "\(dir)/m.json"])
        #expect(mixed.status == 1 && mixed.stderr.contains("cannot be pooled"), "\(mixed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/m.json"))
        try FileManager.default.createDirectory(atPath: "\(dir)/empty/samples", withIntermediateDirectories: true)
        let index = #"{"format": "harsanyi dataset run 1", "identity": {"n": 3}, "samples": []}"#
        try index.write(toFile: "\(dir)/empty/run.json", atomically: true, encoding: .utf8)
        let empty = try CLI.run(["analyze", "orders", "\(dir)/empty"])
        #expect(empty.status == 1 && empty.stderr.contains("no done sample"), "\(empty.stderr)")
        let changed = try CLI.run(extractArgs("\(dir)/a", ["--indices", "0:1", "--baseline", "value:0.5"]))
        #expect(changed.status == 1 && changed.stderr.contains("baseline differs"), "\(changed.stderr)")
        let noLabels = try CLI.run(
            [
                "extract", "--model", Self.onnx + "/lenet_digits.onnx", "--input",
                Self.onnx + "/lenet_digits.inputs.npy",
                "--players", "grid:2x3", "--per-class", "2", "--out", "\(dir)/b",
            ])
        #expect(noLabels.status == 1 && noLabels.stderr.contains("need --labels"), "\(noLabels.stderr)")
        let notRun = try CLI.run(["analyze", "orders", dir])
        #expect(notRun.status == 1 && notRun.stderr.contains("not a dataset run"), "\(notRun.stderr)")
        for r in [mixed, empty, changed, noLabels, notRun] {
            #expect(r.stderr.split(separator: "\n").filter { $0.contains("error") }.count == 1, "\(r.stderr)")
        }
    }
}
