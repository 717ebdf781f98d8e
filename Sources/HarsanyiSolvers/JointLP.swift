import Foundation
import HarsanyiCore

/// The exact optimum of the joint extraction of m models (spec §9) as one linear program, solved with COIN-OR CLP.
///
/// Variables per model i: I_and^(i), I_or^(i) over the 2^n subsets (each split into non-negative ± parts) and a free
/// t_i = Σ_T I_or^(i)(T); shared: p_share over the subsets (free) and one m_j ≥ 0 per column j = (op, T).
/// ```
/// min  Σ_j (1−α)·m_j + α·Σ_i (I⁺ + I⁻)^(i)_j
/// s.t. |v_and^(i) + v_or^(i) − v_i| ≤ b_i                 (v_and + v_or = v + q, |q| ≤ b_i = qthres·|v_i(N) − v_i(∅)|)
///      |(v_and^(i) − v_or^(i))/2 − p_share| ≤ c_i           (p_share + p_i with |p_i| ≤ c_i)
///      m_j ≥ (I⁺ + I⁻)^(i)_j                               (m_j = max_i |I^(i)_j| at the optimum)
/// ```
/// with v_and(S) = Σ_{T⊆S} I_and(T) and v_or(S) = t − Σ_{T≠∅, T∩S=∅} I_or(T) (the complement form of
/// `ExactDecomposition`: column T has 2^(n−|T|) entries). The problem is dense: about 4·m·3^n non-zeros, so it
/// is solved whole (no row generation) for small n (`JointDecomposition.exactLimit`).
///
/// - Complexity: building O(m·3^n); the simplex on m·(2^(n+1)+1) + 2^(n+1) rows.
enum JointLP {
    struct Solution {
        var iand: [[Double]], ior: [[Double]], pShare: [Double]
        var objective: Double
        var iterations: Int
    }

    static func solve(v: [[Double]], qBound: [Double], pBound: [Double], alpha: Double, timeLimit: Double) throws
        -> Solution
    {
        let m = v.count
        let count = v[0].count
        let full = count - 1
        let scale = max(1, v.joined().reduce(0) { max($0, abs($1)) })
        let model = ClpModel(tolerance: 1e-10 * scale)
        // Columns: per model [and ± (2 per T), or ± (2 per T), t]; then p_share (count), then m_j (2·count).
        let perModel = 4 * count + 1
        func andColumn(_ i: Int, _ t: Int) -> Int { i * perModel + 2 * t }
        func orColumn(_ i: Int, _ t: Int) -> Int { i * perModel + 2 * count + 2 * t }
        let pColumn = m * perModel
        let maxColumn = pColumn + count
        // Rows: per model [residual (count), p (count), definition (1), max (2·count)].
        let rowsPerModel = 4 * count + 1
        func residualRow(_ i: Int, _ s: Int) -> Int { i * rowsPerModel + s }
        func pRow(_ i: Int, _ s: Int) -> Int { i * rowsPerModel + count + s }
        func definitionRow(_ i: Int) -> Int { i * rowsPerModel + 2 * count }
        func maxRow(_ i: Int, _ j: Int) -> Int { i * rowsPerModel + 2 * count + 1 + j }

        var rows: [(lower: Double, upper: Double, entries: [(Int, Double)])] = []
        rows.reserveCapacity(m * rowsPerModel)
        for i in 0..<m {
            for s in 0..<count { rows.append((v[i][s] - qBound[i], v[i][s] + qBound[i], [])) }
            for _ in 0..<count { rows.append((-pBound[i], pBound[i], [])) }
            rows.append((0, 0, []))
            for _ in 0..<(2 * count) { rows.append((0, .infinity, [])) }
        }
        model.addRows(rows)
        var cols: [(lower: Double, upper: Double, cost: Double, entries: [(Int, Double)])] = []
        for i in 0..<m {
            for t in 0..<count {  // I_and(T): rows S ⊇ T of both blocks, and its max row
                var e: [(Int, Double)] = []
                var s = t
                while true {  // supersets of t
                    e.append((residualRow(i, s), 1))
                    e.append((pRow(i, s), 0.5))
                    if s == full { break }
                    s = (s + 1) | t
                }
                cols.append((0, .infinity, alpha, e + [(maxRow(i, t), -1)]))
                cols.append((0, .infinity, alpha, e.map { ($0.0, -$0.1) } + [(maxRow(i, t), -1)]))
            }
            for t in 0..<count {  // I_or(T): −1 in rows S disjoint from T (T ≠ ∅), the definition row, its max row
                var e: [(Int, Double)] = [(definitionRow(i), -1)]
                if t != 0 {
                    let rest = full ^ t
                    var s = rest
                    while true {  // subsets of N∖T
                        e.append((residualRow(i, s), -1))
                        e.append((pRow(i, s), 0.5))
                        if s == 0 { break }
                        s = (s - 1) & rest
                    }
                }
                cols.append((0, .infinity, alpha, e + [(maxRow(i, count + t), -1)]))
                cols.append((0, .infinity, alpha, e.map { ($0.0, -$0.1) } + [(maxRow(i, count + t), -1)]))
            }
            // t_i: +1 in every residual row, −½ in every p row, +1 in the definition row.
            cols.append(
                (-.infinity, .infinity, 0,
                 (0..<count).map { (residualRow(i, $0), 1.0) } + (0..<count).map { (pRow(i, $0), -0.5) }
                    + [(definitionRow(i), 1)]))
        }
        for s in 0..<count { cols.append((-.infinity, .infinity, 0, (0..<m).map { (pRow($0, s), -1.0) })) }
        for j in 0..<(2 * count) { cols.append((0, .infinity, 1 - alpha, (0..<m).map { (maxRow($0, j), 1.0) })) }
        model.addColumns(cols)
        precondition(model.columnCount == maxColumn + 2 * count)

        let status = model.solve(.dual, seconds: timeLimit)
        guard status == 0 else {
            if status == 3 { throw ExactDecomposition.Failure.timeLimit(seconds: timeLimit, players: count.trailingZeroBitCount) }
            throw ExactDecomposition.Failure.solver(status: status, players: count.trailingZeroBitCount)
        }
        let x = model.solution
        var iand = [[Double]](repeating: [Double](repeating: 0, count: count), count: m)
        var ior = iand
        for i in 0..<m {
            for t in 0..<count {
                iand[i][t] = x[andColumn(i, t)] - x[andColumn(i, t) + 1]
                ior[i][t] = x[orColumn(i, t)] - x[orColumn(i, t) + 1]
            }
        }
        return Solution(
            iand: iand, ior: ior, pShare: Array(x[pColumn..<(pColumn + count)]), objective: model.objective,
            iterations: model.iterations)
    }
}
