import Foundation
import HarsanyiCore
import HarsanyiONNX
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

    /// Whole trained models (Conv+BatchNorm folding, fused ReLU, pools, Concat, the interpreted Transpose) on a
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
}
