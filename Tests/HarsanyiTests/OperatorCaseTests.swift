import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor
import HarsanyiTestSupport
import Testing

/// A case of `Tests/Fixtures/onnx/cases` (Tests/Tools/make_operator_cases.py): one or a few nodes at a given
/// opset, with onnxruntime's outputs. Covers the operators beyond the original set, the opset 7–21 versions,
/// initializer element types, external data and multi-input graphs.
struct ModernCase: CustomTestStringConvertible, Sendable, Decodable {
    struct Value: Sendable, Decodable {
        let name: String
        let file: String
        let dtype: String
        var symbolic_batch: Bool?
    }
    let name: String
    let opset: Int
    let ops: [String]
    let model: String
    let inputs: [Value]
    let outputs: [Value]
    var testDescription: String { "\(name) (opset \(opset))" }

    struct Bad: Sendable, Decodable, CustomTestStringConvertible {
        let name: String
        let model: String
        let error: String
        var testDescription: String { name }
    }
    struct Manifest: Decodable {
        let cases: [ModernCase]
        let bad: [Bad]
    }

    static let dir = OperatorCase.dir.appendingPathComponent("cases")
    static let manifest: Manifest? = {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("manifest.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }()
    static var all: [ModernCase] { manifest?.cases ?? [] }
    static var bad: [Bad] { manifest?.bad ?? [] }

    var path: String { Self.dir.appendingPathComponent(model).path }

    func feeds() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for i in inputs { out[i.name] = Tensor(npy: try NPY.read(Self.dir.appendingPathComponent(i.file).path)) }
        return out
    }

    func expected(_ output: Value) throws -> NPYArray {
        try NPY.read(Self.dir.appendingPathComponent(output.file).path)
    }

    /// Compares with onnxruntime: relative `onnxTolerance` of the output's largest magnitude (at least 1e-6).
    func check(_ got: Tensor, _ output: Value, _ label: String) throws {
        let want = try expected(output)
        #expect(got.shape == want.shape, "\(name) \(output.name) (\(label)): shape \(got.shape) vs \(want.shape)")
        let w = want.doubles()
        expectClose(
            got.asFloats, w, tolerance: onnxTolerance * max(1e-6, w.map(abs).max() ?? 0),
            "\(name) \(output.name) (\(label))")
    }
}

@Suite("Operators, opsets 7–21, element types, external data: reference against onnxruntime")
struct ModernOperatorTests {
    @Test("the case manifest is present and complete")
    func inventory() {
        #expect(ModernCase.all.count >= 180, "cases: \(ModernCase.all.count) (Tests/Fixtures/onnx/cases/manifest.json)")
        #expect(ModernCase.bad.count >= 9, "bad models: \(ModernCase.bad.count)")
        let opsets = Set(ModernCase.all.map(\.opset))
        #expect(
            opsets.isSuperset(of: [7, 8, 10, 11, 13, 16, 17, 18, 19, 20, 21]), "opsets covered: \(opsets.sorted())")
    }

    @Test("interpreter (every node's reference implementation)", arguments: ModernCase.all)
    func reference(_ c: ModernCase) throws {
        let graph = try Graph.load(c.path)
        var values = graph.initializers
        for (k, v) in try c.feeds() { values[k] = v }
        for n in graph.nodes {
            let outs = try ONNXModel.evaluatePublic(
                n, n.inputs.map { $0.isEmpty ? nil : values[$0] }, opset: graph.opset)
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
        }
        for o in c.outputs {
            let got = try #require(values[o.name], "\(c.name): output \(o.name) not computed")
            try c.check(got, o, "interpreter")
        }
    }

    /// Cases whose batch axis is tied to a constant of the batch's size (an Einsum batch letter shared with an
    /// initializer, a Concat with a batch-2 initializer): a batch-1 sample cannot be planned, by design.
    static let batchTied: Set<String> = [
        "einsum_bij_bjk", "einsum_bhid_bhjd", "einsum_bhij_bhjd", "concat11_negative_axis",
    ]

    /// Single-input cases with a batch axis: each output as the suffix after the input, compiled at the batch.
    @Test(
        "compiled CPU executor",
        arguments: ModernCase.all.filter {
            $0.inputs.count == 1 && $0.inputs[0].symbolic_batch == true && $0.inputs[0].dtype == "float32"
                && !batchTied.contains($0.name)
        })
    func compiled(_ c: ModernCase) throws {
        let x = try #require(try c.feeds()[c.inputs[0].name])
        let batch = x.shape[0]
        let size = x.count / max(batch, 1)
        for o in c.outputs {
            let model = try ONNXModel(path: c.path, output: o.name)
            let sample = Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(x.floats[0..<size]))
            let plan = try SuffixPlan(model: model, start: model.input.name, sample: sample)
            let runner = CPUSuffixRunner(plan, compiled: true)
            try c.check(try runner.run(x), o, "compiled: \(runner.status)")
        }
    }

    @Test("bad models get one clear error", arguments: ModernCase.bad)
    func badModel(_ b: ModernCase.Bad) {
        do {
            // Load, then infer the output shape for a batch of one (what extract does before a long run).
            let m = try ONNXModel(path: ModernCase.dir.appendingPathComponent(b.model).path)
            _ = try m.outputShape(forInput: m.input.shape.map { $0 ?? 1 })
            Issue.record("\(b.name): loaded and ran")
        } catch let e as HarsanyiError {
            #expect("\(e)".contains(b.error), "\(b.name): '\(e)' does not name '\(b.error)'")
            #expect(!"\(e)".contains("\n"), "\(b.name): more than one line")
        } catch {
            Issue.record("\(b.name): not a HarsanyiError: \(error)")
        }
    }
}

@Suite(
    "Operators on OpenCL (device kernels and host steps) against onnxruntime",
    .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct ModernOperatorOpenCLTests {
    static var backend: OpenCLBackend { TestBackends.opencl(.cpuStyle) }

    @Test("every case, every output", arguments: ModernCase.all)
    func operatorCase(_ c: ModernCase) throws {
        let graph = try Graph.load(c.path)
        let feeds = try c.feeds()
        for o in c.outputs {
            let model = try OpenCLModel(graph: graph, output: o.name, backend: Self.backend)
            try c.check(try model.run(feeds), o, "OpenCL")
        }
    }

    /// The device kernels of the new activations run on the device, and an operator without one is a host step
    /// that the plan reports.
    @Test("host steps are reported; activations with kernels are not host steps")
    func hostSteps() throws {
        var sawDevice = false
        var sawHost = false
        for c in ModernCase.all where c.inputs.count == 1 && c.inputs[0].dtype == "float32" {
            let graph = try Graph.load(c.path)
            let model = try OpenCLModel(graph: graph, output: c.outputs[0].name, backend: Self.backend)
            let host = try model.hostNodes(try c.feeds())
            if c.ops == ["HardSwish"] || c.ops == ["Gelu"] || c.ops == ["Erf"] {
                #expect(host.isEmpty, "\(c.name): \(host)")
                sawDevice = true
            }
            // Nearest Resize moves data (an index copy on the device); linear Resize computes (a host step).
            if c.ops == ["Resize"], c.name.contains("nearest") { #expect(host.isEmpty, "\(c.name): \(host)") }
            if c.ops == ["Resize"], c.name.contains("linear") {
                #expect(host.contains { $0.hasSuffix("(Resize)") }, "\(c.name): \(host)")
                sawHost = true
            }
        }
        #expect(sawDevice && sawHost, "no case exercised a device activation or a host step")
    }
}
