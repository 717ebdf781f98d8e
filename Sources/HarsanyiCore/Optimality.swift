/// How close a decomposition is to the optimum of its convex problem (spec §5.4), reported with every result.
///
/// `lowerBound` is a certified bound from a dual-feasible w (`DecompositionLP.lowerBound`), so
/// loss ≥ L* ≥ lowerBound and the relative gap (loss − lowerBound)/loss bounds how far the loss is above L*.
/// Optimisers without a dual (sgd, adam, pdhg) report no bound.
public struct Optimality: Sendable, Equatable {
    /// Which solver ran ("exact (COIN-OR CLP 1.17.6, row and column generation)", "pdlp", "sgd", ...).
    public var solver: String
    /// Σ|I_and| + Σ|I_or| of the returned p and q, recomputed in Double.
    public var loss: Double
    public var lowerBound: Double?
    /// Why the solver stopped: "optimal", "gap tolerance reached", "iteration limit", "time limit".
    public var status: String
    /// Simplex iterations (exact) or first-order iterations.
    public var iterations: Int
    /// The number of players the solver worked on (n minus the null players removed).
    public var solvedPlayers: Int
    /// Free-form facts of the solver (rounds, rows and columns of the master, restarts, ...).
    public var details: [String: Double] = [:]

    public init(
        solver: String, loss: Double, lowerBound: Double?, status: String, iterations: Int, solvedPlayers: Int,
        details: [String: Double] = [:]
    ) {
        self.solver = solver
        self.loss = loss
        self.lowerBound = lowerBound
        self.status = status
        self.iterations = iterations
        self.solvedPlayers = solvedPlayers
        self.details = details
    }

    /// (loss − lowerBound)/loss, 0 when both are 0; nil without a bound.
    public var gap: Double? {
        guard let lowerBound else { return nil }
        if loss <= 0 { return lowerBound <= 0 ? 0 : nil }
        return max(0, loss - lowerBound) / loss
    }
}
