import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiTestSupport
import Testing

/// End-to-end runs of the built `harsanyi` command (`swift build` builds it before `swift test` runs), from the
/// same configuration as the tests (debug or release), or $HARSANYI_BINARY.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var binary: String {
        let env = ProcessInfo.processInfo.environment["HARSANYI_BINARY"]
        return env ?? root.appendingPathComponent(".build/\(optimisedBuild ? "release" : "debug")/harsanyi").path
    }
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ args: [String], environment extra: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "HARSANYI_BACKEND")
        env.removeValue(forKey: "HARSANYI_DEVICE")
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }

    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "harsanyi-cli-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// An empty ICD vendor directory: the loader then finds no platform (-1001).
    static let noVendors: String = {
        let dir = tempDir()
        return dir
    }()
}

@Suite("harsanyi command", .enabled(if: CLI.available, "the harsanyi binary is not built (run swift build first)"))
struct CLITests {
    @Test("transform agrees with the Double reference on the CPU path")
    func transformMatchesReferenceCPU() throws { try transformMatchesReference(backend: "cpu") }

    @Test(
        "transform agrees with the Double reference on OpenCL",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func transformMatchesReferenceOpenCL() throws { try transformMatchesReference(backend: "opencl") }

    func transformMatchesReference(backend: String) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SplitMix64(seed: 99)
        let v = rng.uniform(1 << 7)
        try NPY.write(v, to: "\(dir)/v.npy")
        for kind in SubsetTransform.allCases {
            let r = try CLI.run([
                "transform", "--kind", kind.rawValue, "--in", "\(dir)/v.npy", "--out", "\(dir)/o.npy", "--backend",
                backend,
            ])
            #expect(r.status == 0, "\(kind): \(r.stderr)")
            let out = try NPY.read("\(dir)/o.npy")
            #expect(out.type == .float64)
            expectClose(out.doubles(), Reference.transform(kind, v), tolerance: 1e-12, "cli \(backend) \(kind)")
            let meta =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/o.json")))
                as? [String: Any]
            #expect(meta?["n"] as? Int == 7 && (meta?["convention"] as? String)?.contains("bit i") == true)
        }
    }

    @Test(
        "bad input: one line on stderr, exit status 1, no output file",
        arguments: [
            ("not a power of two", [1.0, 2, 3], "power of two"),
            ("NaN", [1.0, .nan], "not finite"),
            ("infinity", [1.0, .infinity, 2, 3], "not finite"),
        ])
    func badValues(name: String, values: [Double], message: String) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write(values, to: "\(dir)/v.npy")
        let r = try CLI.run([
            "transform", "--kind", "and", "--in", "\(dir)/v.npy", "--out", "\(dir)/o.npy", "--backend", "cpu",
        ])
        #expect(r.status == 1, "\(name)")
        let errors = r.stderr.split(separator: "\n").filter { $0.contains("error") }
        #expect(errors.count == 1 && errors[0].contains(message), "\(name): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/o.npy"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["v.npy"])
    }

    @Test("missing and malformed files, unknown kinds")
    func badFiles() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write(Array("hello".utf8), to: "\(dir)/junk.npy")
        for args in [["--in", "\(dir)/missing.npy"], ["--in", "\(dir)/junk.npy"]] {
            let r = try CLI.run(["transform", "--kind", "and", "--out", "\(dir)/o.npy"] + args)
            #expect(r.status == 1 && r.stderr.contains("error"), "\(args): \(r.stderr)")
        }
        let r = try CLI.run(["transform", "--kind", "xor", "--in", "\(dir)/junk.npy", "--out", "\(dir)/o.npy"])
        #expect(r.status != 0)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/o.npy"))
    }

    @Test("with no OpenCL platform: auto falls back and says why; opencl is an error")
    func hiddenPlatform() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write([Float](arrayLiteral: 1, 2, 3, 4), to: "\(dir)/v.npy")
        let env = ["OCL_ICD_VENDORS": CLI.noVendors]
        let auto = try CLI.run(
            ["transform", "--kind", "and", "--in", "\(dir)/v.npy", "--out", "\(dir)/o.npy"], environment: env)
        #expect(auto.status == 0)
        #expect(auto.stderr.contains("falling back to the CPU path") && auto.stderr.contains("-1001"), "\(auto.stderr)")
        #expect(try NPY.read("\(dir)/o.npy").floats() == [1, 1, 2, 0])
        let strict = try CLI.run(
            ["transform", "--kind", "and", "--in", "\(dir)/v.npy", "--out", "\(dir)/p.npy", "--backend", "opencl"],
            environment: env)
        #expect(strict.status == 1 && strict.stderr.contains("OpenCL unavailable"), "\(strict.stderr)")
        let viaEnv = try CLI.run(
            ["transform", "--kind", "and", "--in", "\(dir)/v.npy", "--out", "\(dir)/p.npy"],
            environment: env.merging(["HARSANYI_BACKEND": "opencl"]) { $1 })
        #expect(viaEnv.status == 1)
        let devices = try CLI.run(["devices"], environment: env)
        #expect(devices.status == 0 && devices.stdout.contains("backend: cpu"))
    }

    /// OpenBLAS's kernels: on a CPU with AVX2 or AVX-512 the CLI never runs on the generic Prescott kernels (it
    /// re-executes itself with OPENBLAS_CORETYPE when the library falls back to them); a user's choice is kept,
    /// and HARSANYI_BLAS_AUTO=0 leaves the library's own pick.
    @Test("OpenBLAS kernels: the best family for this CPU, unless the user chose")
    func blasKernels() throws {
        func kernels(_ env: [String: String]) throws -> String {
            let r = try CLI.run(
                ["devices", "--backend", "cpu"], environment: env.merging(["OCL_ICD_VENDORS": CLI.noVendors]) { $1 })
            #expect(r.status == 0, "\(r.stderr)")
            let line =
                r.stdout.split(separator: "\n").first { $0.hasPrefix("CPU path matrix products: OpenBLAS, ") } ?? ""
            return line.replacingOccurrences(of: "CPU path matrix products: OpenBLAS, ", with: "").replacingOccurrences(
                of: " kernels", with: "")
        }
        let auto = try kernels([:])
        #expect(!auto.isEmpty)
        if let best = BLASKernels.bestCoreType, ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            #expect(auto.lowercased() != "prescott", "AVX2/AVX-512 CPU (best: \(best)) runs \(auto)")
        }
        #expect(try kernels(["OPENBLAS_CORETYPE": "Haswell"]).lowercased() == "haswell")
        let off = try kernels(["HARSANYI_BLAS_AUTO": "0"])
        #expect(
            off.lowercased() == BLASKernels.coreName.lowercased(),
            "HARSANYI_BLAS_AUTO=0: \(off), library pick \(BLASKernels.coreName)")
    }

    @Test("devices lists what auto picks", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func devices() throws {
        let r = try CLI.run(["devices"])
        #expect(r.status == 0 && r.stdout.contains("0:0") && r.stdout.contains("backend: opencl"), "\(r.stdout)")
    }
}

@Suite("harsanyi interactions", .enabled(if: CLI.available, "the harsanyi binary is not built (run swift build first)"))
struct InteractionsCLITests {
    static let fixture = CLI.root.appendingPathComponent("Tests/Fixtures/rewards/breast_cancer_mlp_n10_s517.npy").path

    @Test("writes the result folder with a summary; refuses to overwrite without --force (CPU path)")
    func resultFolderCPU() throws { try resultFolder(backend: "cpu") }

    @Test(
        "writes the result folder with a summary; refuses to overwrite without --force (OpenCL)",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func resultFolderOpenCL() throws { try resultFolder(backend: "opencl") }

    func resultFolder(backend: String) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/result"
        let args = [
            "interactions", "--values", Self.fixture, "--out", out, "--iterations", "200", "--optimizer", "pdhg",
            "--backend", backend,
        ]
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("top primitives") && r.stdout.contains("faithfulness"))
        for f in ["rewards", "masks", "Iand", "Ior", "p", "q"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(f).npy"), "\(f).npy missing")
        }
        let masks = try NPY.read(out + "/masks.npy")
        #expect(masks.shape == [1024, 10] && masks.type == .bool && masks.bools()[3 * 10 + 1])
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        #expect(summary["n"] as? Int == 10)
        #expect((summary["convention"] as? String)?.contains("bit i") == true)
        let matching = summary["matching_error"] as! [String: Double]
        #expect(matching["max_abs"]! < 1e-4)
        let primitives = summary["primitives"] as! [[String: Any]]
        #expect(!primitives.isEmpty && primitives.count == (summary["salient"] as! [String: Any])["count"] as? Int)
        let iand = try NPY.read(out + "/Iand.npy").doubles()
        let v = try NPY.read(out + "/rewards.npy").doubles()
        #expect(v == (try NPY.read(Self.fixture).doubles()) && iand.count == 1024)

        let again = try CLI.run(args)
        #expect(again.status == 1 && again.stderr.contains("--force"), "\(again.stderr)")
        let forced = try CLI.run(args + ["--force", "--top-k", "3"])
        #expect(forced.status == 0)
        let s2 =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        #expect((s2["primitives"] as! [Any]).count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["result"], "temporary folders left behind")
    }

    @Test("bad values and options: one error line, exit 1, no folder")
    func badInput() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write([1.0, .nan, 2, 3], to: dir + "/nan.npy")
        try NPY.write([1.0, 2, 3], to: dir + "/three.npy")
        for (file, extra, message) in [
            ("nan.npy", [String](), "not finite"), ("three.npy", [], "power of two"),
            ("missing.npy", [], "missing.npy"), ("three.npy", ["--top-k", "3", "--threshold", "0.1"], "at most one"),
        ] {
            let r = try CLI.run(
                ["interactions", "--values", "\(dir)/\(file)", "--out", "\(dir)/out", "--backend", "cpu"] + extra)
            #expect(r.status == 1 && r.stderr.contains(message), "\(file) \(extra): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        }
    }
}
