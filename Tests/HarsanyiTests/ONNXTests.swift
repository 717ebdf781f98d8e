import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiTestSupport
import ONNXProto
import Testing

/// A per-operator case of `Tests/Fixtures/onnx/ops` (made by Tests/Tools/make_onnx_fixtures.py with onnxruntime).
struct OperatorCase: CustomTestStringConvertible, Sendable {
    let name: String
    let inputs: [(name: String, file: String)]
    let output: String
    /// Whether the first input's first axis is a batch (symbolic in the model): then each sample is independent.
    var batched = false
    var testDescription: String { name }

    static let dir = SparsifierFixture.root.appendingPathComponent("onnx")

    static var all: [OperatorCase] {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("ops/manifest.json")),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let cases = json["cases"] as? [[String: Any]]
        else { return [] }
        return cases.map { c in
            OperatorCase(
                name: c["name"] as! String,
                inputs: (c["inputs"] as! [[String: Any]]).map { ($0["name"] as! String, $0["file"] as! String) },
                output: (c["output"] as! [String: Any])["file"] as! String,
                batched: ((c["inputs"] as! [[String: Any]]).first?["symbolic_batch"] as? Bool) ?? false)
        }
    }
}

extension OperatorCase {
    /// A trained fixture model and its test sample `index` as a [1, ...] tensor (with the per-sample shape).
    static func modelAndSample(_ name: String, index: Int = 0) throws -> (model: ONNXModel, sample: Tensor, shape: [Int]) {
        let model = try ONNXModel(path: dir.appendingPathComponent("\(name).onnx").path)
        let x = try NPY.read(dir.appendingPathComponent("\(name).inputs.npy").path)
        let shape = Array(x.shape.dropFirst()), size = shape.reduce(1, *)
        return (model, Tensor(shape: [1] + shape, floats: Array(x.floats()[(index * size)..<((index + 1) * size)])), shape)
    }
}

/// onnxruntime is the reference: relative error 1e-4 of the output's largest magnitude (the issue's bar), which
/// covers float32 summation-order differences (onnxruntime with graph optimisations off, see the fixtures' README).
let onnxTolerance = 1e-4

@Suite("ONNX import and CPU operators against onnxruntime")
struct ONNXTests {
    @Test("per-operator cases", arguments: OperatorCase.all)
    func operatorCase(_ c: OperatorCase) throws {
        let path = OperatorCase.dir.appendingPathComponent("ops/\(c.name).onnx").path
        let graph = try Graph.load(path)
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("ops/\(c.output)").path)
        var feeds: [String: Tensor] = [:]
        for (name, file) in c.inputs {
            let a = try NPY.read(OperatorCase.dir.appendingPathComponent("ops/\(file)").path)
            feeds[name] = Tensor(shape: a.shape, floats: a.floats())
        }
        let got = try graph.run(feeds)
        #expect(got.shape == want.shape, "\(c.name): shape \(got.shape) vs \(want.shape)")
        let w = want.doubles()
        let scale = max(1e-6, w.map(abs).max() ?? 0)
        expectClose(got.asFloats, w, tolerance: onnxTolerance * scale, c.name)
    }

    @Test("trained models reproduce onnxruntime's logits", arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits",
                                                                       "mlp_breast_cancer_opset17", "lenet_digits_opset17", "resnet_digits_opset17"])
    func model(_ name: String) throws {
        let base = name.replacingOccurrences(of: "_opset17", with: "")
        let model = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("\(name).onnx").path)
        let x = try NPY.read(OperatorCase.dir.appendingPathComponent("\(base).inputs.npy").path)
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("\(base).logits.npy").path)
        let y = try model.run(Tensor(shape: x.shape, floats: x.floats()))
        #expect(y.shape == want.shape)
        let w = want.doubles()
        expectClose(y.asFloats, w, tolerance: onnxTolerance * max(1, w.map(abs).max()!), name)
        #expect(try model.outputShape(forInput: x.shape) == want.shape)
    }

    @Test("bad models and inputs get clear errors")
    func badModels() throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try FileIO.read(OperatorCase.dir.appendingPathComponent("lenet_digits.onnx").path)
        try AtomicFile.write(Array(good.prefix(good.count / 2)), to: dir + "/truncated.onnx")
        #expect(throws: HarsanyiError.self) { try ONNXModel(path: dir + "/truncated.onnx") }
        try AtomicFile.write(Array("not a model".utf8), to: dir + "/junk.onnx")
        #expect(throws: HarsanyiError.self) { try ONNXModel(path: dir + "/junk.onnx") }
        // An unsupported operator and an opset outside 7...21 are load-time errors naming the node / the opset.
        for (op, opset, message) in [
            ("NonMaxSuppression", Int64(13), "node nms1: operator NonMaxSuppression is not supported"), ("Relu", Int64(6), "opset 6"),
            ("Relu", Int64(22), "opset 22"), ("Gelu", Int64(18), "node nms1: Gelu before opset 20"),
        ] {
            let path = try OpsetTests.model(op: op, opset: opset, attributes: [], inputShape: [2], nodeName: "nms1")
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try ONNXModel(path: path)
                Issue.record("\(op) opset \(opset) loaded")
            } catch let e as HarsanyiError {
                #expect("\(e)".contains(message), "\(e)")
            }
        }
        let model = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("lenet_digits.onnx").path)
        do {
            _ = try model.run(Tensor(shape: [1, 1, 9, 8], floats: [Float](repeating: 0, count: 72)))
            Issue.record("a wrong input shape ran")
        } catch let e as HarsanyiError {
            #expect("\(e)".contains("input"), "\(e)")
        }
    }
}

extension Graph {
    /// Runs a whole graph with named feeds (all graph inputs), for the per-operator cases; returns the first output.
    func run(_ feeds: [String: Tensor]) throws -> Tensor {
        var values = initializers
        for (k, v) in feeds { values[k] = v }
        for n in nodes {
            let outs = try ONNXModel.evaluatePublic(n, n.inputs.map { $0.isEmpty ? nil : values[$0] }, opset: opset)
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
        }
        return values[outputs[0].name]!
    }
}

@Suite("Masked forward passes against onnxruntime")
struct MaskedForwardTests {
    static func spec(_ model: String) throws -> [String: Any] {
        let data = try Data(contentsOf: OperatorCase.dir.appendingPathComponent("\(model).masked_inputs_spec.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test("v(S) of every masked input equals onnxruntime's log-odds", arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"])
    func maskedLogOdds(_ name: String) throws {
        let spec = try Self.spec(name)
        let (model, sampleTensor, shape) = try OperatorCase.modelAndSample(name, index: spec["sample_index"] as! Int)
        let size = shape.reduce(1, *), sample = sampleTensor.floats
        let players = spec["players"] as! [[Int]]
        let baseline: [Float]
        if let b = spec["baseline"] as? [String: Any], let file = b["file"] as? String {
            baseline = try Baseline.mean(OperatorCase.dir.appendingPathComponent(file).path).resolve(count: size)
        } else {
            baseline = try Baseline.zero.resolve(count: size)
        }
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("\(name).masked_logodds.npy").path).doubles()
        for linear in [false, true] {
            let driver = try MaskedForward(model: model, sample: Tensor(shape: [1] + shape, floats: sample), players: players, baseline: baseline,
                                           batchSize: 100, useLinearity: linear)
            #expect(driver.usesLinearity == linear, "\(name): the first operator is linear in the input, so the shortcut applies")
            let v = try driver.rewards(kind: .logOdds, target: spec["label"] as! Int)
            expectClose(v, want, tolerance: onnxTolerance * max(1, want.map(abs).max()!), "\(name) linearity=\(linear)")
        }
    }

    @Test("players and baselines parse and resolve; bad ones are errors")
    func specs() throws {
        #expect(try PlayerSpec.parse("grid:2x2").resolve(sampleShape: [1, 4, 4]) == [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
        #expect(try PlayerSpec.parse("features:3,1").resolve(sampleShape: [5]) == [[3], [1]])
        #expect(try PlayerSpec.parse("positions:1").resolve(sampleShape: [3, 2]) == [[2, 3]])
        for bad in ["grid:0x2", "features:a", "pixels:1", "grid"] { #expect(throws: HarsanyiError.self) { try PlayerSpec.parse(bad) } }
        #expect(throws: HarsanyiError.self) { try PlayerSpec.features([7]).resolve(sampleShape: [5]) }
        #expect(throws: HarsanyiError.self) { try PlayerSpec.features([1, 1]).resolve(sampleShape: [5]) }
        #expect(try Baseline.parse("value:0.5").resolve(count: 2) == [0.5, 0.5])
        #expect(throws: HarsanyiError.self) { try Baseline.parse("value:x") }
        #expect(abs(RewardKind.logOdds.value([1, 2, 3], target: 2) - log(exp(3.0) / (exp(1.0) + exp(2.0)))) < 1e-12)
        #expect(RewardKind.binary.value([1.5], target: 0) == -1.5)
    }

    @Test("background masked: elements in no player take the baseline too")
    func background() throws {
        let model = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("lenet_digits.onnx").path)
        let sample = Tensor(shape: [1, 1, 8, 8], floats: [Float](repeating: 1, count: 64))
        let driver = try MaskedForward(model: model, sample: sample, players: [[0], [1]], baseline: [Float](repeating: 0, count: 64),
                                       maskBackground: true)
        var row = [Float](repeating: -1, count: 64)
        row.withUnsafeMutableBufferPointer { driver.masked(0b10, into: $0) }
        #expect(row[1] == 1 && row[0] == 0 && row[2...].allSatisfy { $0 == 0 })
    }
}

@Suite("Masking an intermediate tensor")
struct MaskAtTests {
    @Test("masking at a post-ReLU feature map equals running the suffix on masked feature maps")
    func maskAt() throws {
        let model = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("lenet_digits.onnx").path)
        let x = try NPY.read(OperatorCase.dir.appendingPathComponent("lenet_digits.inputs.npy").path)
        let sample = Tensor(shape: [1, 1, 8, 8], floats: Array(x.floats()[0..<64]))
        // The first Relu's output: a [1, C, 8, 8] feature map.
        guard let relu = model.graph.nodes.first(where: { $0.op == "Relu" }) else { Issue.record("no Relu"); return }
        let plan = try SuffixPlan(model: model, start: relu.outputs[0], sample: sample)
        let players = try PlayerSpec.grid(rows: 2, columns: 2).resolve(sampleShape: plan.sampleShape)
        let zero = [Float](repeating: 0, count: plan.sampleValue.count)
        let unmasked = try plan.run(Tensor(shape: [1] + plan.sampleShape, floats: plan.sampleValue))
        #expect(unmasked.floats == (try model.run(sample)).floats, "the suffix on the sample's own feature map reproduces the model")
        for linear in [false, true] {
            let f = try MaskedForward(model: model, sample: sample, maskAt: relu.outputs[0], players: players, baseline: zero, useLinearity: linear)
            let v = try f.rewards(kind: .logit, target: 2)
            for s in [0, 5, 15] {
                var fm = [Float](repeating: 0, count: zero.count)
                fm.withUnsafeMutableBufferPointer { f.masked(s, into: $0) }
                let y = try plan.run(Tensor(shape: [1] + plan.sampleShape, floats: fm))
                #expect(abs(Double(y.floats[2]) - v[s]) <= 1e-4 * max(1, abs(v[s])), "subset \(s), linearity \(linear)")
            }
        }
        #expect(throws: HarsanyiError.self) { try SuffixPlan(model: model, start: "no-such-tensor", sample: sample) }
    }
}

@Suite("Opset-dependent semantics")
struct OpsetTests {
    /// A one-node model built with the generated protobuf types.
    static func model(op: String, opset: Int64, attributes: [Onnx_AttributeProto], inputShape: [Int64], extraInputs: [Onnx_TensorProto] = [],
                      nodeName: String = "node") throws -> String {
        var m = Onnx_ModelProto()
        m.irVersion = 7
        var o = Onnx_OperatorSetIdProto()
        o.version = opset
        m.opsetImport = [o]
        var n = Onnx_NodeProto()
        n.name = nodeName
        n.opType = op
        n.input = ["x"] + extraInputs.map(\.name)
        n.output = ["y"]
        n.attribute = attributes
        m.graph.node = [n]
        m.graph.initializer = extraInputs
        var x = Onnx_ValueInfoProto()
        x.name = "x"
        x.type.tensorType.elemType = 1
        x.type.tensorType.shape.dim = inputShape.map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = $0; return d }
        var y = Onnx_ValueInfoProto()
        y.name = "y"
        m.graph.input = [x]
        m.graph.output = [y]
        let path = NSTemporaryDirectory() + "harsanyi-opset-\(UUID().uuidString).onnx"
        try AtomicFile.write(Array(try m.serializedBytes() as [UInt8]), to: path)
        return path
    }

    static func ints(_ name: String, _ v: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v
        return a
    }

    static func int(_ name: String, _ v: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = v
        return a
    }

    /// BatchNormalization at opset 7 with spatial = 0: scale, bias, mean and variance of shape [C, L] apply per
    /// element; checked against the formula in Double on the interpreter and the compiled CPU program.
    @Test("BatchNormalization spatial = 0 (opsets 7 and 8) normalises per element")
    func batchNormPerElement() throws {
        let (c, l) = (2, 3)
        func tensor(_ name: String, _ v: [Float]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name
            t.dataType = 1
            t.dims = [Int64(c), Int64(l)]
            t.floatData = v
            return t
        }
        let scale: [Float] = [1, 2, 0.5, -1, 1.5, 3], bias: [Float] = [0, 1, -1, 2, 0.5, 0]
        let mean: [Float] = [0.1, -0.2, 0.3, 0, 1, -1], variance: [Float] = [1, 4, 0.25, 2, 0.5, 9]
        let path = try Self.model(
            op: "BatchNormalization", opset: 7, attributes: [Self.int("spatial", 0)], inputShape: [2, Int64(c), Int64(l)],
            extraInputs: [tensor("s", scale), tensor("b", bias), tensor("m", mean), tensor("v", variance)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let x = (0..<(2 * c * l)).map { Float($0) * 0.7 - 3 }
        let want = x.indices.map { i -> Double in
            let p = i % (c * l)
            let a = Double(scale[p]) / (Double(variance[p]) + 1e-5).squareRoot()
            return (Double(x[i]) - Double(mean[p])) * a + Double(bias[p])
        }
        let model = try ONNXModel(path: path)
        let input = Tensor(shape: [2, c, l], floats: x)
        expectClose(try model.run(input).floats, want, tolerance: 1e-5, "interpreter")
        let plan = try SuffixPlan(model: model, start: "x", sample: Tensor(shape: [1, c, l], floats: Array(x[0..<(c * l)])))
        expectClose(try CPUSuffixRunner(plan, compiled: true).run(input).floats, want, tolerance: 1e-5, "compiled")
    }

    @Test("Softmax before opset 13 normalises the flattened trailing axes; from 13 one axis")
    func softmax() throws {
        let x = (0..<24).map { Float($0 % 7) * 0.3 }
        for (opset, flattened) in [(Int64(11), true), (13, false)] {
            let path = try Self.model(op: "Softmax", opset: opset, attributes: [Self.int("axis", 1)], inputShape: [2, 3, 4])
            defer { try? FileManager.default.removeItem(atPath: path) }
            let y = try ONNXModel(path: path).run(Tensor(shape: [2, 3, 4], floats: x)).floats
            for b in 0..<2 {
                if flattened {  // one softmax over the 12 values of each batch item
                    let sum = y[(b * 12)..<((b + 1) * 12)].reduce(0, +)
                    #expect(abs(sum - 1) < 1e-5, "opset 11: batch \(b) sums to \(sum)")
                } else {  // a softmax over axis 1 (3 values) for each of the 4 positions
                    for k in 0..<4 {
                        let sum = (0..<3).map { y[b * 12 + $0 * 4 + k] }.reduce(0, +)
                        #expect(abs(sum - 1) < 1e-5, "opset 13: batch \(b) position \(k) sums to \(sum)")
                    }
                }
            }
        }
    }

    @Test("Squeeze and Unsqueeze take axes as an attribute before opset 13")
    func axesAttribute() throws {
        let up = try Self.model(op: "Unsqueeze", opset: 11, attributes: [Self.ints("axes", [0, 3])], inputShape: [2, 3])
        let down = try Self.model(op: "Squeeze", opset: 11, attributes: [Self.ints("axes", [1])], inputShape: [2, 1, 3])
        defer { try? FileManager.default.removeItem(atPath: up); try? FileManager.default.removeItem(atPath: down) }
        let x = (0..<6).map(Float.init)
        #expect(try ONNXModel(path: up).run(Tensor(shape: [2, 3], floats: x)).shape == [1, 2, 3, 1])
        #expect(try ONNXModel(path: down).run(Tensor(shape: [2, 1, 3], floats: x)).shape == [2, 3])
    }
}
