import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiONNX

/// Makes the plan of an `OpenCLModel` for given input shapes: a shape pass, buffer assignment with reuse, and the
/// kernel launches of every step (operator by operator in `OpenCLModelOps.swift`).
final class Planner {
    /// A value on the device: where it lives and its shape.
    struct DVal {
        enum Storage { case slot(Int), fixed(OpenCLBuffer) }
        var storage: Storage
        var shape: [Int]
        var count: Int { shape.reduce(1, *) }
    }
    enum Val { case host(Tensor), device(DVal) }

    let model: OpenCLModel
    let backend: OpenCLBackend
    let inputShapes: [String: [Int]]
    /// Integer inputs (token ids, indices): host values of this plan, not device buffers.
    let hostFeeds: [String: Tensor]
    var values: [String: Val] = [:]
    var launches: [Launch] = []
    /// Pooled buffers (nil for input slots), their capacities, which are free, and which live values use them.
    var slotBuffers: [OpenCLBuffer?] = []
    var slotCapacity: [Int] = []
    var freeSlots: [Int] = []
    var slotUsers: [Set<String>] = []
    var inputSlotSet: Set<Int> = []
    /// The slot allocated exactly for the output (never reused).
    var outputSlot: Int?
    var lastUse: [String: Int] = [:]
    /// Nodes planned as host steps ("name (op)"), in order.
    var hostNodes: [String] = []
    /// The node being planned (for profiles).
    var currentNode = ""
    /// The value whose buffer the graph output will be (following views back from the output).
    var outputRoot: String

    init(model: OpenCLModel, inputShapes: [String: [Int]], hostFeeds: [String: Tensor] = [:]) throws {
        self.hostFeeds = hostFeeds
        self.model = model
        backend = model.backend
        self.inputShapes = inputShapes
        outputRoot = model.outputName
        for (i, n) in model.steps.enumerated() { for name in n.inputs where !name.isEmpty { lastUse[name] = i } }
        lastUse[model.outputName] = Int.max
        // Follow views back from the output, so the kernel that makes it writes an exact-size, unshared buffer.
        let views: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Cast"]
        var hops = 0
        while hops < model.steps.count, let n = model.steps.last(where: { $0.outputs.first == outputRoot }), views.contains(n.op),
            let src = n.input(0)
        {
            outputRoot = src
            hops += 1
        }
    }

    // MARK: errors

    func unsupported(_ n: Node, _ why: String) -> HarsanyiError { .unsupported("node \(n.name): \(why)") }
    func invalid(_ n: Node, _ why: String) -> HarsanyiError { .invalidArgument("node \(n.name): \(why)") }

    // MARK: values

    /// A value as a device tensor: host tensors are uploaded (constants once per model, others once per plan).
    func device(_ n: Node, _ i: Int) throws -> DVal {
        guard let name = n.input(i) else { throw invalid(n, "\(n.op) is missing input \(i)") }
        guard let v = values[name] else { throw invalid(n, "input '\(name)' is missing") }
        switch v {
        case .device(let d): return d
        case .host(let t):
            let key = model.constants[name] != nil ? name : "__opencl_plan/\(name)"
            let b = try upload(key, t.asFloats, cache: model.constants[name] != nil)
            let d = DVal(storage: .fixed(b), shape: t.shape)
            values[name] = .device(d)
            return d
        }
    }

    func optionalDevice(_ n: Node, _ i: Int) throws -> DVal? { n.input(i) == nil ? nil : try device(n, i) }

    /// A value that must be known on the host (shape tensors, axes, BatchNormalization parameters).
    func host(_ n: Node, _ i: Int, _ what: String) throws -> Tensor? {
        guard let name = n.input(i) else { return nil }
        guard let v = values[name] else { throw invalid(n, "input '\(name)' is missing") }
        guard case .host(let t) = v else {
            throw unsupported(n, "\(what) '\(name)' is computed on the device; it must be a constant or follow from shapes")
        }
        return t
    }

    /// Uploads floats; with `cache`, once per model under `key`.
    func upload(_ key: String, _ floats: [Float], cache: Bool = true) throws -> OpenCLBuffer {
        if cache, let b = model.deviceConstants[key] { return b }
        guard let b = try backend.makeBuffer(count: floats.count, precision: .float32) as? OpenCLBuffer else {
            throw HarsanyiError.invalidArgument("the backend made a buffer of another kind")
        }
        if !floats.isEmpty { try backend.write(floats, to: b) }
        if cache { model.deviceConstants[key] = b }
        return b
    }

    func ints(_ v: [Int]) throws -> OpenCLBuffer {
        guard v.allSatisfy({ $0 >= Int(Int32.min) && $0 <= Int(Int32.max) }) else {
            throw HarsanyiError.unsupported("a kernel parameter exceeds 32 bits: \(v)")
        }
        return try backend.makeIntBuffer(v.map { Int32($0) })
    }

    /// A new device value for output `name` of `count` elements: a free pooled buffer that is large enough (the
    /// smallest such), else a new one; the output's own value gets an exact buffer of its own.
    func allocate(_ name: String, _ shape: [Int]) throws -> DVal {
        let count = shape.reduce(1, *)
        guard count < Int(Int32.max) else { throw HarsanyiError.unsupported("tensor '\(name)' of shape \(shape) has 2^31 or more elements") }
        let slot: Int
        if name == outputRoot {
            slot = try newSlot(count)
            outputSlot = slot
        } else if let best = freeSlots.filter({ slotCapacity[$0] >= count }).min(by: { slotCapacity[$0] < slotCapacity[$1] }) {
            slot = best
            freeSlots.removeAll { $0 == best }
        } else {
            slot = try newSlot(count)
        }
        slotUsers[slot] = [name]
        let d = DVal(storage: .slot(slot), shape: shape)
        values[name] = .device(d)
        return d
    }

    private func newSlot(_ count: Int) throws -> Int {
        guard let b = try backend.makeBuffer(count: count, precision: .float32) as? OpenCLBuffer else {
            throw HarsanyiError.invalidArgument("the backend made a buffer of another kind")
        }
        slotBuffers.append(b)
        slotCapacity.append(count)
        slotUsers.append([])
        return slotBuffers.count - 1
    }

    /// `name` is a view of `src` with another shape (no copy).
    func alias(_ name: String, _ src: DVal, _ shape: [Int]) {
        let d = DVal(storage: src.storage, shape: shape)
        if case .slot(let s) = src.storage { slotUsers[s].insert(name) }
        values[name] = .device(d)
    }

    /// Drops `name` from its buffer's users; a pooled buffer with no users left is free again.
    func release(_ name: String) {
        guard case .device(let d)? = values[name], case .slot(let s) = d.storage, !inputSlotSet.contains(s), s != outputSlot else { return }
        slotUsers[s].remove(name)
        if slotUsers[s].isEmpty && !freeSlots.contains(s) { freeSlots.append(s) }
    }

    // MARK: launches

    func arg(_ d: DVal) -> Launch.A {
        switch d.storage {
        case .slot(let s): return .slot(s)
        case .fixed(let b): return .arg(.buffer(b))
        }
    }

    func launch(_ file: String, _ kernel: String, global: Int, local: Int? = nil, _ args: [Launch.A]) {
        guard global > 0 else { return }
        launches.append(Launch(node: currentNode, file: file, kernel: kernel, global: global, local: local, args: args))
    }

    // MARK: the plan

    func make() throws -> Plan {
        var inputSlots: [String: Int] = [:]
        var inputBuffers: [String: OpenCLBuffer] = [:]
        for (name, t) in hostFeeds { values[name] = .host(t) }
        for name in model.inputNames where hostFeeds[name] == nil {
            guard let shape = inputShapes[name] else { throw HarsanyiError.invalidArgument("input '\(name)' has no shape") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw HarsanyiError.invalidArgument("input '\(name)' has shape \(shape)") }
            let slot = slotBuffers.count
            slotBuffers.append(nil)
            slotCapacity.append(shape.reduce(1, *))
            slotUsers.append([name])
            inputSlotSet.insert(slot)
            inputSlots[name] = slot
            guard let b = try backend.makeBuffer(count: shape.reduce(1, *), precision: .float32) as? OpenCLBuffer else {
                throw HarsanyiError.invalidArgument("the backend made a buffer of another kind")
            }
            inputBuffers[name] = b
            values[name] = .device(DVal(storage: .slot(slot), shape: shape))
        }
        for (name, t) in model.constants { values[name] = .host(t) }
        if model.gemmTiles == nil { model.gemmTiles = try backend.gemmTiles() }

        var deferred: [Int: AttentionChain] = [:]  // attention chains by their last step (OpenCLModelAttention)
        var skipped = Set<Int>()
        for (i, n) in model.steps.enumerated() {
            if skipped.contains(i) {
                if let c = deferred[i] {
                    try planAttention(c)
                    for name in c.inputs(model.steps) where lastUse[name] == i { release(name) }
                    for name in n.outputs where !name.isEmpty && lastUse[name] == nil { release(name) }
                }
                continue
            }
            let present = n.inputs.filter { !$0.isEmpty }
            for name in present where values[name] == nil { throw invalid(n, "input '\(name)' is missing") }
            let allHost = present.allSatisfy { if case .host? = values[$0] { return true } else { return false } }
            if !allHost, n.op == "MatMul", let c = attentionChain(at: i) {
                let last = c.steps.last!
                deferred[last] = c
                skipped.formUnion(c.steps)
                for name in c.inputs(model.steps) { lastUse[name] = max(lastUse[name] ?? 0, last) }
                continue
            }
            if allHost {
                // Shape arithmetic and other constant work: the CPU operator, once per plan. A Relu fused into this
                // node (`__relu`, `__relu_in`, see OpenCLModel.fuseRelus) is applied here, since the CPU operator
                // does not know those attributes.
                func relu(_ t: Tensor) -> Tensor { t.dtype == .float32 ? Tensor(shape: t.shape, floats: t.floats.map { Swift.max($0, 0) }) : t }
                var ins = n.inputs.map { name -> Tensor? in
                    if name.isEmpty { return nil }
                    if case .host(let t)? = values[name] { return t }
                    return nil
                }
                if n.int("__relu_in", 0) != 0, let x = ins.first ?? nil { ins[0] = relu(x) }
                var outs = try ONNXModel.evaluatePublic(n, ins, opset: model.opset)
                if n.int("__relu", 0) != 0, let y = outs.first { outs[0] = relu(y) }
                for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = .host(t) }
            } else {
                currentNode = n.name
                try plan(n)
            }
            // Values read for the last time here, and outputs nobody reads, give their buffers back.
            for name in Set(present) where lastUse[name] == i { release(name) }
            for name in n.outputs where !name.isEmpty && lastUse[name] == nil { release(name) }
        }

        guard let outVal = values[model.outputName] else {
            throw HarsanyiError.invalidArgument("output '\(model.outputName)' was not computed")
        }
        var out: DVal
        switch outVal {
        case .host(let t):
            out = DVal(storage: .fixed(try upload("", t.asFloats, cache: false)), shape: t.shape)
        case .device(let d):
            out = d
        }
        // The output must be an exact buffer that nothing else writes: copy when it is a view of an input,
        // a constant, or a shared pooled buffer.
        var outBuffer: OpenCLBuffer?
        if case .slot(let s) = out.storage, s == outputSlot, slotCapacity[s] == out.count { outBuffer = slotBuffers[s] }
        if outBuffer == nil {
            let src = out
            let slot = try newSlot(src.count)
            currentNode = "(output copy)"
            launch("nn_elementwise", "copy", global: src.count, [arg(src), .slot(slot)])
            out = DVal(storage: .slot(slot), shape: src.shape)
            outBuffer = slotBuffers[slot]
        }
        guard let outBuffer else { throw HarsanyiError.invalidArgument("no output buffer") }
        let plan = Plan(slots: slotBuffers, inputSlots: inputSlots, inputBuffers: inputBuffers, launches: launches, output: outBuffer,
                        outputShape: out.shape)
        plan.hostNodes = hostNodes
        return plan
    }
}
