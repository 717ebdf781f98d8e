import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor
import HarsanyiTestSupport
import Testing

/// A torchvision model exported by today's exporters (Tests/Tools/make_torchvision_fixtures.py): the legacy
/// TorchScript exporter at opset 17 (and 9/10 for two models) and the dynamo exporter (opset 20, weights in an
/// external .onnx.data file). Four inputs per model: two random images and image 0 with the top and the bottom
/// half of its 4 × 4 grid of 8 × 8 patches set to zero.
struct TorchvisionCase: CustomTestStringConvertible, Sendable, Decodable {
    let name: String
    let exporter: String
    let opset: Int
    let file: String
    let inputs: String
    let torch: String
    let ort: String
    var testDescription: String { "\(name) \(exporter)" }

    struct Manifest: Decodable { let models: [TorchvisionCase] }
    static let dir = OperatorCase.dir.deletingLastPathComponent().appendingPathComponent("torchvision")
    static let all: [TorchvisionCase] = {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("manifest.json")),
            let m = try? JSONDecoder().decode(Manifest.self, from: data)
        else { return [] }
        return m.models
    }()

    func url(_ file: String) -> String { Self.dir.appendingPathComponent(file).path }
    func input() throws -> Tensor { Tensor(npy: try NPY.read(url(inputs))) }

    /// onnxruntime's logits, and the tolerance: `onnxTolerance` of the largest magnitude (torch vs onnxruntime
    /// agree to 1.4e-5 relative on these, see the fixtures' README).
    func expected() throws -> (values: [Double], tolerance: Double) {
        let w = try NPY.read(url(ort)).doubles()
        return (w, onnxTolerance * max(1, w.map(abs).max() ?? 0))
    }

    /// The 16 players: the 8 × 8 patches of the 32 × 32 image in row-major order, all three channels.
    static let players: [[Int]] = (0..<16).map { k in
        var p: [Int] = []
        for c in 0..<3 {
            for r in 0..<8 { for col in 0..<8 { p.append(c * 1024 + (8 * (k / 4) + r) * 32 + 8 * (k % 4) + col) } }
        }
        return p
    }
}

@Suite("torchvision families under both exporters against onnxruntime")
struct TorchvisionTests {
    @Test("the fixtures cover both exporters and external data")
    func inventory() {
        let all = TorchvisionCase.all
        #expect(all.count >= 20, "\(all.count) exports (Tests/Fixtures/torchvision/manifest.json)")
        #expect(Set(all.map(\.name)).count >= 9)
        #expect(all.contains { $0.exporter.hasPrefix("dynamo") } && all.contains { $0.exporter == "legacy9" })
    }

    @Test("interpreter and compiled CPU path", arguments: TorchvisionCase.all)
    func cpu(_ c: TorchvisionCase) throws {
        let model = try ONNXModel(path: c.url(c.file))
        let x = try c.input()
        let (w, tol) = try c.expected()
        expectClose(try model.run(x).asFloats, w, tolerance: tol, "\(c.testDescription) interpreter")
        let size = x.count / x.shape[0]
        let plan = try SuffixPlan(
            model: model, start: model.input.name,
            sample: Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(x.floats[0..<size])))
        let runner = CPUSuffixRunner(plan, compiled: true)
        expectClose(try runner.run(x).asFloats, w, tolerance: tol, "\(c.testDescription) compiled (\(runner.status))")
    }

    /// The masked-forward driver (prefix/suffix split, linearity shortcut where the first operator is linear):
    /// the subsets that keep the bottom half (players 8…15) or the top half reproduce onnxruntime on the
    /// corresponding masked images.
    @Test("masked forwards on the CPU path", arguments: TorchvisionCase.all)
    func masked(_ c: TorchvisionCase) throws {
        try Self.checkMasked(c, label: "cpu") {
            try MaskedForward(model: $0, sample: $1, players: TorchvisionCase.players, baseline: $2, batchSize: 4)
        }
    }

    static func checkMasked(
        _ c: TorchvisionCase, label: String, _ make: (ONNXModel, Tensor, [Float]) throws -> MaskedForward
    ) throws {
        let model = try ONNXModel(path: c.url(c.file))
        let x = try c.input()
        let size = x.count / x.shape[0]
        let f = try make(
            model, Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(x.floats[0..<size])),
            [Float](repeating: 0, count: size))
        let (w, tol) = try c.expected()
        let classes = w.count / 4
        for (row, subset) in [(0, 0xFFFF), (2, 0xFF00), (3, 0x00FF)] {
            let y = try f.outputs(from: subset, count: 1)
            expectClose(
                y.asFloats, Array(w[(row * classes)..<((row + 1) * classes)]), tolerance: tol,
                "\(c.testDescription) \(label) subset \(String(subset, radix: 16)) (shortcut \(f.usesLinearity))")
        }
    }
}

@Suite("torchvision families on OpenCL", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct TorchvisionOpenCLTests {
    static var backend: OpenCLBackend { TestBackends.opencl(.cpuStyle) }

    @Test("plain batch and masked forwards", arguments: TorchvisionCase.all)
    func opencl(_ c: TorchvisionCase) throws {
        let model = try ONNXModel(path: c.url(c.file))
        let (w, tol) = try c.expected()
        let cl = try OpenCLModel(model, backend: Self.backend)
        expectClose(try cl.run(try c.input()).asFloats, w, tolerance: tol, "\(c.testDescription) OpenCL")
        try TorchvisionTests.checkMasked(c, label: "OpenCL") {
            try MaskedForward(model: $0, sample: $1, players: TorchvisionCase.players, baseline: $2, batchSize: 4) {
                try OpenCLModel(suffix: $0, backend: Self.backend)
            }
        }
    }
}
