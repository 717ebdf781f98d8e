import Foundation
import HarsanyiCore
import HarsanyiONNX
import Testing

/// `harsanyi forward` on both paths and on models as exporters write them (several inputs, integer inputs,
/// external data), against onnxruntime's outputs; bad models give one line and exit 1 with nothing written.
@Suite("forward: backends, several inputs, bad models", .enabled(if: CLI.available, "the harsanyi binary is not built"))
struct ForwardCLITests {
    static let cases = ModernCase.dir.path

    func forward(_ model: String, _ inputs: [String], backend: String, _ out: String, explain: Bool = false) throws
        -> CLI.Result
    {
        var args = ["forward", "--model", "\(Self.cases)/\(model).onnx", "--out", out, "--backend", backend]
        for i in inputs { args += ["--input", "\(i)=\(Self.cases)/\(model).in.\(i).npy"] }
        if explain { args.append("--explain") }
        return try CLI.run(args)
    }

    /// Several inputs (two float; float and int64 indices) and external data, on the CPU path and on OpenCL
    /// where a device exists: within `onnxTolerance` of onnxruntime.
    @Test("several inputs and external data match onnxruntime", arguments: ["cpu", "opencl"])
    func inputs(_ backend: String) throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runs: [(String, [String], String)] = [
            ("two_float_inputs", ["x", "z"], "y"), ("float_and_int64_inputs", ["x", "idx"], "y"),
            ("external_one_file", ["x"], "y"), ("external_per_tensor", ["x"], "y"),
        ]
        for (model, inputs, output) in runs where backend == "cpu" || TestBackends.hasOpenCL {
            let r = try forward(model, inputs, backend: backend, "\(dir)/\(model).npy", explain: true)
            #expect(r.status == 0, "\(model) \(backend): \(r.stderr)")
            #expect(r.stderr.contains("explain:"), "\(model) \(backend): no --explain lines")
            let got = try NPY.read("\(dir)/\(model).npy").doubles()
            let want = try NPY.read("\(Self.cases)/\(model).out.\(output).npy").doubles()
            expectClose(got, want, tolerance: onnxTolerance * max(1, want.map(abs).max() ?? 0), "\(model) \(backend)")
        }
    }

    @Test("a missing input, a wrong name and bad models: one line, exit 1, nothing written")
    func badInput() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/y.npy"
        var runs: [([String], String)] = [
            (
                [
                    "--model", "\(Self.cases)/two_float_inputs.onnx", "--input",
                    "\(Self.cases)/two_float_inputs.in.x.npy",
                ], "NAME=FILE"
            )
        ]
        for b in ModernCase.bad {
            runs.append(
                (
                    ["--model", "\(Self.cases)/\(b.model)", "--input", "\(Self.cases)/two_float_inputs.in.x.npy"],
                    b.error
                ))
        }
        for (args, message) in runs {
            let r = try CLI.run(["forward", "--out", out, "--backend", "cpu"] + args)
            #expect(r.status == 1, "\(args): status \(r.status)")
            let errors = r.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(errors.count == 1 && errors[0].contains(message), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(args): wrote \(out)")
        }
    }

    /// extract on a two-input model: the first input masked, the other held at the same sample.
    @Test("extract masks the first of several inputs")
    func extractSeveral() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = "\(Self.cases)/two_float_inputs"
        let r = try CLI.run([
            "extract", "--model", "\(c).onnx", "--input", "x=\(c).in.x.npy", "--input", "z=\(c).in.z.npy", "--index",
            "1",
            "--players", "features:0,1,2,3", "--output", "logit", "--target", "label:0", "--keep-empty", "--out",
            "\(dir)/r",
            "--backend", "cpu",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        // v(N) is the model's logit 0 on sample 1 (every player present): onnxruntime's output row 1.
        let v = try NPY.read("\(dir)/r/rewards.npy").doubles()
        let want = try NPY.read("\(c).out.y.npy").doubles()
        let classes = want.count / 3
        #expect(
            abs(v[15] - want[classes]) <= onnxTolerance * max(1, abs(want[classes])),
            "v(N) \(v.last ?? .nan) vs \(want[classes])")
    }
}
