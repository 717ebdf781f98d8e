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
    public var hasP: Bool { self == .pq || self == .p }
    public var hasQ: Bool { self == .pq || self == .q }
    public var hasOr: Bool { self == .pq || self == .p || self == .none }
    public var optimized: Bool { self == .pq || self == .p || self == .q }
    /// The factor of (v + q) in v_and and v_or.
    public var scale: Double { hasOr ? 0.5 : 1 }
}

/// How p and q are optimised.
public enum SparsifierOptimizer: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The certified default: `exact` when the problem (after removing null players) is small enough, else `pdlp`.
    case auto
    /// The LP optimum by the simplex method (COIN-OR CLP) with row and column generation: a sparse vertex with
    /// a dual certificate (spec §5.4). Needs the HarsanyiSolvers module.
    case exact
    /// Restarted, preconditioned primal-dual hybrid gradient in the PDLP style, every iteration on the device,
    /// with a dual lower bound and the relative gap reported; stops at the gap tolerance or the iteration limit.
    case pdlp
    /// The reference: SGD with momentum 0.9, lr decaying geometrically from lr to lr/10 (PyTorch semantics).
    case sgd
    /// Adam (β = 0.9, 0.999) with the same lr schedule; lr is in units of p and q.
    case adam
    /// Preconditioned primal-dual hybrid gradient (Chambolle & Pock 2011, Pock & Chambolle ICCV 2011) on the
    /// convex problem min ‖K x + c‖₁ with the box on q. Needs no learning rate: its step sizes are the exact
    /// inverse row and column sums of |K|, which guarantee convergence. Same transforms per iteration as SGD.
    case pdhg
    public var description: String { rawValue }
    /// Whether the optimiser keeps a dual certificate (lower bound and gap).
    public var certified: Bool { self == .auto || self == .exact || self == .pdlp }
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
    public var optimizer: SparsifierOptimizer = .auto
    /// Certified optimisers stop when (loss − lower bound)/loss ≤ gapTolerance.
    public var gapTolerance: Double = 1e-4
    /// Wall-clock limit of the certified optimisers, in seconds.
    public var timeLimit: Double = 600
    /// Remove null players before optimising and lift the result back (exact; certified optimisers only, so
    /// that sgd stays the reference's algorithm on the full problem).
    public var reduceNullPlayers = true
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
    public var effectiveKeepBest: Bool { keepBest ?? (optimizer == .adam || optimizer == .pdhg) }

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
        guard gapTolerance >= 0, gapTolerance.isFinite else {
            throw HarsanyiError.invalidArgument("the gap tolerance must be ≥ 0")
        }
        guard timeLimit > 0 else { throw HarsanyiError.invalidArgument("the time limit must be > 0 s") }
        guard effectiveLearningRate > 0, effectiveLearningRate.isFinite else { throw HarsanyiError.invalidArgument("lr must be a finite number > 0") }
    }
}
