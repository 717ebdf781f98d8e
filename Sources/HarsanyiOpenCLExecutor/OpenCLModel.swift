import COpenCL
import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiONNX

/// An ONNX model run with OpenCL kernels on device memory (float32): the GPU/OpenCL counterpart of
/// `ONNXModel.run`, with the same operator semantics (the CPU path is the reference).
///
/// - At init: constant tensors are taken from the `ONNXModel` (initializers and folded nodes); a Conv followed
///   only by an inference BatchNormalization is folded into new weights and bias, and a Relu that is the only
///   consumer of a Conv, Gemm or MatMul output is fused into that kernel (both optional, `Options`).
///   Weights are uploaded once, on first use, and stay on the device.
/// - Per input shape (in practice: per batch size) a plan is made once: every shape is computed, each step
///   becomes one or a few kernel launches, and intermediate buffers are taken from a pool and given back when
///   the last reader of the value has run, so buffers are shared between values whose lifetimes do not overlap.
///   Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout and Cast to float are views (no kernel, no copy).
///   Shape, and any step whose inputs are all known on the host (Gather, Cast, Concat of shape tensors...),
///   are evaluated on the host at planning time with the CPU operators.
/// - `run` uploads a batch, enqueues every launch of the plan, and downloads the output;
///   `run(device:batch:)` keeps everything on the device.
///
/// Unsupported situations (an operator input that must be known on the host but is computed on the device,
/// Gather on device data, ranks above 6, ...) throw `HarsanyiError.unsupported("node NAME: ...")` when the plan
/// is made. Thread-safe: runs of one model are serialized.
public final class OpenCLModel: @unchecked Sendable, BatchRunner {
    /// Plan-level choices (defaults are the measured best on PoCL; all are exact rewrites up to rounding).
    public struct Options: Sendable {
        /// Fuse a Relu into the Conv/Gemm/MatMul/BatchNormalization/binary op that is its only producer (and whose output it
        /// alone reads), and into a pool that alone reads it.
        public var fuseRelu: Bool
        /// Fold an inference BatchNormalization into the preceding Conv's weights and bias.
        public var foldBatchNorm: Bool
        /// Conv groups with fewer output channels than this use `conv_direct` (one work item per output);
        /// others use the tiled implicit GEMM `conv_igemm`. 0: always the GEMM; `Int.max`: always direct.
        public var directConvBelowChannels: Int
        /// Gemm/MatMul with a constant B and Conv with constant weights run on the channel-vector kernels
        /// (`gemm_rows*`, `conv_vec*` in nn_gemm.cl: weights transposed and padded once, no barriers), where they
        /// apply; otherwise the tiled GEMM and `directConvBelowChannels` decide.
        public var channelVectors: Bool
        /// A MaxPool/AveragePool that alone reads a Conv output is planned with the Conv: `conv_vec_pool*` pools in
        /// the kernel when its windows lie inside the conv output; otherwise the two run one after the other.
        public var fusePools: Bool
        /// Attention chains (MatMul, scale, masks, Softmax, MatMul) run as one kernel (`OpenCLModelAttention.swift`).
        /// Default: on, unless HARSANYI_FUSED_ATTENTION=0 (for A/B comparisons).
        public var fuseAttention: Bool

        public init(fuseRelu: Bool = true, foldBatchNorm: Bool = true, directConvBelowChannels: Int = 16, channelVectors: Bool = true,
                    fusePools: Bool = true,
                    fuseAttention: Bool = ProcessInfo.processInfo.environment["HARSANYI_FUSED_ATTENTION"] != "0") {
            self.fuseAttention = fuseAttention
            self.fuseRelu = fuseRelu
            self.foldBatchNorm = foldBatchNorm
            self.directConvBelowChannels = directConvBelowChannels
            self.channelVectors = channelVectors
            self.fusePools = fusePools
        }
    }

    public let backend: OpenCLBackend
    public let options: Options
    /// The graph inputs fed at run time (one for an `ONNXModel`).
    public let inputNames: [String]
    public let outputName: String
    /// The declared shape of the data input, nil entries symbolic (the batch); empty when unknown.
    public let declaredInputShape: [Int?]
    let opset: Int
    /// The nodes executed per batch, after folding and fusion.
    let steps: [Node]
    /// Host-known tensors: initializers, folded nodes, folded BatchNormalization weights.
    let constants: [String: Tensor]
    /// Pools planned with the Conv before them, by the pool's output (which the Conv step now names).
    let fusedPools: [String: Node]
    private let checkInput: (([Int]) throws -> Void)?

    private let lock = NSLock()
    /// Device copies of constants (and of per-node derived parameters), made once on first use.
    var deviceConstants: [String: OpenCLBuffer] = [:]
    private var plans: [(key: String, plan: Plan)] = []
    private static let maxPlans = 4
    var gemmTiles: GemmTiles?

    /// A model loaded by the ONNX importer (constants already folded).
    public convenience init(_ model: ONNXModel, backend: OpenCLBackend, options: Options = Options()) throws {
        try self.init(steps: model.steps, constants: model.constants, inputs: [model.input.name], output: model.outputName,
                      opset: model.graph.opset, declaredInput: model.input.shape, backend: backend, options: options,
                      check: { try model.checkInputShape($0) })
    }

    /// The suffix of a model after a mask point (see `SuffixPlan`): the prefix tensors it reads are constants here.
    public convenience init(suffix: SuffixPlan, backend: OpenCLBackend, options: Options = Options()) throws {
        var constants = suffix.model.constants
        for (k, v) in suffix.fixed { constants[k] = v }
        try self.init(steps: suffix.steps, constants: constants, inputs: [suffix.start], output: suffix.model.outputName,
                      opset: suffix.model.graph.opset, declaredInput: [nil] + suffix.sampleShape.map { $0 }, backend: backend, options: options,
                      check: nil)
    }

    /// A whole graph with any number of data inputs (fed by name with `run(_ feeds:)`): nodes needed for
    /// `output` (default: the first graph output), constant nodes folded here.
    public convenience init(graph: Graph, output: String? = nil, backend: OpenCLBackend, options: Options = Options()) throws {
        let out = output ?? graph.outputs.first?.name ?? ""
        let (steps, constants) = try graph.pruneAndFold(output: out)
        try self.init(steps: steps, constants: constants, inputs: graph.inputs.map(\.name), output: out, opset: graph.opset,
                      declaredInput: graph.inputs.count == 1 ? graph.inputs[0].shape : [], backend: backend, options: options, check: nil)
    }

    init(steps: [Node], constants: [String: Tensor], inputs: [String], output: String, opset: Int, declaredInput: [Int?],
         backend: OpenCLBackend, options: Options, check: (([Int]) throws -> Void)?) throws {
        guard backend.supports(.float32) else { throw HarsanyiError.unsupported("float32 on \(backend.deviceDescription)") }
        self.backend = backend
        self.options = options
        inputNames = inputs
        outputName = output
        self.opset = opset
        declaredInputShape = declaredInput
        checkInput = check
        var consts = constants
        var s = steps
        if options.foldBatchNorm { s = try Self.foldBatchNorms(s, &consts, output: output) }
        if options.fuseRelu { s = Self.fuseRelus(s, output: output) }
        var pools: [String: Node] = [:]
        if options.fusePools { (s, pools) = Self.fusePools(s, output: output) }
        fusedPools = pools
        self.steps = s
        self.constants = consts
    }

    /// The suffix `plan` fed at `start`, the value after its first `count` steps (which the caller computes and
    /// which keep the sample's shape): a new executor sharing this one's device constants (no second weight upload).
    func resumed(at start: String, dropping count: Int, plan: SuffixPlan) throws -> OpenCLModel {
        var constants = plan.model.constants
        for (k, v) in plan.fixed { constants[k] = v }
        let m = try OpenCLModel(steps: Array(plan.steps.dropFirst(count)), constants: constants, inputs: [start], output: plan.model.outputName,
                                opset: plan.model.graph.opset, declaredInput: [nil] + plan.sampleShape.map { $0 }, backend: backend,
                                options: options, check: nil)
        lock.lock()
        m.deviceConstants = deviceConstants
        lock.unlock()
        return m
    }

    /// The per-sample input shape (the declared shape without the batch dimension).
    public var sampleShape: [Int?] { Array(declaredInputShape.dropFirst()) }

    // MARK: running

    /// Runs a batch (the single data input) and returns the output tensor.
    public func run(_ x: Tensor) throws -> Tensor {
        guard inputNames.count == 1 else {
            throw HarsanyiError.invalidArgument("the graph has \(inputNames.count) inputs (\(inputNames.joined(separator: ", "))): use run(feeds)")
        }
        return try run([inputNames[0]: x])
    }

    /// Runs the graph with one tensor per graph input, by name.
    public func run(_ feeds: [String: Tensor]) throws -> Tensor {
        for name in inputNames where feeds[name] == nil { throw HarsanyiError.invalidArgument("input '\(name)' is not fed") }
        if let checkInput, let x = feeds[inputNames[0]] { try checkInput(x.shape) }
        lock.lock()
        defer { lock.unlock() }
        // Integer feeds are host values of the plan (indices, shapes), float feeds are uploaded per run.
        let hostFeeds = feeds.filter { $0.value.dtype == .int64 }
        let plan = try plan(for: feeds.filter { $0.value.dtype != .int64 }.mapValues(\.shape), hostFeeds: hostFeeds)
        var slots = plan.slots
        for (name, slot) in plan.inputSlots {
            guard let t = feeds[name], let buffer = plan.inputBuffers[name] else { continue }
            try backend.write(t.asFloats, to: buffer)
            slots[slot] = buffer
        }
        try execute(plan, slots)
        let y = try backend.read(plan.output, as: Float.self)
        return Tensor(shape: plan.outputShape, floats: y)
    }

    /// Per planned node, what runs it: the device kernels it launches, "host step (reference)", or "view / shape
    /// value" for nodes that launch nothing (views of a buffer, shape arithmetic on the host).
    public func explain(_ feeds: [String: Tensor]) throws -> [(node: String, op: String, how: String)] {
        lock.lock()
        defer { lock.unlock() }
        let hostFeeds = feeds.filter { $0.value.dtype == .int64 }
        let p = try plan(for: feeds.filter { $0.value.dtype != .int64 }.mapValues(\.shape), hostFeeds: hostFeeds)
        // Steps after the plan's rewrites (BatchNorm folded into Conv, Relu and pools fused into their producer).
        return steps.map { n in
            let mine = p.launches.filter { $0.node == n.name }
            if mine.contains(where: { $0.host != nil }) { return (n.name, n.op, "host step (reference implementation)") }
            if mine.isEmpty { return (n.name, n.op, "no launch (a view, or a value computed on the host)") }
            let kernels = mine.map { "\($0.file).\($0.kernel)" }
            return (n.name, n.op, "device: " + Array(Set(kernels)).sorted().joined(separator: ", "))
        }
    }

    /// Nodes the plan for these feeds runs on the host (operators without a device kernel): "name (op)".
    public func hostNodes(_ feeds: [String: Tensor]) throws -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let hostFeeds = feeds.filter { $0.value.dtype == .int64 }
        return try plan(for: feeds.filter { $0.value.dtype != .int64 }.mapValues(\.shape), hostFeeds: hostFeeds).hostNodes
    }

    /// Runs a batch already on the device: `input` holds `batch` samples of `sampleShape` (float32, C order, made
    /// by `backend`). Returns the output on the device, [batch, ...] in C order. The returned buffer belongs to
    /// the plan for this batch size: it is overwritten by the next run with the same batch size (copy or read
    /// it before that).
    public func run(device input: DeviceBuffer, batch: Int) throws -> DeviceBuffer {
        guard inputNames.count == 1 else {
            throw HarsanyiError.invalidArgument("the graph has \(inputNames.count) inputs: run(device:) takes one")
        }
        let sample = sampleShape.compactMap { $0 }
        guard sample.count == sampleShape.count, !declaredInputShape.isEmpty else {
            throw HarsanyiError.unsupported("input '\(inputNames[0])' has symbolic dimensions besides the batch (\(declaredInputShape)): use run(_:) with a tensor")
        }
        guard batch >= 1 else { throw HarsanyiError.invalidArgument("batch \(batch): at least 1") }
        let shape = [batch] + sample
        let b = try backend.cl(input)
        guard b.precision == .float32, b.count == shape.reduce(1, *) else {
            throw HarsanyiError.invalidArgument("input buffer holds \(b.count) \(b.precision) values; batch \(batch) of \(sample) needs \(shape.reduce(1, *)) float32")
        }
        try checkInput?(shape)
        lock.lock()
        defer { lock.unlock() }
        let plan = try plan(for: [inputNames[0]: shape])
        var slots = plan.slots
        if let slot = plan.inputSlots[inputNames[0]] { slots[slot] = b }
        try execute(plan, slots)
        return plan.output
    }

    /// The output shape for an input shape (makes, and caches, the plan for it).
    public func outputShape(forInput shape: [Int]) throws -> [Int] {
        guard inputNames.count == 1 else { throw HarsanyiError.invalidArgument("the graph has \(inputNames.count) inputs") }
        lock.lock()
        defer { lock.unlock() }
        return try plan(for: [inputNames[0]: shape]).outputShape
    }

    /// What the plan for an input shape holds: kernel launches per run, and the pooled device buffers for
    /// intermediate values and the output (count and bytes; weights and inputs not included).
    public struct PlanSummary: Sendable {
        public let launches: Int
        public let buffers: Int
        public let bytes: Int
    }

    public func planSummary(forInput shape: [Int]) throws -> PlanSummary {
        guard inputNames.count == 1 else { throw HarsanyiError.invalidArgument("the graph has \(inputNames.count) inputs") }
        lock.lock()
        defer { lock.unlock() }
        let p = try plan(for: [inputNames[0]: shape])
        let pooled = p.slots.compactMap { $0 }
        return PlanSummary(launches: p.launches.count, buffers: pooled.count, bytes: pooled.reduce(0) { $0 + $1.count * 4 })
    }

    /// Device time of each launch of one run on `x` (OpenCL event profiling): (node, kernel, seconds), in order.
    public func profile(_ x: Tensor) throws -> [(node: String, kernel: String, seconds: Double)] {
        _ = try run(x)
        lock.lock()
        defer { lock.unlock() }
        let plan = try plan(for: [inputNames[0]: x.shape])
        var slots = plan.slots
        for (name, slot) in plan.inputSlots { slots[slot] = plan.inputBuffers[name] }
        return try plan.launches.map { l in (l.node, l.kernel, try time(l, plan, slots)) }
    }

    /// Device time of each launch of one run on a batch already on the device (see `run(device:batch:)`).
    public func profile(device input: DeviceBuffer, batch: Int) throws -> [(node: String, kernel: String, seconds: Double)] {
        _ = try run(device: input, batch: batch)
        let b = try backend.cl(input)
        lock.lock()
        defer { lock.unlock() }
        let plan = try plan(for: [inputNames[0]: [batch] + sampleShape.compactMap { $0 }])
        var slots = plan.slots
        if let slot = plan.inputSlots[inputNames[0]] { slots[slot] = b }
        return try plan.launches.map { l in (l.node, l.kernel, try time(l, plan, slots)) }
    }

    /// Device time of one launch (event profiling); wall time for a host step (its reads, host work and writes).
    private func time(_ l: Launch, _ plan: Plan, _ slots: [OpenCLBuffer?]) throws -> Double {
        guard l.host != nil else { return try backend.measureKernelTime { try execute(plan, slots, only: [l]) } }
        try backend.finish()
        let t0 = DispatchTime.now().uptimeNanoseconds
        try execute(plan, slots, only: [l])
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    /// Runs the launches in order: kernels under the backend's lock, host steps between them (a host step reads
    /// with a blocking read, which waits for the kernels before it).
    private func execute(_ plan: Plan, _ slots: [OpenCLBuffer?], only: [Launch]? = nil) throws {
        var pending: [Launch] = []
        for l in only ?? plan.launches {
            if let host = l.host {
                try launchAll(pending, slots)
                pending = []
                try host(slots)
            } else {
                pending.append(l)
            }
        }
        try launchAll(pending, slots)
    }

    private func launchAll(_ launches: [Launch], _ slots: [OpenCLBuffer?]) throws {
        guard !launches.isEmpty else { return }
        try backend.locked {
            for l in launches {
                let args = try l.args.map { a -> OpenCLBackend.Arg in
                    switch a {
                    case .arg(let x): return x
                    case .slot(let i):
                        guard let b = slots[i] else { throw HarsanyiError.invalidArgument("plan slot \(i) has no buffer") }
                        return .buffer(b)
                    }
                }
                try backend.launch(l.file, l.kernel, precision: .float32, global: l.global, local: l.local, args)
            }
        }
    }

    /// The cached plan for these input shapes, or a new one. Call with the lock held.
    private func plan(for shapes: [String: [Int]], hostFeeds: [String: Tensor] = [:]) throws -> Plan {
        var key = inputNames.map { "\($0):\(shapes[$0] ?? [])" }.joined(separator: ";")
        for (k, t) in hostFeeds.sorted(by: { $0.key < $1.key }) { key += ";\(k)=\(t.shape)\(t.ints)" }
        if let i = plans.firstIndex(where: { $0.key == key }) { return plans[i].plan }
        let p = try Planner(model: self, inputShapes: shapes, hostFeeds: hostFeeds).make()
        plans.append((key, p))
        if plans.count > Self.maxPlans { plans.removeFirst() }
        return p
    }

    // MARK: graph rewrites

    /// How many times each value is read by the steps (plus one for the graph output).
    static func readers(_ steps: [Node], output: String) -> [String: Int] {
        var r: [String: Int] = [output: 1]
        for n in steps { for name in n.inputs where !name.isEmpty { r[name, default: 0] += 1 } }
        return r
    }

    /// Conv → BatchNormalization (the Conv output read only by the BN, all parameters constant): the Conv gets
    /// weights W·a[o] and bias (b[o] − mean[o])·a[o] + B[o], a = scale / sqrt(var + ε), and writes the BN's output.
    static func foldBatchNorms(_ steps: [Node], _ constants: inout [String: Tensor], output: String) throws -> [Node] {
        var steps = steps
        let readers = Self.readers(steps, output: output)
        var i = 0
        while i < steps.count {
            let conv = steps[i]
            guard conv.op == "Conv", let out = conv.outputs.first, out != output, readers[out] == 1,
                let j = steps.firstIndex(where: { $0.op == "BatchNormalization" && $0.inputs.first == out }),
                steps[j].outputs.count == 1 || steps[j].outputs.dropFirst().allSatisfy(\.isEmpty),
                let wName = conv.input(1), let w = constants[wName], w.dtype == .float32, w.rank >= 3
            else { i += 1; continue }
            let bn = steps[j]
            let m = w.shape[0]
            let params = (1...4).compactMap { bn.input($0).flatMap { constants[$0] } }.filter { $0.count == m }
            guard params.count == 4 else { i += 1; continue }
            let bias = conv.input(2).flatMap { constants[$0] }
            if conv.input(2) != nil && bias?.count != m { i += 1; continue }
            let scale = params[0].asFloats, shift = params[1].asFloats, mean = params[2].asFloats, variance = params[3].asFloats
            let eps = bn.float("epsilon", 1e-5)
            let a = (0..<m).map { scale[$0] / (variance[$0] + eps).squareRoot() }
            let per = w.count / m
            var wf = w.floats
            for o in 0..<m { for k in 0..<per { wf[o * per + k] *= a[o] } }
            let b0 = bias?.asFloats ?? [Float](repeating: 0, count: m)
            let bf = (0..<m).map { (b0[$0] - mean[$0]) * a[$0] + shift[$0] }
            let wKey = "__opencl_fold/\(conv.name)/W", bKey = "__opencl_fold/\(conv.name)/B"
            constants[wKey] = Tensor(shape: w.shape, floats: wf)
            constants[bKey] = Tensor(shape: [m], floats: bf)
            var fused = conv
            fused.inputs = [conv.inputs[0], wKey, bKey]
            fused.outputs = [bn.outputs[0]]
            steps[i] = fused
            steps.remove(at: j)
            if j < i { i -= 1 }
            i += 1
        }
        return steps
    }

    /// A MaxPool/AveragePool (without Indices output) that alone reads a Conv output: the Conv step takes the pool's
    /// output name, and the pool node is returned by that name for the planner.
    static func fusePools(_ steps: [Node], output: String) -> ([Node], [String: Node]) {
        var steps = steps
        var pools: [String: Node] = [:]
        let readers = Self.readers(steps, output: output)
        var i = 0
        while i < steps.count {
            let n = steps[i]
            guard n.op == "Conv", n.outputs.count == 1, let out = n.outputs.first, out != output, readers[out] == 1,
                let j = steps.firstIndex(where: { ["MaxPool", "AveragePool"].contains($0.op) && $0.inputs.first == out }), j > i,
                steps[j].outputs.dropFirst().allSatisfy(\.isEmpty), steps[j].attributes["__relu_in"] == nil, let pooled = steps[j].outputs.first
            else { i += 1; continue }
            var fused = n
            fused.outputs = [pooled]
            pools[pooled] = steps[j]
            steps[i] = fused
            steps.remove(at: j)
            i += 1
        }
        return (steps, pools)
    }

    /// A Relu that alone reads a Conv/Gemm/MatMul/BatchNormalization/Add/Sub/Mul/Div output becomes that kernel's
    /// epilogue (attribute `__relu`); one that alone feeds a pool becomes the pool's input transform (attribute
    /// `__relu_in`). Nodes the planner evaluates on the host apply both attributes themselves.
    static func fuseRelus(_ steps: [Node], output: String) -> [Node] {
        var steps = steps
        let readers = Self.readers(steps, output: output)
        var i = 0
        while i < steps.count {
            let n = steps[i]
            guard ["Conv", "Gemm", "MatMul", "BatchNormalization", "Add", "Sub", "Mul", "Div"].contains(n.op), let out = n.outputs.first, out != output, readers[out] == 1,
                n.outputs.dropFirst().allSatisfy({ $0.isEmpty || readers[$0] == nil }),
                let j = steps.firstIndex(where: { $0.op == "Relu" && $0.inputs.first == out }), j > i
            else { i += 1; continue }
            var fused = n
            fused.attributes["__relu"] = .int(1)
            fused.outputs = [steps[j].outputs[0]]
            steps[i] = fused
            steps.remove(at: j)
            i += 1
        }
        // A Relu read only by a MaxPool or AveragePool (e.g. the first step of a suffix, whose producer is not
        // run here) becomes the pool's input transform (attribute `__relu_in`).
        let readers2 = Self.readers(steps, output: output)
        i = 0
        while i < steps.count {
            let r = steps[i]
            guard r.op == "Relu", let out = r.outputs.first, out != output, readers2[out] == 1, let src = r.input(0),
                let j = steps.firstIndex(where: { ["MaxPool", "AveragePool"].contains($0.op) && $0.inputs.first == out }), j > i
            else { i += 1; continue }
            var fused = steps[j]
            fused.attributes["__relu_in"] = .int(1)
            fused.inputs[0] = src
            steps[j] = fused
            steps.remove(at: i)
        }
        return steps
    }
}

/// The tile sizes `nn_gemm.cl` was compiled with (read from the device once).
struct GemmTiles {
    let m: Int, n: Int, k: Int, threads: Int
    /// conv_vec*: output columns per work item, the longest input row segment it holds, and the columns of the
    /// *_w8 forms.
    let convColumns: Int, convRow: Int, convWideColumns: Int
}

/// One kernel launch of a plan; `.slot` arguments are bound to buffers at run time (inputs, pooled buffers).
struct Launch {
    enum A { case arg(OpenCLBackend.Arg), slot(Int) }
    let node: String
    let file: String
    let kernel: String
    let global: Int
    let local: Int?
    let args: [A]
    /// A host step (see `OpenCLHostStep.swift`) instead of a kernel: runs with the plan's slot buffers.
    var host: (([OpenCLBuffer?]) throws -> Void)?

    init(node: String, file: String, kernel: String, global: Int, local: Int?, args: [A],
         host: (([OpenCLBuffer?]) throws -> Void)? = nil) {
        self.node = node
        self.file = file
        self.kernel = kernel
        self.global = global
        self.local = local
        self.args = args
        self.host = host
    }
}

/// Everything one input shape needs: launches, pooled buffers, where inputs go and the output comes from.
final class Plan {
    /// Buffers bound to slots; nil for input slots (bound per run).
    let slots: [OpenCLBuffer?]
    let inputSlots: [String: Int]
    /// Exact-size upload buffers for `run(_:)`.
    let inputBuffers: [String: OpenCLBuffer]
    let launches: [Launch]
    let output: OpenCLBuffer
    let outputShape: [Int]
    /// Nodes that run on the host ("name (op)"): operators without a device kernel.
    var hostNodes: [String] = []

    init(slots: [OpenCLBuffer?], inputSlots: [String: Int], inputBuffers: [String: OpenCLBuffer], launches: [Launch], output: OpenCLBuffer,
         outputShape: [Int]) {
        self.slots = slots
        self.inputSlots = inputSlots
        self.inputBuffers = inputBuffers
        self.launches = launches
        self.output = output
        self.outputShape = outputShape
    }
}

extension OpenCLBackend {
    /// A device buffer holding `values` as 32-bit ints (kernel parameter tables).
    func makeIntBuffer(_ values: [Int32]) throws -> OpenCLBuffer {
        let b = try OpenCLBuffer(count: max(values.count, 1), precision: .float32, context: context)
        if !values.isEmpty {
            try locked {
                try values.withUnsafeBytes {
                    try check(clEnqueueWriteBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil), "clEnqueueWriteBuffer")
                }
            }
        }
        return b
    }

    /// The tile configuration compiled into nn_gemm.cl.
    func gemmTiles() throws -> GemmTiles {
        var v = [Int32](repeating: 0, count: 7)
        let out = try makeIntBuffer(v)
        try locked {
            try launch("nn_gemm", "gemm_config", precision: .float32, global: 1, [.buffer(out)])
            try v.withUnsafeMutableBytes {
                try check(clEnqueueReadBuffer(queue, out.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil), "clEnqueueReadBuffer")
            }
        }
        guard v.allSatisfy({ $0 > 0 }) else { throw HarsanyiError.invalidArgument("nn_gemm.cl reports tile sizes \(v)") }
        return GemmTiles(m: Int(v[0]), n: Int(v[1]), k: Int(v[2]), threads: Int(v[3]), convColumns: Int(v[4]), convRow: Int(v[5]), convWideColumns: Int(v[6]))
    }
}
