import Foundation
import HarsanyiCore

/// The part of a model downstream of one tensor: with the rest computed once for a sample (the prefix), only
/// these nodes run for each masked batch. Used to mask at an intermediate tensor (`--mask-at`) and by the
/// linearity shortcut (which starts after the first linear operator).
/// Something that runs a batch of a model (or of a model's suffix) and returns its output.
public protocol BatchRunner: AnyObject {
    func run(_ x: Tensor) throws -> Tensor
    /// Runs a batch of `count` samples of per-sample shape `sampleShape` whose values `fill` writes (count · Π shape
    /// floats, sample after sample), so that a runner can take them straight into its own memory.
    func run(count: Int, sampleShape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> Tensor
}

extension BatchRunner {
    public func run(count: Int, sampleShape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws
        -> Tensor
    {
        var values = [Float](repeating: 0, count: count * sampleShape.reduce(1, *))
        try values.withUnsafeMutableBufferPointer { try fill($0) }
        return try run(Tensor(shape: [count] + sampleShape, floats: values))
    }
}

/// The CPU-path runner of a suffix plan: a `CPUProgram` compiled per batch size (fused kernels over one reused
/// arena), or the operator interpreter (`SuffixPlan.run`) when the plan cannot be compiled or
/// HARSANYI_CPU_EXECUTOR=interpreter asks for it (both give the same values up to float rounding).
public final class CPUSuffixRunner: BatchRunner, @unchecked Sendable {
    public let plan: SuffixPlan
    /// Whether batches go through compiled programs (else the interpreter).
    public let compiled: Bool
    private let lock = NSLock()
    private var programs: [Int: CPUProgram] = [:]
    private var failure: String?

    /// The default executor: compiled unless HARSANYI_CPU_EXECUTOR=interpreter.
    public static var compiledByDefault: Bool {
        ProcessInfo.processInfo.environment["HARSANYI_CPU_EXECUTOR"] != "interpreter"
    }

    public init(_ plan: SuffixPlan, compiled: Bool = CPUSuffixRunner.compiledByDefault) {
        self.plan = plan
        self.compiled = compiled
    }

    /// What runs the batches: "compiled", "compiled (interpreted nodes: ...)", or "interpreter (why)".
    public var status: String {
        lock.lock()
        defer { lock.unlock() }
        if !compiled { return "interpreter (HARSANYI_CPU_EXECUTOR=interpreter)" }
        if let failure { return "interpreter (\(failure))" }
        let nodes = Set(programs.values.flatMap(\.interpreted)).sorted()
        return nodes.isEmpty ? "compiled" : "compiled (interpreted nodes: \(nodes.joined(separator: ", ")))"
    }

    /// Of the programs compiled so far, the largest arena and the sum of its regions (floats): what sharing memory
    /// between tensors of disjoint lifetimes saves. Nil before any program is compiled.
    public var arenaFloats: (arena: Int, regions: Int)? {
        lock.lock()
        defer { lock.unlock() }
        return programs.values.max { $0.arenaCount < $1.arenaCount }.map { ($0.arenaCount, $0.regionFloats) }
    }

    /// A batch size for `samples` masked inputs on this machine: the largest power of two in [64, 4096] whose
    /// arena (the live tensors of one batch, measured on a program compiled at 64) fits `arenaBudget` bytes, so
    /// that a batch stays in a core's cache; then halved towards samples / (2 · cores), so that every core gets two
    /// batches, while a half batch still holds 256 KiB of tensors (never below 16). Tiny models (an MLP) get large
    /// batches that amortise each sgemm call; convolutional ones a few hundred.
    public func suggestedBatch(
        samples: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
        arenaBudget: Int = 4 << 20
    ) -> Int {
        var batch = 256
        var perSample = arenaBudget / 256
        if let probe = program(64) {
            perSample = max(1, probe.arenaCount * MemoryLayout<Float>.size / 64)
            batch = 64
            while batch < 4096 && 2 * batch * perSample <= arenaBudget { batch *= 2 }
        }
        // Splitting pays for waking another core only when a half batch is still real work (here: 256 KiB of tensors).
        while batch > 16 && batch * 2 * max(cores, 1) > samples && batch / 2 * perSample >= 256 << 10 { batch /= 2 }
        return batch
    }

    /// The program for `batch`, compiled on first use; nil when compilation failed (the interpreter runs instead).
    func program(_ batch: Int) -> CPUProgram? {
        guard compiled, batch > 0 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if failure != nil { return nil }
        if let p = programs[batch] { return p }
        do {
            let p = try CPUProgram(plan: plan, batch: batch)
            programs[batch] = p
            return p
        } catch {
            failure = "\(error)"
            return nil
        }
    }

    public func run(_ x: Tensor) throws -> Tensor {
        guard x.dtype == .float32, let p = program(x.shape.first ?? 1), p.input.shape == x.shape else {
            return try plan.run(x)
        }
        return try p.run { _ = $0.update(fromContentsOf: x.floats) }
    }

    public func run(count: Int, sampleShape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws
        -> Tensor
    {
        guard let p = program(count), p.input.shape == [count] + sampleShape else {
            var values = [Float](repeating: 0, count: count * sampleShape.reduce(1, *))
            try values.withUnsafeMutableBufferPointer { try fill($0) }
            return try plan.run(Tensor(shape: [count] + sampleShape, floats: values))
        }
        return try p.run(fill: fill)
    }
}

public struct SuffixPlan: @unchecked Sendable {
    public let model: ONNXModel
    /// The tensor the masked batch is fed as.
    public let start: String
    /// Its per-sample shape and its value on the unmasked sample.
    public let sampleShape: [Int]
    public let sampleValue: [Float]
    /// Nodes to run per batch, in order.
    public let steps: [Node]
    /// Prefix tensors the suffix reads (computed once on the sample; batch dimension 1, tiled when needed).
    public let fixed: [String: Tensor]

    /// Plans the suffix after `start` for one input sample of shape [1, ...].
    public init(model: ONNXModel, start: String, sample: Tensor) throws {
        self.model = model
        self.start = start
        var values = model.constants
        values[model.input.name] = sample
        var downstream: Set<String> = [start]
        var steps: [Node] = []
        var found = start == model.input.name || model.constants[start] != nil
        for n in model.steps {
            let ins = try n.inputs.map { name -> Tensor? in
                guard !name.isEmpty else { return nil }
                guard let t = values[name] else {
                    throw HarsanyiError.invalidArgument("node \(n.name): input '\(name)' is missing")
                }
                return t
            }
            let outs = try ONNXModel.evaluatePublic(n, ins, opset: model.graph.opset)
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
            if n.outputs.contains(start) { found = true }
            if n.inputs.contains(where: downstream.contains) {
                steps.append(n)
                for o in n.outputs where !o.isEmpty { downstream.insert(o) }
            }
        }
        // Token ids masked at their embeddings (or any model with held inputs): the suffix also recomputes what
        // depends on the ids and held inputs, with the ids tiled to the batch of `start`, so that batch sizes agree
        // wherever the graph combines the data path with them (ONNXModel.followBatch); the lookup itself is not rerun.
        if start != model.input.name && (sample.dtype == .int64 || model.graph.inputs.count > 1) {
            var made: [String: Tensor] = [:]
            let held = model.input.name + "@sample"
            let batch = "harsanyi.batch@" + start
            let prelude =
                ONNXModel.batchOf(start, into: batch, constants: &made)
                + ONNXModel.expand(held, rank: sample.rank, batch: batch, into: model.input.name, constants: &made)
            values.merge(made) { $1 }
            values[held] = sample
            steps = Self.downstream(of: [start, model.input.name], in: model, cut: start, prelude: prelude)
            downstream = [start, model.input.name]
            for n in steps { for o in n.outputs where !o.isEmpty { downstream.insert(o) } }
        }
        guard found, let value = values[start] else {
            throw HarsanyiError.invalidArgument("no tensor named '\(start)' in \(model.path)")
        }
        guard value.dtype == .float32, value.shape.first == 1 else {
            throw HarsanyiError.unsupported(
                "masking at '\(start)': it must be a float tensor with the batch as its first axis, got shape "
                    + "\(value.shape)")
        }
        guard downstream.contains(model.outputName) else {
            throw HarsanyiError.invalidArgument("the output '\(model.outputName)' does not depend on '\(start)'")
        }
        var fixed: [String: Tensor] = [:]
        for n in steps {
            for name in n.inputs where !name.isEmpty && !downstream.contains(name) { fixed[name] = values[name] }
        }
        self.steps = steps
        self.fixed = fixed
        sampleShape = Array(value.shape.dropFirst())
        sampleValue = value.floats
    }

    /// `prelude`, then the nodes of `model` that depend on `sources` and that the output needs, with `cut` given
    /// (its producer and what only feeds it do not run). O(nodes · inputs).
    static func downstream(of sources: Set<String>, in model: ONNXModel, cut: String, prelude: [Node]) -> [Node] {
        var reached = sources
        for n in prelude { reached.formUnion(n.outputs) }
        var candidates: [Node] = []
        for n in model.steps where !n.outputs.contains(cut) && n.inputs.contains(where: reached.contains) {
            candidates.append(n)
            reached.formUnion(n.outputs.filter { !$0.isEmpty })
        }
        var needed: Set<String> = [model.outputName]
        var kept: [Node] = []
        for n in (prelude + candidates).reversed() where n.outputs.contains(where: needed.contains) {
            kept.append(n)
            needed.formUnion(n.inputs.filter { !$0.isEmpty && $0 != cut })
        }
        return kept.reversed()
    }

    /// Runs the suffix on a batch fed as `start`; returns the model's output.
    public func run(_ x: Tensor) throws -> Tensor {
        let batch = x.shape.first ?? 1
        var values = fixed
        for (k, t) in fixed where model.constants[k] == nil && t.shape.first == 1 && batch > 1 && t.dtype == .float32 {
            values[k] = Tensor(
                shape: [batch] + t.shape.dropFirst(),
                floats: Array([[Float]](repeating: t.floats, count: batch).joined()))
        }
        values[start] = x
        for n in steps {
            let ins = try n.inputs.map { name -> Tensor? in
                guard !name.isEmpty else { return nil }
                guard let t = values[name] ?? model.constants[name] else {
                    throw HarsanyiError.invalidArgument("node \(n.name): input '\(name)' is missing")
                }
                return t
            }
            let t0 = OperatorProfile.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            let outs = try ONNXModel.evaluatePublic(n, ins, opset: model.graph.opset)
            if OperatorProfile.enabled { OperatorProfile.add(n.op, DispatchTime.now().uptimeNanoseconds - t0) }
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
        }
        guard let y = values[model.outputName] else {
            throw HarsanyiError.invalidArgument("output '\(model.outputName)' was not computed")
        }
        return y
    }

    /// The longest chain of nodes right after `start` that is affine in it (each node the only consumer of the
    /// previous tensor; Conv/Gemm/MatMul with constant weights and the masked tensor as the data operand,
    /// Add/Sub/Mul/Div with a constant, BatchNormalization, Flatten on axis 1, Identity, Dropout), cut after its
    /// last Conv/Gemm/MatMul; empty when it contains none.
    public var affineChain: [Node] {
        var chain: [Node] = []
        var current = start
        func constant(_ name: String?) -> Bool { name.map { model.constants[$0] != nil || fixed[$0] != nil } ?? true }
        while true {
            let users = steps.filter { $0.inputs.contains(current) }
            guard users.count == 1, let n = users.first, n.outputs.count >= 1,
                n.outputs.dropFirst().allSatisfy(\.isEmpty),
                n.inputs.filter({ $0 == current }).count == 1, current != model.outputName
            else { break }
            let data = n.inputs.first == current
            let others = n.inputs.filter { $0 != current && !$0.isEmpty }
            let ok: Bool
            switch n.op {
            case "Conv", "MatMul", "BatchNormalization": ok = data && others.allSatisfy(constant)
            case "Gemm": ok = data && n.int("transA", 0) == 0 && others.allSatisfy(constant)
            case "Add", "Sub", "Mul": ok = others.allSatisfy(constant)
            case "Div": ok = data && others.allSatisfy(constant)
            case "Flatten": ok = n.int("axis", 1) == 1
            case "Identity", "Dropout": ok = true
            default: ok = false
            }
            guard ok else { break }
            chain.append(n)
            current = n.outputs[0]
        }
        guard let last = chain.lastIndex(where: { ["Conv", "Gemm", "MatMul"].contains($0.op) }) else { return [] }
        return Array(chain[...last])
    }

    /// Runs `nodes` (a chain from `start`) on a batch fed as `start`; returns the chain's last output.
    func runChain(_ nodes: [Node], _ x: Tensor) throws -> Tensor {
        var values = fixed
        values[start] = x
        for n in nodes {
            let ins = n.inputs.map { $0.isEmpty ? nil : values[$0] ?? model.constants[$0] }
            let outs = try ONNXModel.evaluatePublic(n, ins, opset: model.graph.opset)
            values[n.outputs[0]] = outs[0]
        }
        return values[nodes.last!.outputs[0]]!
    }
}

/// Per-operator wall time of suffix runs, collected when `HARSANYI_PROFILE_OPS=1` (printed by the CLI at exit).
public enum OperatorProfile {
    public static let enabled = ProcessInfo.processInfo.environment["HARSANYI_PROFILE_OPS"] == "1"
    nonisolated(unsafe) private static var totals: [String: UInt64] = [:]
    private static let lock = NSLock()

    static func add(_ op: String, _ ns: UInt64) {
        lock.lock()
        totals[op, default: 0] += ns
        lock.unlock()
    }

    /// One line per operator, slowest first.
    public static func report() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return totals.sorted { $0.value > $1.value }.map {
            String(format: "%@: %.1f ms", $0.key, Double($0.value) * 1e-6)
        }
    }
}
