import Foundation

/// AND or OR.
public enum InteractionType: String, Sendable, CustomStringConvertible {
    case and = "AND", or = "OR"
    public var description: String { rawValue }
}

/// One interaction primitive: a type, a set of players and its effect.
public struct Primitive: Sendable, Equatable {
    public var type: InteractionType
    /// The subset index (bit i = player i).
    public var subset: Int
    public var value: Double
    public var players: [Int] { Subsets.players(subset) }
    public var order: Int { subset.nonzeroBitCount }
}

/// How salient primitives are chosen (spec §6). The comparison is |I(S)| ≥ threshold.
public enum SalientRule: Sendable, Equatable, CustomStringConvertible {
    /// τ · max_S |I(S)| over the concatenated [I_and; I_or] of this sample (default τ = 0.05).
    case relative(Double)
    /// τ · |v(N) − v(∅)|.
    case absolute(Double)
    /// The k largest |I(S)| (ties broken by type then subset index).
    case topK(Int)

    public var description: String {
        switch self {
        case .relative(let t): return "relative: |I| >= \(t) * max|I|"
        case .absolute(let t): return "absolute: |I| >= \(t) * |v(N) - v(empty)|"
        case .topK(let k): return "top-k: the \(k) largest |I|"
        }
    }
}

/// Counts and strengths of the interactions of one order and type.
public struct OrderStrength: Sendable, Equatable {
    public var order: Int
    /// Salient AND and OR interactions of this order.
    public var salientAnd = 0, salientOr = 0
    /// Σ max(I, 0) and Σ min(I, 0) over the salient interactions of this order (AND and OR together), Chen Fig. 4.
    public var salientPositive = 0.0, salientNegative = 0.0
    /// The same over all interactions of this order, salient or not (the two-phase I^(k)_± of the dynamics papers).
    public var positive = 0.0, negative = 0.0
}

/// Post-hoc analysis: faithfulness (universal matching), salient primitives and per-order statistics.
public struct InteractionAnalysis: Sendable {
    public var rule: SalientRule
    public var threshold: Double
    /// Salient primitives, sorted by |I| descending.
    public var primitives: [Primitive]
    public var orders: [OrderStrength]
    /// max_S |v̂(S) − v(S)| where v̂ is rebuilt from (I_and, I_or, q).
    public var matchingMaxAbs: Double
    /// matchingMaxAbs / max_S |v(S)|.
    public var matchingMaxRel: Double

    public init(_ r: InteractionResult, rule: SalientRule) throws {
        self.rule = rule
        (matchingMaxAbs, matchingMaxRel) = try Self.matchingError(r)
        var all: [Primitive] = []
        all.reserveCapacity(2 * r.iand.count)
        for s in 0..<r.iand.count {
            all.append(Primitive(type: .and, subset: s, value: r.iand[s]))
            all.append(Primitive(type: .or, subset: s, value: r.ior[s]))
        }
        let vN = r.v[r.v.count - 1], v0 = r.v[0]
        let sorted = all.sorted { (abs($0.value), $1.type.rawValue, $1.subset) > (abs($1.value), $0.type.rawValue, $0.subset) }
        let chosen: [Primitive]
        switch rule {
        case .relative(let tau):
            let t = tau * (abs(sorted.first?.value ?? 0))
            threshold = t
            chosen = sorted.filter { abs($0.value) >= t && $0.value != 0 }
        case .absolute(let tau):
            let t = tau * abs(vN - v0)
            threshold = t
            chosen = sorted.filter { abs($0.value) >= t && $0.value != 0 }
        case .topK(let k):
            chosen = Array(sorted.prefix(max(0, k)).filter { $0.value != 0 })
            threshold = chosen.last.map { abs($0.value) } ?? 0
        }
        primitives = chosen
        var orders = (0...r.n).map { OrderStrength(order: $0) }
        for x in all {
            if x.value > 0 { orders[x.order].positive += x.value } else { orders[x.order].negative += x.value }
        }
        for x in chosen {
            if x.type == .and { orders[x.order].salientAnd += 1 } else { orders[x.order].salientOr += 1 }
            if x.value > 0 { orders[x.order].salientPositive += x.value } else { orders[x.order].salientNegative += x.value }
        }
        self.orders = orders
    }

    /// Universal matching: v(S) + q(S) = Σ_{T⊆S} I_and(T) + I_or(∅) + Σ_{T∩S≠∅} I_or(T) for every S,
    /// rebuilt in float64 with the fast inverse transforms.
    public static func matchingError(_ r: InteractionResult) throws -> (Double, Double) {
        let cpu = CPUBackend()
        let a = try cpu.transform(.zeta, r.iand), o = try cpu.transform(.orInverse, r.ior)
        var worst = 0.0
        for s in 0..<r.v.count { worst = max(worst, abs(a[s] + o[s] - r.q[s] - r.v[s])) }
        let scale = r.v.map(abs).max() ?? 0
        return (worst, scale > 0 ? worst / scale : worst)
    }
}
