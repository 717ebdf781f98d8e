import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor
import HarsanyiTestSupport
import Testing

/// Plan options that together reach every kernel path: the defaults (fusions on, channel-vector kernels for
/// constant weights, pools in the conv kernel), no rewrites with every Conv and Gemm on the tiled GEMMs, and every
/// Conv direct (a fused pool then runs after its Conv).
let openCLModelOptions: [(String, OpenCLModel.Options)] = [
    ("default", OpenCLModel.Options()),
    ("plain, conv GEMM", OpenCLModel.Options(fuseRelu: false, foldBatchNorm: false, directConvBelowChannels: 0, channelVectors: false,
                                             fusePools: false)),
    ("conv direct", OpenCLModel.Options(directConvBelowChannels: Int.max, channelVectors: false)),
]

@Suite("ONNX models on OpenCL kernels", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct OpenCLModelTests {
    static var backend: OpenCLBackend { TestBackends.opencl(.cpuStyle) }

    @Test("per-operator cases against onnxruntime", arguments: OperatorCase.all)
    func operatorCase(_ c: OperatorCase) throws {
        let dir = OperatorCase.dir.appendingPathComponent("ops")
        let graph = try Graph.load(dir.appendingPathComponent("\(c.name).onnx").path)
        let want = try NPY.read(dir.appendingPathComponent(c.output).path)
        var feeds: [String: Tensor] = [:]
        for (name, file) in c.inputs {
            let a = try NPY.read(dir.appendingPathComponent(file).path)
            feeds[name] = Tensor(shape: a.shape, floats: a.floats())
        }
        let w = want.doubles()
        let scale = max(1e-6, w.map(abs).max() ?? 0)
        for (label, options) in openCLModelOptions {
            let model = try OpenCLModel(graph: graph, backend: Self.backend, options: options)
            let got = try model.run(feeds)
            #expect(got.shape == want.shape, "\(c.name) (\(label)): shape \(got.shape) vs \(want.shape)")
            expectClose(got.floats, w, tolerance: onnxTolerance * scale, "\(c.name) (\(label))")
        }
    }

    static let modelNames = ["mlp_breast_cancer", "lenet_digits", "resnet_digits",
                             "mlp_breast_cancer_opset17", "lenet_digits_opset17", "resnet_digits_opset17"]

    @Test("trained models reproduce onnxruntime's logits", arguments: modelNames)
    func model(_ name: String) throws {
        let base = name.replacingOccurrences(of: "_opset17", with: "")
        let onnx = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("\(name).onnx").path)
        let x = try NPY.read(OperatorCase.dir.appendingPathComponent("\(base).inputs.npy").path)
        let want = try NPY.read(OperatorCase.dir.appendingPathComponent("\(base).logits.npy").path)
        let w = want.doubles()
        for (label, options) in openCLModelOptions {
            let model = try OpenCLModel(onnx, backend: Self.backend, options: options)
            let y = try model.run(Tensor(shape: x.shape, floats: x.floats()))
            #expect(y.shape == want.shape, "\(name) (\(label))")
            expectClose(y.floats, w, tolerance: onnxTolerance * max(1, w.map(abs).max()!), "\(name) (\(label))")
            #expect(try model.outputShape(forInput: x.shape) == want.shape)
        }
    }

    @Test("trained models at batch 1 and 7 agree with the CPU path; the device path agrees with the host path",
          arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"], [1, 7])
    func batches(_ name: String, _ batch: Int) throws {
        let onnx = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("\(name).onnx").path)
        let sample = onnx.sampleShape.map { $0 ?? 1 }
        var rng = SplitMix64(seed: seed(batch, name.count))
        let x = Tensor(shape: [batch] + sample, floats: rng.uniform(batch * sample.reduce(1, *)).map { Float($0) + 0.5 })
        let want = try onnx.run(x)
        let w = want.floats.map(Double.init)
        let model = try OpenCLModel(onnx, backend: Self.backend)
        let y = try model.run(x)
        #expect(y.shape == want.shape)
        expectClose(y.floats, w, tolerance: onnxTolerance * max(1, w.map(abs).max()!), "\(name) batch \(batch)")
        // Twice more: plans are cached and their pooled buffers reused.
        #expect(try model.run(x).floats == y.floats)
        let input = try Self.backend.makeBuffer(count: x.count, precision: .float32)
        try Self.backend.write(x.floats, to: input)
        let out = try model.run(device: input, batch: batch)
        #expect(out.count == y.count)
        #expect(try Self.backend.read(out, as: Float.self) == y.floats)
        // Buffers are shared by values whose lifetimes do not overlap: fewer buffers than kernel outputs.
        let summary = try model.planSummary(forInput: x.shape)
        let outputs = onnx.steps.count
        #expect(summary.buffers <= max(2, outputs / 2 + 1), "\(name): \(summary.buffers) buffers for \(outputs) steps")
    }

    // MARK: odd sizes against the CPU path

    static let gemmSizes: [[Int]] = [[1, 1, 1], [17, 33, 65], [65, 17, 33], [3, 100, 7], [70, 5, 129]]

    @Test("Gemm of odd sizes, transposes, C broadcasts, alpha/beta and fused Relu", arguments: gemmSizes)
    func gemm(_ mkn: [Int]) throws {
        let (m, k, n) = (mkn[0], mkn[1], mkn[2])
        var rng = SplitMix64(seed: seed(m, k, n))
        for tA in [0, 1] {
            for tB in [0, 1] {
                for (ci, cShape) in [[], [n], [m, 1], [m, n], [1]].enumerated() {
                    var g = TestGraph()
                    g.input("a", tA == 1 ? [k, m] : [m, k])
                    g.initializer("b", tB == 1 ? [n, k] : [k, n], rng.floats(k * n))
                    if !cShape.isEmpty { g.initializer("c", cShape, rng.floats(cShape.reduce(1, *))) }
                    g.node("Gemm", ["a", "b"] + (cShape.isEmpty ? [] : ["c"]), ["g"],
                           ["transA": .int(tA), "transB": .int(tB), "alpha": .float(ci == 3 ? 0.5 : 1), "beta": .float(ci == 2 ? -2 : 1)])
                    g.node("Relu", ["g"], ["y"])
                    let a = Tensor(shape: tA == 1 ? [k, m] : [m, k], floats: rng.floats(m * k))
                    try compareWithCPU(g, ["a": a], "Gemm \(m)x\(k)x\(n) transA \(tA) transB \(tB) C \(cShape)")
                }
            }
        }
    }

    @Test("MatMul: batched, broadcast batches, vectors")
    func matmul() throws {
        var rng = SplitMix64(seed: seed(42))
        for (sa, sb) in [([2, 1, 5, 7], [3, 7, 4]), ([4, 5, 7], [7, 3]), ([7], [3, 7, 2]), ([2, 3, 9], [9]), ([5, 17], [17, 33]), ([1, 1], [1, 1])] {
            var g = TestGraph()
            g.input("a", sa)
            g.initializer("b", sb, rng.floats(sb.reduce(1, *)))
            g.node("MatMul", ["a", "b"], ["y"])
            try compareWithCPU(g, ["a": Tensor(shape: sa, floats: rng.floats(sa.reduce(1, *)))], "MatMul \(sa) x \(sb)")
            // B on the device too (a second graph input).
            var g2 = TestGraph()
            g2.input("a", sa)
            g2.input("b", sb)
            g2.node("MatMul", ["a", "b"], ["y"])
            try compareWithCPU(g2, ["a": Tensor(shape: sa, floats: rng.floats(sa.reduce(1, *))), "b": Tensor(shape: sb, floats: rng.floats(sb.reduce(1, *)))],
                               "MatMul \(sa) x \(sb), both inputs")
        }
    }

    struct ConvCase: CustomTestStringConvertible, Sendable {
        var x: [Int], w: [Int], attrs: [String: TestGraph.Attr], bias = true, relu = false, batchNorm = false
        var testDescription: String { "x \(x) w \(w) \(attrs.keys.sorted())\(relu ? " relu" : "")\(batchNorm ? " bn" : "")" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(x: [3, 5, 11, 9], w: [17, 5, 3, 2], attrs: ["strides": .ints([2, 1]), "pads": .ints([1, 0, 2, 1]), "dilations": .ints([1, 2])], relu: true),
        ConvCase(x: [2, 6, 7, 8], w: [18, 3, 3, 3], attrs: ["group": .int(2), "pads": .ints([1, 1, 1, 1])], batchNorm: true),
        ConvCase(x: [1, 4, 9, 9], w: [4, 1, 3, 3], attrs: ["group": .int(4), "auto_pad": .string("SAME_LOWER"), "strides": .ints([2, 2])], bias: false),
        ConvCase(x: [7, 3, 13], w: [33, 3, 4], attrs: ["strides": .ints([3]), "pads": .ints([2, 1])], relu: true),
        ConvCase(x: [2, 4, 10], w: [6, 2, 3], attrs: ["group": .int(2), "dilations": .ints([2]), "auto_pad": .string("SAME_UPPER")]),
        ConvCase(x: [1, 1, 1, 1], w: [1, 1, 1, 1], attrs: [:]),
        ConvCase(x: [2, 3, 6, 6], w: [40, 3, 6, 6], attrs: ["auto_pad": .string("VALID")], relu: true, batchNorm: true),
        // Depthwise and 1x1 grouped at stride 1 (conv_pix8 by default), rows of 11 and 8: a partial and a full block.
        ConvCase(x: [2, 6, 7, 11], w: [6, 1, 3, 3], attrs: ["group": .int(6), "pads": .ints([1, 1, 1, 1])], relu: true),
        ConvCase(x: [3, 8, 5, 8], w: [8, 2, 1, 1], attrs: ["group": .int(4)], batchNorm: true),
    ]

    @Test("Conv of odd shapes on both kernels (with BN folding and Relu fusion)", arguments: convCases)
    func conv(_ c: ConvCase) throws {
        var rng = SplitMix64(seed: seed(c.x.reduce(0, +), c.w.reduce(0, +)))
        var g = TestGraph()
        g.input("x", c.x)
        g.initializer("w", c.w, rng.floats(c.w.reduce(1, *)))
        if c.bias { g.initializer("b", [c.w[0]], rng.floats(c.w[0])) }
        var last = "conv"
        g.node("Conv", ["x", "w"] + (c.bias ? ["b"] : []), [last], c.attrs)
        if c.batchNorm {
            let m = c.w[0]
            g.initializer("s", [m], rng.floats(m))
            g.initializer("beta", [m], rng.floats(m))
            g.initializer("mu", [m], rng.floats(m))
            g.initializer("var", [m], rng.floats(m).map { abs($0) + 0.1 })
            g.node("BatchNormalization", [last, "s", "beta", "mu", "var"], ["bn"], ["epsilon": .float(1e-3)])
            last = "bn"
        }
        if c.relu {
            g.node("Relu", [last], ["relu"])
            last = "relu"
        }
        g.output = last
        try compareWithCPU(g, ["x": Tensor(shape: c.x, floats: rng.floats(c.x.reduce(1, *)))], c.testDescription)
    }

    @Test("Conv followed by a pool: pooled in the conv kernel when the windows fit, else one after the other")
    func convPool() throws {
        var rng = SplitMix64(seed: seed(11))
        let pools: [(String, [String: TestGraph.Attr])] = [
            ("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
            ("AveragePool", ["kernel_shape": .ints([3, 2]), "strides": .ints([2, 1])]),
            ("AveragePool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)]),  // 9 x 11: ceil adds a row
            ("MaxPool", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])]),  // padded: separate
            ("MaxPool", ["kernel_shape": .ints([2, 6]), "strides": .ints([1, 3])]),  // a window row wider than a work item's columns
        ]
        // (input, weight, group, relu)
        // The last one: 8 output channels on rows narrower than 8 (the 4-column conv_vec_pool forms).
        let convs: [([Int], [Int], Int, Bool)] = [([3, 2, 9, 11], [10, 1, 3, 3], 2, true), ([2, 1, 8, 8], [8, 1, 3, 3], 1, true),
                                                  ([2, 4, 7, 9], [16, 4, 3, 3], 1, false), ([2, 2, 5, 6], [8, 2, 3, 3], 1, true)]
        for (xs, ws, group, relu) in convs {
            for (op, attrs) in pools {
                var g = TestGraph()
                g.input("x", xs)
                g.initializer("w", ws, rng.floats(ws.reduce(1, *)))
                g.initializer("b", [ws[0]], rng.floats(ws[0]))
                g.node("Conv", ["x", "w", "b"], ["c"], ["pads": .ints([1, 1, 1, 1]), "group": .int(group)])
                var last = "c"
                if relu {
                    g.node("Relu", ["c"], ["r"])
                    last = "r"
                }
                g.node(op, [last], ["y"], attrs)
                try compareWithCPU(g, ["x": Tensor(shape: xs, floats: rng.floats(xs.reduce(1, *)))], "Conv \(ws) group \(group) relu \(relu), \(op) \(attrs.keys.sorted())")
            }
        }
        // 1-D.
        var g = TestGraph()
        g.input("x", [3, 2, 13])
        g.initializer("w", [6, 2, 3], rng.floats(36))
        g.node("Conv", ["x", "w"], ["c"], [:])
        g.node("AveragePool", ["c"], ["y"], ["kernel_shape": .ints([2]), "strides": .ints([2])])
        try compareWithCPU(g, ["x": Tensor(shape: [3, 2, 13], floats: rng.floats(78))], "1-D Conv and AveragePool")
        // 1-D with 8 output channels and a max pool (a fused 1-D pool).
        var g8 = TestGraph()
        g8.input("x", [3, 2, 13])
        g8.initializer("w", [8, 2, 3], rng.floats(48))
        g8.node("Conv", ["x", "w"], ["c"], ["pads": .ints([1, 1])])
        g8.node("MaxPool", ["c"], ["y"], ["kernel_shape": .ints([2]), "strides": .ints([2])])
        try compareWithCPU(g8, ["x": Tensor(shape: [3, 2, 13], floats: rng.floats(78))], "1-D Conv (8 channels) and MaxPool")
    }

    @Test("pools, reductions, softmax, transposes and broadcasts on odd shapes")
    func misc() throws {
        var rng = SplitMix64(seed: seed(7))
        let x = Tensor(shape: [3, 5, 7, 9], floats: rng.floats(3 * 5 * 7 * 9))
        let cases: [(String, [String], [String: TestGraph.Attr], (inout TestGraph) -> Void)] = [
            ("MaxPool", [], ["kernel_shape": .ints([3, 2]), "strides": .ints([2, 3]), "pads": .ints([1, 0, 1, 1]), "ceil_mode": .int(1)], { _ in }),
            ("AveragePool", [], ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "ceil_mode": .int(1),
                                 "count_include_pad": .int(1)], { _ in }),
            ("AveragePool", [], ["kernel_shape": .ints([2, 4]), "auto_pad": .string("SAME_UPPER"), "strides": .ints([3, 2])], { _ in }),
            ("MaxPool", [], ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 3])], { _ in }),
            ("GlobalAveragePool", [], [:], { _ in }),
            ("ReduceMax", [], ["axes": .ints([0, 2]), "keepdims": .int(0)], { _ in }),
            ("ReduceMean", [], ["axes": .ints([-1, 1])], { _ in }),
            ("ReduceSum", ["axes"], ["keepdims": .int(0)], { $0.int64Initializer("axes", [1, 3]) }),
            ("Softmax", [], ["axis": .int(2)], { _ in }),
            ("LogSoftmax", [], [:], { _ in }),
            ("Transpose", [], ["perm": .ints([3, 1, 0, 2])], { _ in }),
            ("Transpose", [], ["perm": .ints([0, 2, 3, 1])], { _ in }),
            ("Transpose", [], ["perm": .ints([1, 0, 2, 3])], { _ in }),  // the last axes stay: row copies
            ("BatchNormalization", ["s", "bb", "mu", "var"], ["epsilon": .float(1e-3)], { g in
                for name in ["s", "bb", "mu", "var"] { g.initializer(name, [5], (0..<5).map { Float($0 + 1) * (name == "mu" ? -0.1 : 0.3) }) }
            }),
            ("Mul", ["k"], [:], { g in g.initializer("k", [5, 1, 9], (0..<45).map { Float($0) / 7 }) }),
            ("Sub", ["k"], [:], { g in g.initializer("k", [], [0.25]) }),
            ("Div", ["k"], [:], { g in g.initializer("k", [3, 5, 7, 9], (0..<945).map { Float($0 % 13) + 0.5 }) }),  // equal shapes, 945 = 59·16 + 1
            ("Div", ["k"], [:], { g in g.initializer("k", [3, 1, 1, 1], [1, 2, 4]) }),
            ("LeakyRelu", [], ["alpha": .float(0.2)], { _ in }),
            ("Sigmoid", [], [:], { _ in }),
            ("Tanh", [], [:], { _ in }),
            ("Clip", ["lo", "hi"], [:], { g in g.initializer("lo", [], [-0.3]); g.initializer("hi", [], [0.6]) }),
        ]
        for (op, extra, attrs, setup) in cases {
            var g = TestGraph()
            g.input("x", x.shape)
            setup(&g)
            g.node(op, ["x"] + extra, ["y"], attrs)
            try compareWithCPU(g, ["x": x], "\(op) \(attrs.keys.sorted())")
        }
        // Views and Concat around kernels, with a Shape-derived Reshape computed on the host.
        var g = TestGraph()
        g.input("x", x.shape)
        g.int64Initializer("idx", [0])
        g.int64Initializer("rest", [-1])
        g.node("Relu", ["x"], ["r"])
        g.node("Shape", ["r"], ["s"])
        g.node("Gather", ["s", "idx"], ["n"])
        g.node("Concat", ["n", "rest"], ["target"], ["axis": .int(0)])
        g.node("Reshape", ["r", "target"], ["flat"])
        g.node("Sigmoid", ["flat"], ["sg"])
        g.node("Concat", ["flat", "sg", "flat"], ["cat"], ["axis": .int(1)])
        g.node("Unsqueeze", ["cat", "ax"], ["u"])
        g.int64Initializer("ax", [1])
        g.node("Identity", ["u"], ["y"])
        try compareWithCPU(g, ["x": x], "views and Concat")
    }

    @Test("operators without a device kernel are host steps; unsupported situations are errors naming the node")
    func unsupported() throws {
        var g = TestGraph()
        g.input("x", [2, 3])
        g.int64Initializer("i", [1, 0])
        g.node("Gather", ["x", "i"], ["y"], [:], name: "pick")
        let model = try OpenCLModel(graph: try g.load(), backend: Self.backend)
        // Gather of device data by constant indices runs on the device as an index copy; an operator without a
        // device kernel (Einsum) is a host step, reported by the plan.
        let feeds = ["x": Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])]
        #expect(try model.run(feeds).floats == [4, 5, 6, 1, 2, 3])
        #expect(try model.hostNodes(feeds).isEmpty)
        var e = TestGraph()
        e.input("x", [2, 3])
        e.node("Einsum", ["x"], ["y"], ["equation": .string("ij->ji")], name: "swap")
        let einsum = try OpenCLModel(graph: try e.load(), backend: Self.backend)
        #expect(try einsum.run(feeds).floats == [1, 4, 2, 5, 3, 6])
        #expect(try einsum.hostNodes(feeds) == ["swap (Einsum)"])
        // run(device:) checks the buffer against the batch.
        let lenet = try OpenCLModel(try ONNXModel(path: OperatorCase.dir.appendingPathComponent("lenet_digits.onnx").path), backend: Self.backend)
        let wrong = try Self.backend.makeBuffer(count: 63, precision: .float32)
        #expect(throws: HarsanyiError.self) { try lenet.run(device: wrong, batch: 1) }
        #expect(throws: HarsanyiError.self) { try lenet.run(device: wrong, batch: 0) }
        var r = TestGraph()
        r.input("x", [2, 3])
        r.node("Reshape", ["x", "x"], ["y"], [:], name: "reshape_by_data")
        #expect(throws: HarsanyiError.self) { try OpenCLModel(graph: try r.load(), backend: Self.backend).run(["x": Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])]) }
    }

    /// Runs `g` on OpenCL with every option set and on the CPU path (Graph.run) and compares.
    func compareWithCPU(_ g: TestGraph, _ feeds: [String: Tensor], _ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let graph = try g.load()
        let want = try graph.run(feeds)
        let w = want.asFloats.map(Double.init)
        for (label, options) in openCLModelOptions {
            let model = try OpenCLModel(graph: graph, backend: Self.backend, options: options)
            let got = try model.run(feeds)
            #expect(got.shape == want.shape, "\(context) (\(label)): shape \(got.shape) vs \(want.shape)", sourceLocation: sourceLocation)
            expectClose(got.floats, w, tolerance: onnxTolerance * max(1e-6, w.map(abs).max() ?? 0), "\(context) (\(label))",
                        sourceLocation: sourceLocation)
        }
    }

    // MARK: timing (opt-in)

    @Test("throughput: OpenCL vs the CPU path at masked-forward batch sizes",
          .enabled(if: ProcessInfo.processInfo.environment["HARSANYI_BENCH_MODELS"] != nil, "set HARSANYI_BENCH_MODELS=1"))
    func throughput() throws {
        let batch = Int(ProcessInfo.processInfo.environment["HARSANYI_BENCH_BATCH"] ?? "") ?? 256
        let repeats = 9
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        for name in ["lenet_digits", "resnet_digits", "mlp_breast_cancer"] {
            let onnx = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("\(name).onnx").path)
            let sample = onnx.sampleShape.map { $0 ?? 1 }
            var rng = SplitMix64(seed: 1)
            let x = Tensor(shape: [batch] + sample, floats: rng.floats(batch * sample.reduce(1, *)))
            /// Median wall time of `body` (after one warm-up run).
            func wall(_ body: () throws -> Void) rethrows -> Double {
                try body()
                return try median((0..<repeats).map { _ in
                    let t0 = Date()
                    try body()
                    return Date().timeIntervalSince(t0)
                })
            }
            let cpu = try wall { _ = try onnx.run(x) }
            var line = "\(name) batch \(batch): CPU path \(Int(Double(batch) / cpu)) samples/s"
            let variants: [(String, OpenCLModel.Options)] = [
                ("default", OpenCLModel.Options()),
                ("no Relu fusion", OpenCLModel.Options(fuseRelu: false)),
                ("no BN folding", OpenCLModel.Options(foldBatchNorm: false)),
                ("no fusions", OpenCLModel.Options(fuseRelu: false, foldBatchNorm: false)),
                ("all conv GEMM", OpenCLModel.Options(directConvBelowChannels: 0)),
                ("direct below 16", OpenCLModel.Options(directConvBelowChannels: 16)),
                ("all conv direct", OpenCLModel.Options(directConvBelowChannels: Int.max)),
            ]
            // Variants measured in interleaved rounds, so a busy spell of the machine hits them all alike.
            var models: [(String, OpenCLModel, DeviceBuffer)] = []
            for (label, options) in variants {
                let model = try OpenCLModel(onnx, backend: Self.backend, options: options)
                let input = try Self.backend.makeBuffer(count: x.count, precision: .float32)
                try Self.backend.write(x.floats, to: input)
                _ = try model.run(device: input, batch: batch)
                models.append((label, model, input))
            }
            var times = [[Double]](repeating: [], count: models.count)
            for _ in 0..<repeats {
                for (i, (_, model, input)) in models.enumerated() {
                    times[i].append(try Self.backend.measureKernelTime { _ = try model.run(device: input, batch: batch) })
                }
            }
            for (i, (label, model, input)) in models.enumerated() {
                line += "\n  OpenCL \(label): kernels \(String(format: "%.2f", median(times[i]) * 1e3)) ms"
                if i == 0 {
                    let summary = try model.planSummary(forInput: x.shape)
                    let host = try wall { _ = try model.run(x) }
                    let device = try wall {
                        _ = try model.run(device: input, batch: batch)
                        try Self.backend.finish()
                    }
                    line += ", \(Int(Double(batch) / host)) samples/s with upload/download, \(Int(Double(batch) / device)) on device; \(summary.launches) launches, \(summary.buffers) pooled buffers (\(summary.bytes / 1024) KiB)"
                }
            }
            print(line)
        }
    }
}

extension SplitMix64 {
    mutating func floats(_ count: Int) -> [Float] { uniform(count).map { Float($0) } }
}

/// A small ONNX graph written as protobuf by hand (no generated code needed in tests), for odd-size cases.
struct TestGraph {
    enum Attr: Sendable { case int(Int), float(Float), ints([Int]), string(String) }
    var nodes: [[UInt8]] = []
    var initializers: [[UInt8]] = []
    var inputs: [[UInt8]] = []
    var output = "y"
    var opset = 13

    /// A protobuf message being written.
    struct Proto {
        var bytes: [UInt8] = []
        mutating func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
        }
        mutating func int(_ field: Int, _ v: Int) { varint(UInt64(field << 3)); varint(UInt64(bitPattern: Int64(v))) }
        mutating func data(_ field: Int, _ b: [UInt8]) { varint(UInt64(field << 3 | 2)); varint(UInt64(b.count)); bytes += b }
        mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
        mutating func float(_ field: Int, _ f: Float) { varint(UInt64(field << 3 | 5)); withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
    }

    mutating func input(_ name: String, _ shape: [Int]) {
        var shapeP = Proto()
        for d in shape { var dim = Proto(); dim.int(1, d); shapeP.data(1, dim.bytes) }
        var tensor = Proto()
        tensor.int(1, 1)
        tensor.data(2, shapeP.bytes)
        var type = Proto()
        type.data(1, tensor.bytes)
        var info = Proto()
        info.string(1, name)
        info.data(2, type.bytes)
        inputs.append(info.bytes)
    }

    private mutating func tensor(_ name: String, _ shape: [Int], type: Int, raw: [UInt8]) {
        var t = Proto()
        for d in shape { t.int(1, d) }
        t.int(2, type)
        t.string(8, name)
        t.data(9, raw)
        initializers.append(t.bytes)
    }

    mutating func initializer(_ name: String, _ shape: [Int], _ values: [Float]) {
        tensor(name, shape, type: 1, raw: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }

    mutating func int64Initializer(_ name: String, _ values: [Int]) {
        tensor(name, [values.count], type: 7, raw: values.flatMap { v in withUnsafeBytes(of: Int64(v).littleEndian) { Array($0) } })
    }

    mutating func node(_ op: String, _ ins: [String], _ outs: [String], _ attrs: [String: Attr] = [:], name: String? = nil) {
        var n = Proto()
        for i in ins { n.string(1, i) }
        for o in outs { n.string(2, o) }
        n.string(3, name ?? "\(op)_\(nodes.count)")
        n.string(4, op)
        for (key, value) in attrs.sorted(by: { $0.key < $1.key }) {
            var a = Proto()
            a.string(1, key)
            switch value {
            case .int(let i): a.int(3, i); a.int(20, 2)
            case .float(let f): a.float(2, f); a.int(20, 1)
            case .ints(let v): for i in v { a.int(8, i) }; a.int(20, 7)
            case .string(let s): a.string(4, s); a.int(20, 3)
            }
            n.data(5, a.bytes)
        }
        nodes.append(n.bytes)
    }

    /// Writes the model to a temporary file and loads it with the importer.
    /// Writes the model to a temporary .onnx file and returns its path (the caller removes it).
    func save() throws -> String {
        var g = Proto()
        for n in nodes { g.data(1, n) }
        g.string(2, "test")
        for t in initializers { g.data(5, t) }
        for i in inputs { g.data(11, i) }
        var out = Proto()
        out.string(1, output)
        g.data(12, out.bytes)
        var opsetP = Proto()
        opsetP.string(1, "")
        opsetP.int(2, opset)
        var m = Proto()
        m.int(1, 8)
        m.string(2, "harsanyi-tests")
        m.data(7, g.bytes)
        m.data(8, opsetP.bytes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("harsanyi-\(UUID().uuidString).onnx").path
        try AtomicFile.write(m.bytes, to: path)
        return path
    }

    func load() throws -> Graph {
        let path = try save()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Graph.load(path)
    }
}

extension OpenCLModelTests {
    @Test("profile per launch (opt-in)", .enabled(if: ProcessInfo.processInfo.environment["HARSANYI_BENCH_MODELS"] != nil, "set HARSANYI_BENCH_MODELS=1"))
    func profile() throws {
        let batch = Int(ProcessInfo.processInfo.environment["HARSANYI_BENCH_BATCH"] ?? "") ?? 256
        for name in ["lenet_digits", "resnet_digits"] {
            let onnx = try ONNXModel(path: OperatorCase.dir.appendingPathComponent("\(name).onnx").path)
            let sample = onnx.sampleShape.map { $0 ?? 1 }
            var rng = SplitMix64(seed: 1)
            let x = Tensor(shape: [batch] + sample, floats: rng.floats(batch * sample.reduce(1, *)))
            for (label, options) in openCLModelOptions {
                let model = try OpenCLModel(onnx, backend: Self.backend, options: options)
                let p = try model.profile(x)
                print("\(name) \(label): " + p.map { "\($0.node)/\($0.kernel) \(String(format: "%.2f", $0.seconds * 1e3))" }.joined(separator: ", "))
            }
        }
    }
}

@Suite("Masked forwards with OpenCL kernels")
struct OpenCLMaskedForwardTests {
    @Test("the OpenCL runner gives the CPU path's v (input masking, linearity shortcut, intermediate tensor)",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"])
    func sameAsCPU(_ name: String) throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample(name)
        let players = name.hasPrefix("mlp") ? (0..<8).map { [$0] } : try PlayerSpec.grid(rows: 2, columns: 4).resolve(sampleShape: shape)
        let cl = TestBackends.opencl(.cpuStyle)
        var masks: [String?] = [nil]
        if !name.hasPrefix("mlp"), let relu = model.graph.nodes.first(where: { $0.op == "Relu" }) { masks.append(relu.outputs[0]) }
        for maskAt in masks {
            let start = maskAt ?? model.input.name
            let shapeAt = try SuffixPlan(model: model, start: start, sample: sample).sampleShape
            let lists = maskAt == nil ? players : try PlayerSpec.grid(rows: 2, columns: 2).resolve(sampleShape: shapeAt)
            let zero = [Float](repeating: 0, count: shapeAt.reduce(1, *))
            for linear in [false, true] {
                let cpu = try MaskedForward(model: model, sample: sample, maskAt: maskAt, players: lists, baseline: zero, batchSize: 64, useLinearity: linear)
                let dev = try MaskedForward(model: model, sample: sample, maskAt: maskAt, players: lists, baseline: zero, batchSize: 64,
                                            useLinearity: linear, executor: "opencl") { try OpenCLModel(suffix: $0, backend: cl) }
                let a = try cpu.rewards(kind: .logit, target: 1), b = try dev.rewards(kind: .logit, target: 1)
                expectClose(b, a, tolerance: onnxTolerance * max(1, a.map(abs).max()!), "\(name) mask-at \(start) linearity \(linear)")
            }
        }
    }
}

@Suite("Masked inputs and rewards made on the device")
struct DeviceMaskedForwardTests {
    @Test("v from device-made masked inputs equals the CPU path's, for every reward kind; it feeds the engine directly",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: ["mlp_breast_cancer", "lenet_digits", "resnet_digits"])
    func sameAsCPU(_ name: String) throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample(name)
        let size = shape.reduce(1, *)
        let players = name.hasPrefix("mlp") ? (0..<7).map { [$0] } : try PlayerSpec.grid(rows: 2, columns: 4).resolve(sampleShape: shape)
        let baseline = (0..<size).map { Float($0 % 3) * 0.1 }
        let cl = TestBackends.opencl(.cpuStyle)
        for background in [false, true] {
            let cpu = try MaskedForward(model: model, sample: sample, players: players, baseline: baseline, maskBackground: background,
                                        batchSize: 32, useLinearity: false)
            let dev = try DeviceMaskedForward(plan: cpu.plan, players: players, baseline: baseline, maskBackground: background, batch: 32, backend: cl)
            for kind in name.hasPrefix("mlp") ? RewardKind.allCases.filter { $0 != .binary } : [.logOdds, .logProbability] {
                let want = try cpu.rewards(kind: kind, target: 1)
                let got = try cl.read(try dev.rewards(kind: kind, target: 1, precision: .float32), as: Float.self).map(Double.init)
                expectClose(got, want, tolerance: onnxTolerance * max(1, want.map(abs).max()!), "\(name) \(kind) background masked \(background)")
            }
        }
        // The engine on the device buffer equals the engine on the same v from the host.
        let dev = try DeviceMaskedForward(plan: try SuffixPlan(model: model, start: model.input.name, sample: sample), players: players,
                                          baseline: baseline, maskBackground: false, batch: 64, backend: cl)
        let vBuffer = try dev.rewards(kind: .logOdds, target: 1, precision: .float32)
        let v = try cl.read(vBuffer, as: Float.self).map(Double.init)
        var s = InteractionSettings()
        s.optimizer = .sgd
        s.iterations = 50
        let a = try Sparsifier.run(device: vBuffer, settings: s, backend: cl), b = try Sparsifier.run(v: v, settings: s, backend: cl)
        #expect(a.iand == b.iand && a.ior == b.ior && a.lossTrace == b.lossTrace)
    }
}

/// v from the device shortcut against v from the host shortcut on the same executor: the logits are the same
/// floats (rows bit-identical, per-row kernels), so they differ only by the reward (float32 on the device,
/// float64 on the host): a few float32 ulps of |v|.
let deviceShortcutTolerance = 1e-5

extension DeviceMaskedForwardTests {
    @Test("linearity shortcut on the device: rows bit-identical to the host's, v equal within deviceShortcutTolerance",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: ["mlp_breast_cancer", "lenet_digits"])
    func shortcut(_ name: String) throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample(name)
        let cl = TestBackends.opencl(.cpuStyle)
        let size = shape.reduce(1, *)
        var rng = SplitMix64(seed: seed(name.count, 9))
        let baseline = rng.floats(size).map { $0 * 0.1 }
        // (players, host batch, device batch): equal batches; a device batch that divides neither 2^n nor the host's;
        // n = 5 with batches larger than 2^n.
        for (n, hostBatch, deviceBatch) in [(9, 64, 64), (9, 64, 100), (5, 256, 1000)] {
            let players = name.hasPrefix("mlp") ? (0..<n).map { [$0] }
                : try PlayerSpec.grid(rows: n == 9 ? 3 : 1, columns: n == 9 ? 3 : 5).resolve(sampleShape: shape)
            let host = try MaskedForward(model: model, sample: sample, players: players, baseline: baseline, batchSize: hostBatch,
                                         useLinearity: true, executor: "opencl") { try OpenCLModel(suffix: $0, backend: cl) }
            #expect(host.usesLinearity, "\(name): the shortcut applies")
            let dev = try DeviceMaskedForward(host, batch: deviceBatch, backend: cl)
            #expect(dev.usesLinearity && dev.batch == min(deviceBatch, 1 << n))
            let context = "\(name) n \(n) host batch \(hostBatch) device batch \(deviceBatch)"
            // Rows: the device kernel sums in the host's order, at any start and count.
            let hb = min(host.batchSize, 1 << n)
            let all = stride(from: 0, to: 1 << n, by: hb).flatMap { host.shortcut!.rows(from: $0, count: hb).floats }
            let rowSize = all.count >> n
            let tail = min(37, dev.batch)
            for (start, count) in [(0, dev.batch), ((1 << n) - tail, tail), (3, min(dev.batch, (1 << n) - 3))] {
                let got = try cl.read(try dev.rows(from: start, count: count), as: Float.self)
                let want = Array(all[(start * rowSize)..<((start + count) * rowSize)])
                let differing = zip(got, want).filter { $0 != $1 }.count
                #expect(got.count == want.count && differing == 0, "\(context): rows [\(start), \(start + count)): \(differing) values differ")
            }
            for kind in [RewardKind.logOdds, .logit] {
                let want = try host.rewards(kind: kind, target: 1)
                let got = try cl.read(try dev.rewards(kind: kind, target: 1, precision: .float32), as: Float.self).map(Double.init)
                expectClose(got, want, tolerance: deviceShortcutTolerance * max(1, want.map(abs).max()!), "\(context) \(kind)")
            }
            // And the CPU path without the shortcut, within the executors' tolerance.
            let plain = try MaskedForward(model: model, sample: sample, players: players, baseline: baseline, batchSize: hostBatch, useLinearity: false)
            let want = try plain.rewards(kind: .logOdds, target: 1)
            let got = try cl.read(try dev.rewards(kind: .logOdds, target: 1, precision: .float32), as: Float.self).map(Double.init)
            expectClose(got, want, tolerance: onnxTolerance * max(1, want.map(abs).max()!), "\(context) against the CPU path without the shortcut")
        }
    }

    @Test("elementwise steps after the mask point are folded into the masking kernel",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func elementwisePrefix() throws {
        let (model, sample, _) = try OperatorCase.modelAndSample("mlp_breast_cancer")
        let plan = try SuffixPlan(model: model, start: model.input.name, sample: sample)
        let folded = DeviceMaskedForward.elementwisePrefix(plan)
        #expect(folded?.0.map(\.op) == ["Sub", "Div"], "the MLP's standardisation")
    }
}

extension DeviceMaskedForwardTests {
    /// Batches are chunked to the device's memory: the fitting batch is a power of two whose buffers (measured
    /// on the executor's plan) stay within the limit, shrinks with it, and a limit below one sample is an error.
    @Test("device batches fit the memory limit", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func fittingBatch() throws {
        let (model, sample, shape) = try OperatorCase.modelAndSample("lenet_digits")
        let size = shape.reduce(1, *)
        let runner = try OpenCLModel(suffix: try SuffixPlan(model: model, start: model.input.name, sample: sample), backend: TestBackends.opencl(.cpuStyle))
        let summary = try runner.planSummary(forInput: [64] + shape)
        let perSample = (summary.bytes + 63) / 64 + 2 * size * 4
        for limit in [1 << 20, 8 << 20, 256 << 20] {
            let b = try #require(try DeviceMaskedForward.fittingBatch(runner: runner, rowSize: size, limit: limit))
            #expect(b > 0 && b & (b - 1) == 0, "batch \(b) for limit \(limit)")
            #expect(b * perSample <= limit, "batch \(b) × \(perSample) bytes exceeds \(limit)")
            #expect(2 * b * perSample > limit || b == 1 << 30, "batch \(b) is not the largest that fits \(limit)")
        }
        #expect(throws: HarsanyiError.self) { _ = try DeviceMaskedForward.fittingBatch(runner: runner, rowSize: size, limit: 16) }
    }
}
