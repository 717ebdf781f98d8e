import Foundation
import HarsanyiCore

/// The exact optimum of the AND-OR decomposition (spec §5.4) by the simplex method with row and column generation.
///
/// The full LP has 2^n rows and 2·2^(n+1) split columns with 2·3^n non-zeros; its optimum is a sparse vertex and
/// only a fraction of the rows is active. So a restricted master over a working set of rows R and columns C is
/// solved with COIN-OR CLP, warm-started after every change:
/// - **rows**: the residual Z·I − v over all 2^n subsets (three butterflies) names the rows the master's I violates
///   (|r(S)| > b); the most violated join R, each with its AND column I_and(S), which keeps the master feasible
///   (Z_and on R × R is unitriangular);
/// - **columns**: the row prices w give Zᵀ·w over all subsets (two butterflies); a column with |Zᵀw(T)| > 1 has a
///   negative reduced cost, and the most violated join C.
/// It stops when no row is violated and no column prices out: I is then feasible for the full LP, w is dual
/// feasible, and the two objectives agree, so the optimum is certified (`DecompositionLP.lowerBound`).
///
/// OR columns use the complement form o(S) = t − Σ_{∅≠T, T∩S=∅} I_or(T) with a free t = Σ_T I_or(T) (one
/// definition row): column T then has 2^(n−|T|) entries instead of 2^n − 2^(n−|T|).
///
/// - Complexity: per round O(n·2^n) for pricing plus a warm-started simplex on |R| × |C|; the master reached
///   about a quarter of the rows at n = 12 on real vectors.
public enum ExactDecomposition {
    /// The largest (reduced) n `auto` solves exactly, per mode: measured on real reward vectors on 2 cores (README).
    /// Mode p has no noise box, so all 2^n rows are active and its master is dense: a smaller limit.
    public static func maxPlayers(_ mode: InteractionMode) -> Int { mode == .p ? 10 : 12 }

    /// Why an exact solve stopped without an optimum.
    public enum Failure: Error, CustomStringConvertible {
        case timeLimit(seconds: Double, players: Int)
        case solver(status: Int, players: Int)
        public var description: String {
            switch self {
            case .timeLimit(let t, let n):
                return "the exact solve (n = \(n)) did not finish in \(Int(t)) s; use --optimizer pdlp"
            case .solver(let status, let n):
                return "CLP stopped with status \(status) on the exact decomposition (n = \(n))"
            }
        }
    }

    public struct Solution: Sendable {
        public var iand: [Double]
        public var ior: [Double]?
        /// Row prices of the final master, over all 2^n subsets (0 off R): the dual certificate.
        public var dual: [Double]
        public var loss: Double
        public var lowerBound: Double
        public var rounds: Int
        public var simplexIterations: Int
        public var rows: Int
        public var columns: Int
        public var seconds: Double
    }

    /// Solves `lp` exactly; throws `Failure` past `timeLimit` seconds or when CLP fails.
    public static func solve(_ lp: DecompositionLP, timeLimit: Double = 600) throws -> Solution {
        let clock = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9 }
        let count = lp.v.count
        let full = count - 1
        let n = lp.n
        let scale = max(1, lp.v.reduce(0) { max($0, abs($1)) })
        let primalTolerance = 1e-9 * scale
        let dualTolerance = 1e-9
        let batch = max(16, count / 128)  // measured: 16–32 rows per round keep the master small
        var master = Master(lp: lp, tolerance: 1e-10 * scale)

        var seeds = Set([0, full])
        for i in 0..<n {
            seeds.insert(1 << i)
            seeds.insert(full ^ (1 << i))
        }
        // Without noise (mode p) every row is active at the optimum: start with all of them.
        let firstRows = lp.bound == 0 ? Array(0..<count) : seeds.sorted()
        master.add(rows: firstRows, andColumns: firstRows, orColumns: [])
        var status = master.model.solve(.dual, seconds: timeLimit)
        let trace = ProcessInfo.processInfo.environment["HARSANYI_LP_TRACE"] != nil
        var rounds = 1
        var simplexIterations = master.model.iterations
        while true {
            guard status == 0 else {
                throw status == 3
                    ? Failure.timeLimit(seconds: timeLimit, players: n) : Failure.solver(status: status, players: n)
            }
            let (iand, ior) = master.interactions()
            let w = master.prices()
            // Rows the master's I violates, most violated first.
            let residual = lp.reconstruct(iand: iand, ior: ior)
            let newRows = worst(count, batch) { s in
                master.rowOf[s] < 0 ? abs(residual[s] - lp.v[s]) - lp.bound - primalTolerance : -1
            }
            // Columns with a negative reduced cost, most negative first.
            let (gAnd, gOr) = lp.transposed(w)
            let newAnd = worst(count, batch) { t in master.andOf[t] < 0 ? abs(gAnd[t]) - 1 - dualTolerance : -1 }
            let newOr =
                gOr.map { g in worst(count, batch) { t in master.orOf[t] < 0 ? abs(g[t]) - 1 - dualTolerance : -1 } }
                ?? []
            if newRows.isEmpty && newAnd.isEmpty && newOr.isEmpty {
                let loss = DecompositionLP.loss(iand: iand, ior: ior)
                return Solution(
                    iand: iand, ior: ior, dual: w, loss: loss, lowerBound: lp.lowerBound(w), rounds: rounds,
                    simplexIterations: simplexIterations, rows: master.model.rowCount,
                    columns: master.model.columnCount, seconds: elapsed())
            }
            let left = timeLimit - elapsed()
            guard left > 0 else {
                status = 3
                continue
            }
            let dropped = master.dropSlackRows(residual: residual, prices: w, margin: primalTolerance)
            let andColumns = Array(Set(newAnd).union(newRows.filter { master.andOf[$0] < 0 })).sorted()
            master.add(rows: newRows, andColumns: andColumns, orColumns: newOr)
            status = master.model.solve(newRows.isEmpty ? .primal : .dual, seconds: left)
            rounds += 1
            simplexIterations += master.model.iterations
            if trace {
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "round %d: +%d rows (-%d) +%d and +%d or -> %d x %d, obj %.9g, %d it, %.2f s\n",
                            rounds, newRows.count, dropped, andColumns.count, newOr.count, master.model.rowCount,
                            master.model.columnCount,
                            master.model.objective, master.model.iterations, elapsed()
                        ).utf8))
            }
        }
    }

    /// Up to `limit` indices with positive `violation`, largest first.
    private static func worst(_ count: Int, _ limit: Int, _ violation: (Int) -> Double) -> [Int] {
        var found: [(Double, Int)] = []
        for i in 0..<count {
            let x = violation(i)
            if x > 0 { found.append((x, i)) }
        }
        if found.count > limit {
            found.sort { $0.0 > $1.0 }
            found.removeLast(found.count - limit)
        }
        return found.map(\.1)
    }
}

/// The restricted master: which subsets are rows and columns, and where they sit in the CLP model.
private struct Master {
    let lp: DecompositionLP
    let model: ClpModel
    /// Model row of subset S's constraint, or −1.
    var rowOf: [Int]
    /// Model column of I_and(T)⁺ (I_and(T)⁻ is the next one), or −1; likewise I_or.
    var andOf: [Int], orOf: [Int]
    var rowSubsets: [Int] = []
    /// Consecutive rounds each row has been strictly slack with a zero price.
    var slackRounds: [Int]
    /// With OR: model row 0 defines t (column 0): t − Σ_T I_or(T) = 0.
    let definitionRow = 0, tColumn = 0

    init(lp: DecompositionLP, tolerance: Double) {
        self.lp = lp
        model = ClpModel(tolerance: tolerance)
        rowOf = [Int](repeating: -1, count: lp.v.count)
        andOf = rowOf
        orOf = rowOf
        slackRounds = [Int](repeating: 0, count: lp.v.count)
        if lp.withOr {
            model.addRows([(0, 0, [])])
            model.addColumns([(-.infinity, .infinity, 0, [(definitionRow, 1)])])
        }
    }

    /// Adds constraint rows for `rows`, then the AND and OR columns (entries over every row, new ones included).
    mutating func add(rows: [Int], andColumns: [Int], orColumns: [Int]) {
        var newRows: [(lower: Double, upper: Double, entries: [(Int, Double)])] = []
        let andPresent = andOf.indices.filter { andOf[$0] >= 0 }
        let orPresent = orOf.indices.filter { orOf[$0] >= 0 }
        for s in rows {
            var entries: [(Int, Double)] = []
            for t in andPresent where t & s == t {
                entries.append((andOf[t], 1))
                entries.append((andOf[t] + 1, -1))
            }
            if lp.withOr {
                entries.append((tColumn, 1))
                for t in orPresent where t != 0 && t & s == 0 {
                    entries.append((orOf[t], -1))
                    entries.append((orOf[t] + 1, 1))
                }
            }
            rowOf[s] = model.rowCount + newRows.count
            rowSubsets.append(s)
            newRows.append((lp.v[s] - lp.bound, lp.v[s] + lp.bound, entries))
        }
        model.addRows(newRows)
        let present = rowSubsets
        var cols: [(lower: Double, upper: Double, cost: Double, entries: [(Int, Double)])] = []
        func pair(_ entries: [(Int, Double)]) {
            cols.append((0, .infinity, 1, entries))
            cols.append((0, .infinity, 1, entries.map { ($0.0, -$0.1) }))
        }
        for t in andColumns where andOf[t] < 0 {
            andOf[t] = model.columnCount + cols.count
            pair(present.filter { $0 & t == t }.map { (rowOf[$0], 1) })
        }
        for t in orColumns where orOf[t] < 0 {
            orOf[t] = model.columnCount + cols.count
            let disjoint = t == 0 ? [] : present.filter { $0 & t == 0 }.map { (rowOf[$0], -1.0) }
            pair([(definitionRow, -1)] + disjoint)
        }
        model.addColumns(cols)
    }

    /// Deletes the rows that have been strictly inside their box with a zero price for `patience` rounds: they no
    /// longer shape the optimum, and each costs every later simplex iteration. A row that is violated again later
    /// comes back like any other. Returns how many were dropped.
    mutating func dropSlackRows(residual: [Double], prices w: [Double], margin: Double, patience: Int = 3) -> Int {
        guard lp.bound > 0 else { return 0 }
        var drop: [Int] = []
        for s in rowSubsets {
            let inside = abs(residual[s] - lp.v[s]) < lp.bound - margin && w[s] == 0
            slackRounds[s] = inside ? slackRounds[s] + 1 : 0
            if slackRounds[s] >= patience { drop.append(s) }
        }
        guard !drop.isEmpty else { return 0 }
        model.deleteRows(drop.map { rowOf[$0] })
        let gone = Set(drop)
        for s in drop {
            rowOf[s] = -1
            slackRounds[s] = 0
        }
        rowSubsets.removeAll { gone.contains($0) }
        let first = lp.withOr ? 1 : 0
        for (k, s) in rowSubsets.enumerated() { rowOf[s] = first + k }
        return drop.count
    }

    /// The master's I_and and I_or over all subsets (0 off the working set).
    func interactions() -> ([Double], [Double]?) {
        let x = model.solution
        var iand = [Double](repeating: 0, count: lp.v.count)
        var ior: [Double]? = lp.withOr ? iand : nil
        for t in andOf.indices where andOf[t] >= 0 { iand[t] = x[andOf[t]] - x[andOf[t] + 1] }
        for t in orOf.indices where orOf[t] >= 0 { ior![t] = x[orOf[t]] - x[orOf[t] + 1] }
        return (iand, ior)
    }

    /// Row prices of the constraint rows, over all subsets.
    func prices() -> [Double] {
        let y = model.rowPrices
        var w = [Double](repeating: 0, count: lp.v.count)
        for s in rowSubsets { w[s] = y[rowOf[s]] }
        return w
    }
}
