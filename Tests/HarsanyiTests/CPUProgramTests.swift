import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiTestSupport
import ONNXProto
import Testing

/// The compiled CPU executor (CPUProgram via CPUSuffixRunner) against onnxruntime and against the interpreter.
@Suite("Compiled CPU executor")
struct CPUProgramTests {
    /// Single-input operator cases with a batch axis: the whole graph is the suffix after the input, compiled at the
    /// case's batch.
    @Test("per-operator cases, compiled, reproduce onnxruntime", arguments: OperatorCase.all.filter { $0.inputs.count == 1 && $0.batched })
    func operatorCase(_ c: OperatorCase) throws {
        let path = OperatorCase.dir.appendingPathComponent("ops/\(c.name).onnx").path
        let model = try ONNXModel(path: path)
        let a = try NPY.read(OperatorCase.dir.appendingPathComponent("ops/\(c.inputs[0].file)").path)
        guard let batch = a.shape.first, batch >= 1 else { return }
        let x = Tensor(shape: a.shape, floats: a.floats())
        let size = x.count / batch
        let plan = try SuffixPlan(model: model, start: model.input.name, sample: Tensor(shape: [1] + a.shape.dropFirst(), floats: Array(x.floats[0..<size])))
        let runner = CPUSuffixRunner(plan, compiled: true)
        let got = try runner.run(x)
        #expect(runner.status.hasPrefix("compiled"), "\(c.name): \(runner.status)")
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("ops/\(c.output)").path)
        #expect(got.shape == want.shape, "\(c.name): shape \(got.shape) vs \(want.shape)")
        let w = want.doubles()
        expectClose(got.asFloats, w, tolerance: onnxTolerance * max(1e-6, w.map(abs).max() ?? 0), c.name)
    }

    /// Whole trained models (Conv+BatchNorm folding, fused ReLU, pools, Concat, Transpose) on a
    /// batch of different samples: compiled equals onnxruntime's logits.
    @Test("trained models, compiled, reproduce onnxruntime's logits", arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"])
    func model(_ name: String) throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample(name)
        let x = try NPY.read(OperatorCase.dir.appendingPathComponent("\(name).inputs.npy").path)
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("\(name).logits.npy").path)
        let runner = CPUSuffixRunner(try SuffixPlan(model: model, start: model.input.name, sample: sample), compiled: true)
        let y = try runner.run(Tensor(shape: x.shape, floats: x.floats()))
        #expect(runner.status.hasPrefix("compiled"), "\(name): \(runner.status)")
        #expect(y.shape == want.shape)
        let w = want.doubles()
        expectClose(y.asFloats, w, tolerance: onnxTolerance * max(1, w.map(abs).max()!), name)
        // The same program runs again on a second batch of the same size (arena reuse leaves no stale values).
        let again = try runner.run(count: x.shape[0], sampleShape: shape) { _ = $0.update(fromContentsOf: x.floats()) }
        #expect(again.floats == y.floats, "\(name): a second run of the compiled program differs")
        // Tensors of disjoint lifetimes share arena memory.
        let arena = try #require(runner.arenaFloats)
        #expect(arena.arena < arena.regions, "\(name): arena \(arena.arena) floats, regions \(arena.regions)")
    }

    /// Masked batches: v from the compiled executor equals v from the interpreter, with and without the shortcut,
    /// and with batches running concurrently (each takes its own arena).
    @Test("masked v: compiled equals the interpreter", arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"])
    func maskedAgree(_ name: String) throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample(name)
        let size = shape.reduce(1, *)
        let players: [[Int]] = try (name.hasPrefix("mlp") ? PlayerSpec.features(Array(0..<9)) : PlayerSpec.grid(rows: 3, columns: 3))
            .resolve(sampleShape: shape)
        for linear in [false, true] {
            func v(_ compiled: Bool) throws -> [Double] {
                let f = try MaskedForward(model: model, sample: sample, players: players, baseline: [Float](repeating: 0, count: size), batchSize: 64,
                                          useLinearity: linear) { CPUSuffixRunner($0, compiled: compiled) }
                return try f.rewards(kind: .logOdds, target: 1)
            }
            let a = try v(true), b = try v(false)
            // Float32 rounding of the folded BatchNorm and the fused bias, relative to the largest |v|.
            expectClose(a, b, tolerance: 1e-5 * max(1, b.map(abs).max()!), "\(name) linearity=\(linear)")
        }
    }

    /// Automatic CPU batches: powers of two; large for the MLP (cheap samples, sgemm calls to amortise), split for
    /// LeNet so that 2^8 samples still give every core two batches.
    @Test("automatic batch sizes follow the model's working set and the core count")
    func automaticBatch() throws {
        func suggested(_ name: String, samples: Int) throws -> Int {
            let (model, sample, _) = try OperatorCase.modelAndSample(name)
            return CPUSuffixRunner(try SuffixPlan(model: model, start: model.input.name, sample: sample), compiled: true)
                .suggestedBatch(samples: samples, cores: 2)
        }
        let mlp = try suggested("mlp_breast_cancer", samples: 4096), lenet = try suggested("lenet_digits", samples: 256)
        let lenetLarge = try suggested("lenet_digits", samples: 1 << 16)
        for b in [mlp, lenet, lenetLarge] { #expect(b > 0 && b & (b - 1) == 0, "batch \(b) is not a power of two") }
        #expect(mlp >= 512, "MLP batch \(mlp)")
        #expect(lenet <= 64, "LeNet batch for 256 samples on 2 cores: \(lenet)")
        #expect(lenetLarge >= 128 && lenetLarge <= 4096, "LeNet batch for 2^16 samples: \(lenetLarge)")
    }

    /// One Conv or pool configuration: every code path of the compiled executor (direct shift-and-accumulate,
    /// im2col with contiguous and strided row segments, 1-D, groups, tiled and general pools).
    struct Layer: CustomTestStringConvertible, Sendable {
        let name: String
        let op: String
        let input: [Int64]
        let weight: [Int64]?
        let ints: [String: [Int64]]
        let group: Int64
        var testDescription: String { name }
    }

    static let layers: [Layer] = [
        Layer(name: "depthwise 3x3 pad 1 (direct)", op: "Conv", input: [3, 4, 7, 6], weight: [4, 1, 3, 3], ints: ["pads": [1, 1, 1, 1]], group: 4),
        Layer(name: "dilated, asymmetric pads (direct)", op: "Conv", input: [2, 1, 9, 8], weight: [3, 1, 3, 2],
              ints: ["pads": [0, 1, 2, 1], "dilations": [2, 1]], group: 1),
        Layer(name: "grouped 1x1 (direct)", op: "Conv", input: [2, 8, 5, 5], weight: [8, 4, 1, 1], ints: [:], group: 2),
        Layer(name: "row stride 2, dilated columns (padded im2col)", op: "Conv", input: [2, 3, 9, 10], weight: [5, 3, 3, 3],
              ints: ["strides": [2, 1], "dilations": [1, 2], "pads": [1, 0, 2, 1]], group: 1),
        Layer(name: "grouped 3x3 (padded im2col)", op: "Conv", input: [2, 8, 6, 6], weight: [4, 4, 3, 3], ints: ["pads": [1, 1, 1, 1]], group: 2),
        Layer(name: "column stride 2 (strided im2col)", op: "Conv", input: [2, 3, 7, 9], weight: [4, 3, 3, 3], ints: ["strides": [1, 2], "pads": [1, 1, 1, 1]],
              group: 1),
        Layer(name: "1-D, pads 1/2", op: "Conv", input: [2, 6, 11], weight: [4, 6, 3], ints: ["pads": [1, 2]], group: 1),
        Layer(name: "max pool 3x3 stride 2 pad 1 (taps)", op: "MaxPool", input: [2, 3, 7, 7], weight: nil,
              ints: ["kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]], group: 1),
        Layer(name: "average pool 2x2 stride 2 (tiled)", op: "AveragePool", input: [2, 3, 6, 8], weight: nil,
              ints: ["kernel_shape": [2, 2], "strides": [2, 2]], group: 1),
        Layer(name: "average pool 3x2 stride 1 (full windows)", op: "AveragePool", input: [2, 2, 5, 6], weight: nil,
              ints: ["kernel_shape": [3, 2]], group: 1),
        Layer(name: "average pool counting pads", op: "AveragePool", input: [2, 2, 5, 5], weight: nil,
              ints: ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": [1]], group: 1),
    ]

    @Test("conv and pool paths, compiled, equal the interpreter", arguments: layers)
    func layer(_ l: Layer) throws {
        let caseSeed = seed(l.name.unicodeScalars.reduce(0) { $0 &* 31 &+ Int($1.value) })
        var rng = SplitMix64(seed: caseSeed)
        var attributes: [Onnx_AttributeProto] = l.ints.map { k, v in
            k == "count_include_pad" ? OpsetTests.int(k, v[0]) : OpsetTests.ints(k, v)
        }
        var extra: [Onnx_TensorProto] = []
        if let w = l.weight {
            attributes.append(OpsetTests.int("group", l.group))
            var wt = Onnx_TensorProto()
            wt.name = "W"
            wt.dims = w
            wt.dataType = 1
            wt.floatData = rng.uniform(Int(w.reduce(1, *))).map(Float.init)
            var bt = Onnx_TensorProto()
            bt.name = "B"
            bt.dims = [w[0]]
            bt.dataType = 1
            bt.floatData = rng.uniform(Int(w[0])).map(Float.init)
            extra = [wt, bt]
        }
        let path = try OpsetTests.model(op: l.op, opset: 13, attributes: attributes, inputShape: l.input, extraInputs: extra)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try ONNXModel(path: path)
        let shape = l.input.map(Int.init), size = shape.dropFirst().reduce(1, *)
        let x = Tensor(shape: shape, floats: rng.uniform(shape.reduce(1, *)).map(Float.init))
        let want = try model.run(x)
        let runner = CPUSuffixRunner(try SuffixPlan(model: model, start: model.input.name, sample: Tensor(shape: [1] + shape.dropFirst(),
                                                                                                          floats: Array(x.floats[0..<size]))),
                                     compiled: true)
        let got = try runner.run(x)
        #expect(runner.status == "compiled", "\(l.name): \(runner.status)")
        #expect(got.shape == want.shape, "\(l.name) (seed \(caseSeed))")
        // Float32 sums in another order (sgemm blocks, tap order): a few ulps of the largest term.
        expectClose(got.floats, want.floats.map(Double.init), tolerance: 1e-5 * max(1, want.floats.map { abs(Double($0)) }.max()!),
                    "\(l.name) (seed \(caseSeed))")
    }

    /// A Relu folded into the following MaxPool (the pool's output is clamped instead) must keep windows that
    /// hold no input element at −∞, as the interpreter's max(relu(x)) over nothing does.
    @Test("Relu before MaxPool: clamped output, empty windows stay -inf")
    func reluPoolEmptyWindows() throws {
        var g = TestGraph()
        g.input("x", [2, 2, 2, 2])
        g.node("Relu", ["x"], ["r"])
        g.node("MaxPool", ["r"], ["y"], ["kernel_shape": .ints([2, 2]), "dilations": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        let path = try g.save()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try ONNXModel(path: path)
        var rng = SplitMix64(seed: seed(23))
        let x = Tensor(shape: [2, 2, 2, 2], floats: rng.uniform(16).map(Float.init))
        let want = try model.run(x)
        let runner = CPUSuffixRunner(try SuffixPlan(model: model, start: model.input.name, sample: Tensor(shape: [1, 2, 2, 2], floats: Array(x.floats[0..<8]))),
                                     compiled: true)
        let got = try runner.run(x)
        #expect(runner.status == "compiled")
        #expect(want.floats.contains(-.infinity), "the case has an empty window")
        #expect(got.shape == want.shape && got.floats == want.floats, "compiled \(got.floats) vs interpreter \(want.floats)")
    }
}
