import Foundation
import HarsanyiCore

/// The noise-model theory's per-order distribution (spec §10.1, a reconstruction: `NoiseModel`) and its fit to the
/// real distribution of each epoch.
///
/// The targets y are the rewards v(x_S) of the final (converged) network on each of the study's samples. For a
/// noise level σ², the theory's strength by order is T(k; σ²) = E_x Σ_{|T|=k} |w*_T(σ²; y_x)|, normalised over
/// k = 1…n like the real d_e(k). The fitted σ²_e minimises the total-variation distance ½·Σ_k |t(k; σ²) − d_e(k)| over
/// σ² = 0 and a log grid 10^-4…10^2 (121 points), refined by golden-section search in log σ² between the best grid
/// point's neighbours.
///
/// - Complexity: one superset sum per sample, then O(n·2^n) per sample and σ² tried.
public struct NoiseTheoryFit {
    public let n: Int
    /// Jᵀy of each sample (the superset sums), computed once.
    let projected: [[Double]]

    public init(targets: [[Double]]) throws {
        guard let first = targets.first, let n = Subsets.playerCount(forLength: first.count),
            targets.allSatisfy({ $0.count == first.count })
        else { throw HarsanyiError.invalidArgument("the theory needs 2^n targets per sample, for one n") }
        self.n = n
        projected = targets.map { HostButterfly.apply(.zetaSuperset, $0) }
    }

    /// T(k; σ²) for k = 0…n, averaged over the samples.
    public func strength(sigma2: Double) -> [Double] {
        let g = NoiseModel.inverseFactor(sigma2: sigma2)
        var out = [Double](repeating: 0, count: n + 1)
        for b in projected {
            let s = NoiseModel.orderStrength(g.apply(b))
            for k in 0...n { out[k] += s[k] / Double(projected.count) }
        }
        return out
    }

    /// Normalised over orders 1…n (index 0 is 0).
    public static func distribution(_ strength: [Double]) -> [Double] {
        let total = strength.indices.filter { $0 >= 1 }.reduce(0) { $0 + strength[$1] }
        return strength.indices.map { $0 >= 1 && total > 0 ? strength[$0] / total : 0 }
    }

    public static func distance(_ a: [Double], _ b: [Double]) -> Double {
        0.5 * zip(a, b).dropFirst().reduce(0) { $0 + abs($1.0 - $1.1) }
    }

    public static let grid: [Double] = [0] + (0...120).map { pow(10, -4 + 6 * Double($0) / 120) }

    /// The σ² whose distribution is nearest to `real` (a distribution over orders, index 0 ignored), and the distance.
    public func fit(_ real: [Double]) -> (sigma2: Double, distance: Double) {
        func cost(_ s2: Double) -> Double { Self.distance(Self.distribution(strength(sigma2: s2)), real) }
        let costs = Self.grid.map(cost)
        let best = costs.indices.min { costs[$0] < costs[$1] }!
        guard best >= 1 else { return (0, costs[0]) }
        // Golden section in log σ² between the neighbours (grid index 1 is the smallest positive σ²).
        var a = log(Self.grid[max(1, best - 1)])
        var b = log(Self.grid[min(Self.grid.count - 1, best + 1)])
        let phi = (sqrt(5.0) - 1) / 2
        var c = b - phi * (b - a)
        var d = a + phi * (b - a)
        var fc = cost(exp(c))
        var fd = cost(exp(d))
        for _ in 0..<40 {
            if fc < fd {
                (b, d, fd) = (d, c, fc)
                c = b - phi * (b - a)
                fc = cost(exp(c))
            } else {
                (a, c, fc) = (c, d, fd)
                d = a + phi * (b - a)
                fd = cost(exp(d))
            }
        }
        let (x, fx) = fc < fd ? (exp(c), fc) : (exp(d), fd)
        return fx < costs[best] ? (x, fx) : (Self.grid[best], costs[best])
    }
}
