import CBLAS
import CClp
import HarsanyiCore

/// A COIN-OR CLP simplex model (through its C interface) that grows by rows and columns and re-solves from its
/// last basis: what row and column generation needs. One owner; not thread-safe.
final class ClpModel {
    private let model: UnsafeMutableRawPointer

    /// CLP's dense factorisation calls BLAS, which resolves to the process's OpenBLAS; its worker threads spin in
    /// sched_yield between the small calls and took a whole second core (measured: 58 s of system time in a 75 s
    /// solve at n = 12). One thread, as the CPU operators use (`Linear.singleThreaded`).
    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// An empty minimisation model, silent, with tight tolerances (the problems here are well scaled: entries ±1).
    init(tolerance: Double) {
        Self.singleThreadedBLAS
        model = Clp_newModel()
        Clp_setLogLevel(model, 0)
        Clp_setOptimizationDirection(model, 1)
        Clp_setPrimalTolerance(model, tolerance)
        Clp_setDualTolerance(model, tolerance)
    }

    deinit { Clp_deleteModel(model) }

    var rowCount: Int { Int(Clp_numberRows(model)) }
    var columnCount: Int { Int(Clp_numberColumns(model)) }

    /// Compressed sparse vectors (CLP's row- or column-wise form): start offsets, indices and values.
    private static func compressed(_ vectors: [[(Int, Double)]])
        -> (starts: [Int32], indices: [Int32], values: [Double])
    {
        var starts: [Int32] = [0]
        var indices: [Int32] = []
        var values: [Double] = []
        for vector in vectors {
            for (i, a) in vector {
                indices.append(Int32(i))
                values.append(a)
            }
            starts.append(Int32(indices.count))
        }
        return (starts, indices, values)
    }

    /// Adds rows lower ≤ Σ_j a_ij x_j ≤ upper, each given as (lower, upper, [(column, value)]).
    func addRows(_ rows: [(lower: Double, upper: Double, entries: [(Int, Double)])]) {
        guard !rows.isEmpty else { return }
        let m = Self.compressed(rows.map(\.entries))
        Clp_addRows(model, Int32(rows.count), rows.map(\.lower), rows.map(\.upper), m.starts, m.indices, m.values)
    }

    /// Adds columns with bounds, objective coefficient and entries [(row, value)].
    func addColumns(_ cols: [(lower: Double, upper: Double, cost: Double, entries: [(Int, Double)])]) {
        guard !cols.isEmpty else { return }
        let m = Self.compressed(cols.map(\.entries))
        Clp_addColumns(
            model, Int32(cols.count), cols.map(\.lower), cols.map(\.upper), cols.map(\.cost), m.starts, m.indices,
            m.values)
    }

    /// Deletes rows (model indices); the remaining rows keep their order and the basis stays valid when the
    /// deleted rows' slacks were basic.
    func deleteRows(_ rows: [Int]) {
        guard !rows.isEmpty else { return }
        Clp_deleteRows(model, Int32(rows.count), rows.map { Int32($0) })
    }

    enum Algorithm { case primal, dual }

    /// Re-solves from the current basis; returns CLP's status (0 optimal, 1 infeasible, 2 unbounded, 3 stopped on
    /// iterations or time, 4 stopped with errors).
    @discardableResult
    func solve(_ algorithm: Algorithm, seconds: Double) -> Int {
        Clp_setMaximumSeconds(model, max(seconds, 0.01))
        switch algorithm {
        case .primal: return Int(Clp_primal(model, 0))
        case .dual: return Int(Clp_dual(model, 0))
        }
    }

    var status: Int { Int(Clp_status(model)) }
    var objective: Double { Clp_objectiveValue(model) }
    var iterations: Int { Int(Clp_getIterationCount(model)) }

    /// Column values.
    var solution: [Double] {
        let count = columnCount
        guard count > 0, let p = Clp_getColSolution(model) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    /// Row prices y, with reduced costs d = c − Aᵀy.
    var rowPrices: [Double] {
        let count = rowCount
        guard count > 0, let p = Clp_getRowPrice(model) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: count))
    }

    /// CLP's version, for reports.
    static var version: String { "COIN-OR CLP \(Clp_VersionMajor()).\(Clp_VersionMinor()).\(Clp_VersionRelease())" }
}
