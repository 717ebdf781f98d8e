import Foundation

/// What to decompose v into.
public enum InteractionMode: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Sparsified AND-OR decomposition with p (γ) and bounded noise q (the reference default).
    case pq
    /// Sparsified AND-OR decomposition with p only (no noise).
    case p
    /// AND only, with bounded noise q: I_and = M_and·(v + q).
    case q
    /// Un-sparsified AND-OR split: v_and = v_or = 0.5·v (`get_interaction()` of the reference code).
    case none
    /// AND only, un-sparsified: the Harsanyi dividends I_and = M_and·v.
    case and

    public var description: String { rawValue }
    var hasP: Bool { self == .pq || self == .p }
    var hasQ: Bool { self == .pq || self == .q }
    var hasOr: Bool { self == .pq || self == .p || self == .none }
    var optimized: Bool { self == .pq || self == .p || self == .q }
    /// The factor of (v + q) in v_and and v_or.
    var scale: Double { hasOr ? 0.5 : 1 }
}

/// How p and q are optimised.
public enum SparsifierOptimizer: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The reference: SGD with momentum 0.9, lr decaying geometrically from lr to lr/10 (PyTorch semantics).
    case sgd
    /// Adam (β = 0.9, 0.999) with the same lr schedule; lr is in units of p and q.
    case adam
    /// Preconditioned primal-dual hybrid gradient (Chambolle & Pock 2011, Pock & Chambolle ICCV 2011) on the
    /// convex problem min ‖K x + c‖₁ with the box on q. Needs no learning rate: its step sizes are the exact
    /// inverse row and column sums of |K|, which guarantee convergence. Same transforms per iteration as SGD.
    case pdhg
    public var description: String { rawValue }
}

/// Settings of the AND-OR decomposition. Defaults are the reference code's (spec §5.2, ICML'23 images).
public struct InteractionSettings: Sendable, Equatable {
    public var mode: InteractionMode = .pq
    /// q is clamped to ±qthres·|v(N) − v(∅)| before every step.
    public var qthres: Double = 0.04
    /// Initial learning rate (sgd, adam); the schedule decays it geometrically to lr/10 over the run.
    /// nil: the optimiser's default (`defaultLearningRate`).
    public var lr: Double? = nil
    public var iterations: Int = 10_000
    public var optimizer: SparsifierOptimizer = .sgd
    /// Re-centre q to zero mean after every step (`q_tricks` of the legacy code).
    public var recenterQ = false
    public var precision: Precision = .float32
    public var momentum: Double = 0.9
    /// Return the iterate with the lowest loss seen instead of the last one. Default: on for adam and pdhg (their
    /// iterates do not decrease the loss monotonically), off for sgd (the reference returns the last iterate).
    public var keepBest: Bool? = nil

    /// The reference lr for sgd (spec §5.2); 1e-3 for adam, whose steps are in units of p and q.
    public var defaultLearningRate: Double { optimizer == .adam ? 1e-3 : 1e-5 }
    public var effectiveLearningRate: Double { lr ?? defaultLearningRate }
    public var effectiveKeepBest: Bool { keepBest ?? (optimizer != .sgd) }

    public init() {}

    /// The learning rate of iteration `it`: `np.logspace(log10(lr), log10(lr) − 1, iterations)[it]`.
    public func learningRate(_ it: Int) -> Double {
        let lr = effectiveLearningRate
        guard iterations > 1 else { return lr }
        let start = log10(lr)
        return pow(10, start + Double(it) * (-1.0 / Double(iterations - 1)))
    }

    /// Throws `.invalidArgument` for settings that cannot run.
    public func validate() throws {
        guard iterations >= 1 else { throw HarsanyiError.invalidArgument("iterations must be at least 1, got \(iterations)") }
        guard qthres >= 0, qthres.isFinite else { throw HarsanyiError.invalidArgument("qthres must be a finite number ≥ 0") }
        guard effectiveLearningRate > 0, effectiveLearningRate.isFinite else { throw HarsanyiError.invalidArgument("lr must be a finite number > 0") }
    }
}
