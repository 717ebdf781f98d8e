/// The elementwise and reduction operations of the AND-OR sparsifier, on a backend's buffers.
///
/// Each is one pass over 2^n values (kernels in `Kernels/sparsify.cl` and `Kernels/reduce.cl`; the CPU
/// backend has the same arithmetic in Swift). Optional buffers may be nil where the mode has no such tensor.
public protocol SparsifierOps: ComputeBackend {
    /// q ← clamp(q, −bound, bound) (when q is given); vAnd ← scale·(v + q) + p; vOr ← scale·(v + q) − p (when given).
    /// scale is 0.5 for the AND-OR split, 1 for AND only.
    func splitAndOr(v: DeviceBuffer, p: DeviceBuffer?, q: DeviceBuffer?, bound: Double, scale: Double, vAnd: DeviceBuffer, vOr: DeviceBuffer?) throws
    /// out[index] ← scale · (Σ f(a) + Σ f(b)), f = |·| when `absolute`.
    func reduceSum(_ a: DeviceBuffer, _ b: DeviceBuffer?, absolute: Bool, into out: DeviceBuffer, at index: Int, scale: Double) throws
    /// a ← sign(a), with sign(0) = 0.
    func signInPlace(_ a: DeviceBuffer) throws
    /// g = cA·gA + cB·gB; buf ← first ? g : momentum·buf + g; x ← x − lr·buf.
    func momentumStep(x: DeviceBuffer, buffer: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                      lr: Double, momentum: Double, first: Bool) throws
    /// Adam (Kingma & Ba) on g = cA·gA + cB·gB with bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t.
    func adamStep(x: DeviceBuffer, m: DeviceBuffer, s: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                  lr: Double, beta1: Double, beta2: Double, epsilon: Double, step: Int) throws
    /// x ← x − s[index].
    func subtract(_ x: DeviceBuffer, scalarAt index: Int, of s: DeviceBuffer) throws
    /// x ← clamp(x − (cA·gA + cB·gB) / (weight·colsum(T)), ±bound), colsum as in `Kernels/sparsify.cl`.
    func primalDualPrimal(x: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double, weight: Double,
                          n: Int, withOr: Bool, bound: Double) throws
    /// state = (best, improved): improved ← (it == 0 or trace[it] < best); then best ← trace[it] if improved.
    func trackBest(trace: DeviceBuffer, at it: Int, state: DeviceBuffer) throws
    /// destination ← source where `state`'s improved flag is set.
    func copyIfImproved(state: DeviceBuffer, from source: DeviceBuffer, to destination: DeviceBuffer) throws
    /// target ← alpha·target + beta·source (running averages).
    func blend(_ target: DeviceBuffer, _ source: DeviceBuffer, alpha: Double, beta: Double) throws
    /// The players d with v(S ∪ {d}) = v(S) exactly for every S (`NullPlayers`), checked where v lives:
    /// O(n·2^n) comparisons.
    func nullPlayers(_ v: DeviceBuffer) throws -> [Int]
    /// y' = clamp(y + I/(weight·rowsum(S)), −1, 1); yBar ← 2y' − y; y ← y'.
    func primalDualDual(y: DeviceBuffer, yBar: DeviceBuffer, interactions: DeviceBuffer, weight: Double, isOr: Bool) throws
}

/// Column and row sums of |M_and| and |M_or| over subset indices, for the preconditioned primal-dual method.
public enum MatrixSums {
    @inline(__always) public static func column(_ t: Int, n: Int, withOr: Bool) -> Double {
        let k = t.nonzeroBitCount
        var c = Double(1 << (n - k))
        if withOr { c += Double(1 << k) - (t == (1 << n) - 1 ? 1 : 0) + (t == 0 ? 1 : 0) }
        return c
    }

    @inline(__always) public static func row(_ s: Int, isOr: Bool) -> Double {
        isOr && s == 0 ? 1 : Double(1 << s.nonzeroBitCount)
    }
}
