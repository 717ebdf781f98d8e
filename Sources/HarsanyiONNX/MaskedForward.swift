import Dispatch
import Foundation
import HarsanyiCore

/// The scalar v(x) taken from the model's output row z (spec §2).
public enum RewardKind: String, Sendable, CaseIterable {
    /// log p_y / (1 − p_y) = z_y − logsumexp_{c≠y} z_c (stable form; the default of the papers).
    case logOdds = "log-odds"
    /// z_y.
    case logit
    /// log p_y = z_y − logsumexp_c z_c.
    case logProbability = "log-prob"
    /// p_y.
    case probability = "prob"
    /// A single-logit binary model: v = z if y = 1 else −z (the log-odds of a sigmoid).
    case binary

    /// v from one output row, in Double, without allocating (it runs once per masked sample).
    public func value(_ z: ArraySlice<Float>, target y: Int) -> Double {
        let lo = z.startIndex, hi = z.endIndex
        /// log Σ exp(z_c) over c ≠ skip (stable: the largest term factored out); −∞ for no terms.
        func lse(skip: Int?) -> Double {
            var m = -Double.infinity
            for c in lo..<hi where c - lo != skip { m = Swift.max(m, Double(z[c])) }
            guard m.isFinite else { return m }
            var s = 0.0
            for c in lo..<hi where c - lo != skip { s += exp(Double(z[c]) - m) }
            return m + log(s)
        }
        let zy = Double(z[lo + (self == .binary ? 0 : y)])
        switch self {
        case .logOdds: return zy - lse(skip: y)
        case .logit: return zy
        case .logProbability: return zy - lse(skip: nil)
        case .probability: return exp(zy - lse(skip: nil))
        case .binary: return y == 1 ? zy : -zy
        }
    }
}

/// The 2^n masked forward passes of one sample, in batches, on the CPU path.
///
/// The mask point is the model input or an intermediate tensor (`maskAt`): the prefix runs once on the sample,
/// only the suffix runs per batch. With `useLinearity`, when the operators right after the mask point are affine
/// in it and include a Conv, Gemm or MatMul (`SuffixPlan.affineChain`), their output for every subset is
/// A(x_∅) + Σ_{i∈S} [A(x_∅ + Δ_i) − A(x_∅)] (Δ_i = the sample minus the baseline on player i's elements), from
/// n + 1 evaluations and one vector add per subset in subset order, instead of 2^n evaluations; exact for an
/// affine A up to float rounding.
public struct MaskedForward {
    public let plan: SuffixPlan
    public var sample: [Float] { plan.sampleValue }
    public var sampleShape: [Int] { plan.sampleShape }
    public let players: [[Int]]
    public let baseline: [Float]
    /// Elements in no player: present (false) or always masked (true).
    public let maskBackground: Bool
    /// Masked inputs per batch: a power of two (chosen by `CPUSuffixRunner.suggestedBatch` when the caller
    /// passed 0 or less and the batches run on the CPU path).
    public private(set) var batchSize: Int
    /// The precomputed linear operator outputs, when the shortcut applies and is enabled.
    public private(set) var shortcut: LinearShortcut?
    /// Runs the batches: the suffix after the mask point, or after the shortcut's affine chain.
    public private(set) var runner: BatchRunner
    /// Where the batches run (from the runner factory).
    public let executor: String

    /// - Parameters:
    ///   - sample: the unmasked input sample, shape [1, ...] of the model input.
    ///   - maskAt: the tensor to mask (default: the model input); players and baseline index its elements.
    ///   - batchSize: masked inputs per batch, rounded down to a power of two; 0 = automatic on the CPU path.
    ///   - runner: builds the executor of a suffix plan (default: the CPU path); `executor` names it.
    public init(model: ONNXModel, sample: Tensor, maskAt: String? = nil, players: [[Int]], baseline: [Float], maskBackground: Bool = false,
                batchSize: Int = 256, useLinearity: Bool = true, executor: String = "cpu",
                runner makeRunner: (SuffixPlan) throws -> BatchRunner = { CPUSuffixRunner($0) }) throws {
        plan = try SuffixPlan(model: model, start: maskAt ?? model.input.name, sample: sample)
        self.executor = executor
        runner = CPUSuffixRunner(plan)
        guard baseline.count == plan.sampleValue.count else {
            throw HarsanyiError.invalidArgument("the baseline has \(baseline.count) elements; '\(plan.start)' has \(plan.sampleValue.count) per sample")
        }
        self.players = players
        self.baseline = baseline
        self.maskBackground = maskBackground
        // A power of two, so that every batch starts at a multiple of its size (the shortcut's subset order).
        self.batchSize = batchSize <= 0 ? 256 : 1 << (Int.bitWidth - 1 - batchSize.leadingZeroBitCount)
        shortcut = nil
        let chain = plan.affineChain
        if useLinearity, !chain.isEmpty {
            let cut = try LinearShortcut(self, chain: chain, sample: sample)
            shortcut = cut
            runner = try makeRunner(cut.suffix)
        } else {
            runner = try makeRunner(plan)
        }
        if batchSize <= 0, let cpu = runner as? CPUSuffixRunner {
            self.batchSize = cpu.suggestedBatch(samples: 1 << players.count)
        }
    }

    public var n: Int { players.count }
    /// Whether the linearity shortcut is in use.
    public var usesLinearity: Bool { shortcut != nil }

    /// The masked sample x_S: players in S keep their values, the others take the baseline.
    public func masked(_ s: Int, into out: UnsafeMutableBufferPointer<Float>) {
        if maskBackground { _ = out.update(fromContentsOf: baseline) } else { _ = out.update(fromContentsOf: sample) }
        for (k, p) in players.enumerated() {
            let keep = s & (1 << k) != 0
            if keep == !maskBackground { continue }  // already right
            for i in p { out[i] = keep ? sample[i] : baseline[i] }
        }
    }

    /// Model outputs for subsets [start, start + count): [count, C].
    public func outputs(from start: Int, count: Int) throws -> Tensor {
        if let shortcut {
            return try runner.run(count: count, sampleShape: shortcut.rowShape) { shortcut.fillRows(from: start, count: count, into: $0) }
        }
        let size = sample.count
        return try runner.run(count: count, sampleShape: sampleShape) { b in
            for j in 0..<count { masked(start + j, into: UnsafeMutableBufferPointer(rebasing: b[(j * size)..<((j + 1) * size)])) }
        }
    }

    /// v(S) for all 2^n subsets. `progress` gets the number of subsets done after each batch. On the CPU path the
    /// batches run on all cores at once (each batch is independent); other runners get them one at a time.
    public func rewards(kind: RewardKind, target: Int, progress: ((Int) -> Void)? = nil) throws -> [Double] {
        let total = 1 << n
        let batches = (total + batchSize - 1) / batchSize
        var v = [Double](repeating: 0, count: total)
        let state = BatchState()
        let parallel = runner is CPUSuffixRunner && batches > 1
        v.withUnsafeMutableBufferPointer { out in
            let out = UnsafeMutableSendableBuffer(out)
            let work: (Int) -> Void = { b in
                let start = b * batchSize, count = Swift.min(batchSize, total - start)
                do {
                    let y = try outputs(from: start, count: count)
                    let classes = y.count / count
                    guard target < classes || kind == .binary else {
                        throw HarsanyiError.invalidArgument("target class \(target) but the model has \(classes) outputs")
                    }
                    let f = y.floats
                    for j in 0..<count {
                        let row = f[(j * classes)..<((j + 1) * classes)]
                        guard row.allSatisfy(\.isFinite) else {
                            throw HarsanyiError.invalidArgument("the model output for subset \(start + j) has NaN or infinite values")
                        }
                        out.buffer[start + j] = kind.value(row, target: target)
                    }
                    state.add(count, then: progress)
                } catch {
                    state.fail(error)
                }
            }
            if parallel {
                let job = SendableJob(work)
                DispatchQueue.concurrentPerform(iterations: batches) { b in
                    if state.failure == nil { job.run(b) }
                }
            } else {
                for b in 0..<batches where state.failure == nil { work(b) }
            }
        }
        if let failure = state.failure { throw failure }
        return v
    }
}

/// Progress and the first error of batches that may run concurrently.
final class BatchState: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var error: Error?

    var failure: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }

    /// Adds `count` finished subsets and reports the total so far, one report at a time.
    func add(_ count: Int, then report: ((Int) -> Void)?) {
        lock.lock()
        defer { lock.unlock() }
        done += count
        report?(done)
    }

    func fail(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}

/// A batch job handed to concurrently running workers; what it touches is disjoint per batch or locked.
struct SendableJob: @unchecked Sendable {
    let run: (Int) -> Void
    init(_ run: @escaping (Int) -> Void) { self.run = run }
}

/// A buffer that concurrently running batches write into, each at its own indices.
struct UnsafeMutableSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}

/// The linearity shortcut: A(x_S) = A(x_∅) + Σ_{i∈S} c_i with c_i = A(x_∅ + Δ_i) − A(x_∅), A an affine chain.
public struct LinearShortcut: Sendable {
    /// The model after the affine chain, fed with the chain's output rows.
    public let suffix: SuffixPlan
    /// A(x_∅), and c_i per player, each of one output row.
    public let empty: [Float]
    public let contributions: [[Float]]
    /// The shape of one output row (without the batch axis).
    public let rowShape: [Int]

    init(_ f: MaskedForward, chain: [Node], sample: Tensor) throws {
        let size = f.sample.count
        var rows = [Float](repeating: 0, count: (f.n + 1) * size)
        rows.withUnsafeMutableBufferPointer { b in f.masked(0, into: UnsafeMutableBufferPointer(rebasing: b[0..<size])) }
        for k in 0..<f.n {
            for i in 0..<size { rows[(k + 1) * size + i] = rows[i] }
            for i in f.players[k] { rows[(k + 1) * size + i] = f.sample[i] }
        }
        let out = try f.plan.runChain(chain, Tensor(shape: [f.n + 1] + f.sampleShape, floats: rows))
        let rowSize = out.count / (f.n + 1)
        rowShape = Array(out.shape.dropFirst())
        let e = Array(out.floats[0..<rowSize])
        empty = e
        contributions = (0..<f.n).map { k in (0..<rowSize).map { out.floats[(k + 1) * rowSize + $0] - e[$0] } }
        suffix = try SuffixPlan(model: f.plan.model, start: chain.last!.outputs[0], sample: sample)
    }

    /// The chain's output for subsets [start, start + count), start a multiple of count's power of two:
    /// row(start) by summation, then row(s) = row(s with its lowest bit cleared) + c_(lowest bit of s).
    public func rows(from start: Int, count: Int) -> Tensor {
        var rows = [Float](repeating: 0, count: count * empty.count)
        rows.withUnsafeMutableBufferPointer { fillRows(from: start, count: count, into: $0) }
        return Tensor(shape: [count] + rowShape, floats: rows)
    }

    /// `rows(from:count:)` written into `r` (count · row size floats).
    public func fillRows(from start: Int, count: Int, into r: UnsafeMutableBufferPointer<Float>) {
        let size = empty.count
        guard count > 0, size > 0, let base = r.baseAddress else { return }
        base.update(from: empty, count: size)
        for (k, c) in contributions.enumerated() where start & (1 << k) != 0 {
            for i in 0..<size { base[i] += c[i] }
        }
        for j in 1..<count {
            let s = start + j
            let parent = (s & (s - 1)) - start
            let bit = s.trailingZeroBitCount
            let dst = base + j * size, src = base + parent * size
            contributions[bit].withUnsafeBufferPointer { c in
                for i in 0..<size { dst[i] = src[i] + c[i] }
            }
        }
    }
}
