import COpenCL
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiONNX

/// The 2^n masked forward passes on the device: masked batches made from subset indices by a kernel
/// (`Kernels/masking.cl`), run through the model's OpenCL suffix, reduced to v by a reward kernel that writes
/// straight into a device buffer the sparsifier then uses. The host never holds the masked inputs; it reads v
/// once at the end, for the report.
///
/// With the linearity shortcut (`LinearShortcut`), A(x_∅) and the n contributions c_i are uploaded once and a
/// kernel writes the affine chain's output rows A(x_S) = A(x_∅) + Σ_{i∈S} c_i straight into the batch buffer of
/// the executor built for the shortcut's suffix; the masked inputs themselves are never made.
public final class DeviceMaskedForward {
    public let backend: OpenCLBackend
    let runner: OpenCLModel
    /// Elements per row fed to the runner: one masked sample, or one row of the shortcut's chain output.
    let size: Int
    let n: Int
    /// Masked inputs (or shortcut rows) per launch: the requested batch, at most 2^n, and at most what fits the device (`fittingBatch`).
    public private(set) var batch: Int
    let maskBackground: Bool
    /// Whether the rows come from the linearity shortcut.
    public let usesLinearity: Bool
    /// The shortcut's summation order (see `shortcut_rows` in masking.cl): bits at or above this are added first, ascending.
    private(set) var orderBits: Int
    let sample: OpenCLBuffer?, baseline: OpenCLBuffer?, owner: OpenCLBuffer?
    let empty: OpenCLBuffer?, contributions: OpenCLBuffer?
    let inputs: OpenCLBuffer
    private var tail: (count: Int, buffer: OpenCLBuffer)?

    /// - Parameters:
    ///   - plan: the model's suffix after the mask point (see `SuffixPlan`).
    ///   - players: element lists into one sample of the mask point; batch: masked inputs per launch (any size ≥ 1).
    ///   - runner: an executor already built on `backend` (its weights are on the device) for `plan`, or for
    ///     `shortcut.suffix` when a shortcut is given; nil makes one.
    ///   - shortcut: the linearity shortcut's rows (from `MaskedForward.shortcut`); nil: mask the inputs.
    ///   - shortcutOrderBits: rows are summed in the order `LinearShortcut.rows` uses with batches of 2^bits
    ///     (default: the largest power of two ≤ batch), so that with equal batches they are bit-identical.
    public init(plan: SuffixPlan, players: [[Int]], baseline: [Float], maskBackground: Bool, batch: Int, backend: OpenCLBackend,
                runner: OpenCLModel? = nil, shortcut: LinearShortcut? = nil, shortcutOrderBits: Int? = nil) throws {
        self.backend = backend
        n = players.count
        self.batch = max(1, min(batch, 1 << n))
        self.maskBackground = maskBackground
        usesLinearity = shortcut != nil
        orderBits = min(n, max(0, shortcutOrderBits ?? (Int.bitWidth - 1 - self.batch.leadingZeroBitCount)))
        let buffer = { (count: Int) throws -> OpenCLBuffer in try backend.cl(try backend.makeBuffer(count: count, precision: .float32)) }
        if let shortcut {
            self.runner = try runner ?? OpenCLModel(suffix: shortcut.suffix, backend: backend)
            let rowSize = shortcut.empty.count
            size = rowSize
            guard shortcut.contributions.count == players.count, shortcut.contributions.allSatisfy({ $0.count == rowSize }) else {
                throw HarsanyiError.invalidArgument("the shortcut has \(shortcut.contributions.count) contributions for \(players.count) players")
            }
            guard shortcut.rowShape.reduce(1, *) == rowSize else {
                throw HarsanyiError.invalidArgument("shortcut rows of shape \(shortcut.rowShape) hold \(rowSize) values")
            }
            let e = try buffer(rowSize), c = try buffer(players.count * rowSize)
            try backend.write(shortcut.empty, to: e)
            try backend.write(Array(shortcut.contributions.joined()), to: c)
            empty = e
            contributions = c
            sample = nil
            self.baseline = nil
            owner = nil
        } else {
            let sampleSize = plan.sampleValue.count
            size = sampleSize
            guard baseline.count == sampleSize else {
                throw HarsanyiError.invalidArgument("the baseline has \(baseline.count) elements; '\(plan.start)' has \(sampleSize) per sample")
            }
            // Elementwise steps right after the mask point commute with masking: they are applied to the sample and
            // the baseline once here, and the kernel masks their outputs.
            let base = try runner ?? OpenCLModel(suffix: plan, backend: backend)
            var sampleValue = plan.sampleValue, baseline = baseline
            if let (prefix, start) = Self.elementwisePrefix(plan) {
                let shape = [1] + plan.sampleShape
                var x = Tensor(shape: shape, floats: sampleValue), b = Tensor(shape: shape, floats: baseline)
                for node in prefix {
                    let inputs = { (t: Tensor) in
                        node.inputs.enumerated().map { i, name -> Tensor? in
                            name.isEmpty ? nil : i == 0 ? t : plan.model.constants[name] ?? plan.fixed[name]
                        }
                    }
                    x = try ONNXModel.evaluatePublic(node, inputs(x), opset: plan.model.graph.opset)[0]
                    b = try ONNXModel.evaluatePublic(node, inputs(b), opset: plan.model.graph.opset)[0]
                }
                sampleValue = x.asFloats
                baseline = b.asFloats
                self.runner = try base.resumed(at: start, dropping: prefix.count, plan: plan)
            } else {
                self.runner = base
            }
            var owners = [Int32](repeating: -1, count: sampleSize)
            for (k, p) in players.enumerated() { for e in p { owners[e] = Int32(k) } }
            let s = try buffer(sampleSize), b = try buffer(sampleSize), o = try buffer(sampleSize)  // o: 4-byte elements holding Int32
            try backend.write(sampleValue, to: s)
            try backend.write(baseline, to: b)
            try backend.write(owners.map { Float(bitPattern: UInt32(bitPattern: $0)) }, to: o)
            sample = s
            self.baseline = b
            owner = o
            empty = nil
            contributions = nil
        }
        // Chunk to the device's memory: a smaller batch when the requested one would not fit. A CPU device (PoCL)
        // runs a batch's kernels one after the other over all of its buffers, so there the batch is also kept to
        // what fits `cpuDeviceBatchBytes` (its caches, roughly): larger batches only add cache misses.
        let limit = min(backend.device.globalMemoryBytes / 2, backend.device.maxAllocationBytes)
        var fitting = try Self.fittingBatch(runner: self.runner, rowSize: size, limit: limit)
        if backend.device.type == .cpu, let cached = try? Self.fittingBatch(
            runner: self.runner, rowSize: size, limit: Self.cpuDeviceBatchBytes)
        {
            fitting = min(fitting ?? cached, Swift.max(cached, Self.minimumCPUDeviceBatch))
        }
        if let fit = fitting, fit < self.batch {
            self.batch = fit
            if shortcutOrderBits == nil { orderBits = min(n, Int.bitWidth - 1 - fit.leadingZeroBitCount) }
        }
        inputs = try buffer(self.batch * size)
    }

    /// On CPU devices, a batch's buffers are kept to this many bytes (with at least `minimumCPUDeviceBatch` samples):
    /// measured on PoCL (2 cores), a 4-layer BERT at 32 tokens ran slower at 1024 sequences a batch than at 64-256.
    public static let cpuDeviceBatchBytes = 64 << 20
    public static let minimumCPUDeviceBatch = 16

    /// The largest power-of-two batch whose device buffers take at most `limit` bytes, or nil when the executor
    /// cannot say: its plan at 64 samples gives the bytes per sample of its pooled buffers (intermediates and
    /// output), plus the input rows. The initialiser's limit is the smaller of half the device's global memory and
    /// its largest single allocation (all of a batch's buffers within it bound every one of them).
    public static func fittingBatch(runner: OpenCLModel, rowSize: Int, limit: Int) throws -> Int? {
        let sample = runner.sampleShape.compactMap { $0 }
        guard sample.count == runner.sampleShape.count else { return nil }
        let probe = 64
        let summary = try runner.planSummary(forInput: [probe] + sample)
        // Pooled buffers, plus the batch's rows twice: ours and the plan's own input buffer (made for run(_:)).
        let perSample = max(1, (summary.bytes + probe - 1) / probe + 2 * rowSize * MemoryLayout<Float>.size)
        guard limit >= perSample else {
            throw HarsanyiError.unsupported("one masked sample needs \(perSample) bytes of device buffers; the device allows \(limit)")
        }
        var b = 1
        while b * 2 * perSample <= limit && b < 1 << 30 { b *= 2 }
        return b
    }

    /// The leading steps of `plan` that act on each element of the masked tensor alone (Add/Sub/Mul/Div with a
    /// constant that does not widen the sample's shape, Relu, Identity, Dropout), each the only reader of the
    /// previous value, and the value after them; nil when there are none.
    public static func elementwisePrefix(_ plan: SuffixPlan) -> ([Node], String)? {
        var current = plan.start
        var prefix: [Node] = []
        var rest = plan.steps[...]
        let shape = [1] + plan.sampleShape
        while let n = rest.first, current != plan.model.outputName, n.inputs.first == current,
            n.outputs.count == 1 || n.outputs.dropFirst().allSatisfy(\.isEmpty),
            rest.filter({ $0.inputs.contains(current) }).count == 1, n.inputs.filter({ $0 == current }).count == 1
        {
            let others = n.inputs.dropFirst().filter { !$0.isEmpty }
            let ok: Bool
            switch n.op {
            case "Add", "Sub", "Mul", "Div":
                ok = others.allSatisfy { name in
                    guard let t = plan.model.constants[name] ?? plan.fixed[name], t.dtype == .float32 else { return false }
                    return ShapeRules.broadcastShape(shape, t.shape) == shape
                }
            case "Relu", "Identity", "Dropout": ok = others.isEmpty
            default: ok = false
            }
            guard ok else { break }
            prefix.append(n)
            current = n.outputs[0]
            rest = rest.dropFirst()
        }
        return prefix.isEmpty ? nil : (prefix, current)
    }

    /// The device path of a host driver: its players, baseline, shortcut (when it uses one) and its executor when
    /// that is an `OpenCLModel` on `backend`. Shortcut rows are summed in the driver's order (bit-identical rows).
    public convenience init(_ forward: MaskedForward, batch: Int, backend: OpenCLBackend) throws {
        let runner = (forward.runner as? OpenCLModel).flatMap { $0.backend === backend ? $0 : nil }
        try self.init(plan: forward.plan, players: forward.players, baseline: forward.baseline, maskBackground: forward.maskBackground,
                      batch: batch, backend: backend, runner: runner, shortcut: forward.shortcut,
                      shortcutOrderBits: Int.bitWidth - 1 - forward.batchSize.leadingZeroBitCount)
    }

    /// Where rows of a batch of `count` go: the full batch buffer, or an exact buffer for the last, shorter batch.
    private func inputBuffer(_ count: Int) throws -> OpenCLBuffer {
        if count == batch { return inputs }
        if let tail, tail.count == count { return tail.buffer }
        let b = try backend.cl(try backend.makeBuffer(count: count * size, precision: .float32))
        tail = (count, b)
        return b
    }

    /// Enqueues the rows for subsets [start, start + count) into `x`. Call with the backend's lock held.
    private func enqueueRows(start: Int, count: Int, into x: OpenCLBuffer) throws {
        let global = count * ((size + Self.chunk - 1) / Self.chunk)
        if let empty, let contributions {
            try backend.launch("masking", "shortcut_rows", precision: .float32, global: global,
                               [.buffer(empty), .buffer(contributions), .uint(UInt32(size)), .uint(UInt32(n)), .ulong(UInt64(start)),
                                .uint(UInt32(orderBits)), .buffer(x)])
        } else if let sample, let baseline, let owner {
            try backend.launch("masking", "mask_batch", precision: .float32, global: global,
                               [.buffer(sample), .buffer(baseline), .buffer(owner), .uint(UInt32(size)), .ulong(UInt64(start)),
                                .uint(maskBackground ? 1 : 0), .buffer(x)])
        }
    }

    /// The model's rows for subsets [start, start + count) on the device (a buffer of this object: read or copy it
    /// before the next call). For tests and kernel development.
    public func rows(from start: Int, count: Int) throws -> DeviceBuffer {
        guard count >= 1, count <= batch, start >= 0, start + count <= 1 << n else {
            throw HarsanyiError.invalidArgument("rows [\(start), \(start + count)) of \(1 << n) in batches of \(batch)")
        }
        let x = try inputBuffer(count)
        try backend.locked { try enqueueRows(start: start, count: count, into: x) }
        return x
    }

    /// Values per work item of mask_batch and shortcut_rows (MASK_CHUNK in masking.cl).
    static let chunk = 16

    static func kindCode(_ kind: RewardKind) -> UInt32 {
        [RewardKind.logOdds: 0, .logit: 1, .logProbability: 2, .probability: 3, .binary: 4][kind]!
    }

    /// v(S) for all 2^n subsets into a new device buffer of the engine's precision. Enqueued only: the
    /// caller's next read (or `backend.finish()`) waits for it.
    public func rewards(kind: RewardKind, target: Int, precision: Precision, progress: ((Int) -> Void)? = nil) throws -> DeviceBuffer {
        let total = 1 << n
        let v = try backend.cl(try backend.makeBuffer(count: total, precision: precision))
        var start = 0
        while start < total {
            let count = min(batch, total - start)
            try batchRewards(start: start, count: count, kind: kind, target: target, precision: precision, into: v)
            start += count
            if let progress {  // report finished work, not queued work: one synchronisation per batch
                try backend.finish()
                progress(start)
            }
        }
        return v
    }

    /// v(S) for subsets [start, start + count), count ≤ batch, written at offset `start` of `v` (2^n values of
    /// `precision`). Enqueued only. For benchmarks that time batches rather than the whole 2^n set.
    public func enqueueRewards(from start: Int, count: Int, kind: RewardKind, target: Int, precision: Precision, into v: DeviceBuffer) throws {
        guard count >= 1, count <= batch, start >= 0, start + count <= 1 << n else {
            throw HarsanyiError.invalidArgument("rewards [\(start), \(start + count)) of \(1 << n) in batches of \(batch)")
        }
        try batchRewards(start: start, count: count, kind: kind, target: target, precision: precision, into: try backend.cl(v))
    }

    private func batchRewards(start: Int, count: Int, kind: RewardKind, target: Int, precision: Precision, into v: OpenCLBuffer) throws {
        let x = try inputBuffer(count)
        try backend.locked { try enqueueRows(start: start, count: count, into: x) }
        let y = try backend.cl(try runner.run(device: x, batch: count))
        let classes = y.count / count
        guard kind == .binary || target < classes else {
            throw HarsanyiError.invalidArgument("target class \(target) but the model has \(classes) outputs")
        }
        try backend.locked {
            try backend.launch("masking", "reward", precision: precision, global: count,
                               [.buffer(y), .uint(UInt32(classes)), .uint(UInt32(target)), .uint(Self.kindCode(kind)), .buffer(v), .ulong(UInt64(start))])
        }
    }

    /// Device time of each kernel of one full batch (OpenCL event profiling, each launch timed on its own):
    /// (step, kernel, seconds) in order: the row kernel, the executor's launches, the reward kernel.
    public func profile(kind: RewardKind = .logit, target: Int = 0) throws -> [(node: String, kernel: String, seconds: Double)] {
        let v = try backend.cl(try backend.makeBuffer(count: batch, precision: .float32))
        try batchRewards(start: 0, count: batch, kind: kind, target: target, precision: .float32, into: v)  // warm-up, plans made
        let x = inputs
        var out: [(String, String, Double)] = []
        let rowKernel = usesLinearity ? "shortcut_rows" : "mask_batch"
        out.append(("(rows)", rowKernel, try backend.measureKernelTime { try backend.locked { try enqueueRows(start: 0, count: batch, into: x) } }))
        out += try runner.profile(device: x, batch: batch)
        let y = try backend.cl(try runner.run(device: x, batch: batch))
        let classes = y.count / batch
        out.append(("(reward)", "reward", try backend.measureKernelTime {
            try backend.locked {
                try backend.launch("masking", "reward", precision: .float32, global: batch,
                                   [.buffer(y), .uint(UInt32(classes)), .uint(UInt32(target)), .uint(Self.kindCode(kind)), .buffer(v), .ulong(0)])
            }
        }))
        return out
    }
}
