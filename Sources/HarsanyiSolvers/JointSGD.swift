import Foundation
import HarsanyiCore

/// The reference code's optimiser for the joint extraction (spec §9, `_train_p_q_joint_model`): SGD with momentum
/// (PyTorch semantics: buf ← momentum·buf + g, x ← x − lr·buf, buf = g on the first step) at a constant lr on
/// p_share, p_i and q_i, all starting at 0; after each step q_i and p_i are clamped to their boxes. The gradient of
/// L = Σ_j (1−α)·max_i |I^(i)_j| + α·Σ_i |I^(i)_j| is autograd's: sign(I^(i)_j)·(α + (1−α)·[i is the first arg max
/// of |I_j|]), sign(0) = 0, pulled back through I_and = M_and·v_and (the superset Möbius transform) and
/// I_or = M_or·v_or (`DecompositionLP.orTranspose`). The last iterate is returned.
///
/// - Complexity: per iteration 4 butterflies per model, O(m·n·2^n), in Double on the host.
enum JointSGD {
    /// The reference lr is 1e-5 on MNIST-sized rewards (|v(N) − v(∅)| ≈ 10); this scales it with the rewards.
    static func defaultLearningRate(_ lps: [DecompositionLP]) -> Double {
        let spread = lps.map { abs($0.v[$0.v.count - 1] - $0.v[0]) }.max() ?? 1
        return 1e-6 * max(spread, 1e-12)
    }

    static func run(lps: [DecompositionLP], pBound: [Double], settings: JointDecomposition.Settings) throws
        -> JointDecomposition.Result
    {
        let m = lps.count
        let count = lps[0].v.count
        let lr = settings.lr ?? defaultLearningRate(lps)
        let alpha = settings.alpha
        let zeros = [Double](repeating: 0, count: count)
        var pShare = zeros
        var p = [[Double]](repeating: zeros, count: m)
        var q = p
        var bufShare = zeros
        var bufP = p
        var bufQ = p
        var iand = p
        var ior = p
        func forward() {
            for i in 0..<m {
                let total = count == 0 ? zeros : pShare.indices.map { pShare[$0] + p[i][$0] }
                iand[i] = lps[i].andInteractions(p: total, q: q[i])
                ior[i] = lps[i].orInteractions(p: total, q: q[i])
            }
        }
        func step(_ x: inout [Double], _ buf: inout [Double], _ g: [Double], first: Bool) {
            for s in x.indices {
                buf[s] = first ? g[s] : settings.momentum * buf[s] + g[s]
                x[s] -= lr * buf[s]
            }
        }
        for it in 0..<settings.iterations {
            forward()
            // Sign gradients per column, the max term to the first arg max.
            var gAnd = [[Double]](repeating: zeros, count: m)
            var gOr = gAnd
            for (rows, out) in [(iand, 0), (ior, 1)] {
                for j in 0..<count {
                    var first = 0
                    for i in 1..<m where abs(rows[i][j]) > abs(rows[first][j]) { first = i }
                    for i in 0..<m {
                        let x = rows[i][j]
                        let sign: Double = x > 0 ? 1 : (x < 0 ? -1 : 0)
                        let g = sign * (alpha + (i == first ? 1 - alpha : 0))
                        if out == 0 { gAnd[i][j] = g } else { gOr[i][j] = g }
                    }
                }
            }
            var gShare = zeros
            for i in 0..<m {
                let dAnd = HostButterfly.apply(.mobiusSuperset, gAnd[i])  // dL/dv_and = M_andᵀ g
                let dOr = lps[i].orTranspose(gOr[i])  // dL/dv_or = M_orᵀ g
                let gp = count == 0 ? zeros : dAnd.indices.map { dAnd[$0] - dOr[$0] }
                let gq = dAnd.indices.map { 0.5 * (dAnd[$0] + dOr[$0]) }
                for s in 0..<count { gShare[s] += gp[s] }
                step(&p[i], &bufP[i], gp, first: it == 0)
                step(&q[i], &bufQ[i], gq, first: it == 0)
                let (b, c) = (lps[i].bound, pBound[i])
                for s in 0..<count {
                    q[i][s] = min(max(q[i][s], -b), b)
                    p[i][s] = min(max(p[i][s], -c), c)
                }
            }
            step(&pShare, &bufShare, gShare, first: it == 0)
        }
        forward()
        return JointDecomposition.Result(
            n: lps[0].n, iand: iand, ior: ior, pShare: pShare, p: p, q: q,
            loss: JointDecomposition.loss(iand: iand, ior: ior, alpha: alpha),
            solver: String(format: "sgd (reference, lr %.3g, momentum %.2g)", lr, settings.momentum),
            status: "iteration limit (no certificate)", iterations: settings.iterations, seconds: 0)
    }
}
