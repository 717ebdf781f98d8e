import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

/// The per-epoch analysis of `analyze dynamics` over one dataset run per checkpoint (same samples and players).
struct DynamicsStudy {
    let epochs: [Int]
    let n: Int
    let samples: Int
    /// Per epoch, the order statistics (normalised by E|v(N) − v(∅)|, all S).
    let stats: [OrderStatistics]
    /// Per epoch, S_e(k) = E_x Σ_{|S|=k} |I_and| + |I_or| (k = 0…n) and its distribution over k ≥ 1.
    let strength: [[Double]]
    let distribution: [[Double]]
    let kHigh: Int
    let window: Int
    let highShare: [Double]
    let boundary: PhaseBoundary.Boundary
    let variants: [(kHigh: Int, window: Int, boundary: PhaseBoundary.Boundary)]
    let losses: [[Double]]?
    let gapOpening: Int?
    /// The theory: fitted σ² and distance per epoch, the theory's distribution at that σ².
    let fits: [(sigma2: Double, distance: Double)]
    let theory: [[Double]]
    /// r(k) at the cut ⌊n/2⌋ over σ² (Proposition 1: increasing).
    let ratioCurve: [(sigma2: Double, r: Double)]

    init(epochs: [Int], runs: [String], losses: [[Double]]?, highOrder: Int?, window: Int) throws {
        let loaded = try runs.map { try RunSamples(runs: [$0]) }
        let n = loaded[0].n
        for (path, run) in zip(runs, loaded) where run.n != n || run.samples.map(\.index) != loaded[0].samples.map(\.index) {
            throw HarsanyiError.invalidArgument("\(path): its done samples or n differ from \(runs[0])'s")
        }
        self.epochs = epochs
        self.n = n
        samples = loaded[0].samples.count
        stats = loaded.map { OrderStatistics($0, threshold: SalientThreshold(), normalize: true) }
        strength = stats.map { s in s.rows.map { $0.both.positive - $0.both.negative } }
        distribution = strength.map(NoiseTheoryFit.distribution)
        let k = highOrder ?? PhaseBoundary.defaultHighOrder(n: n)
        guard k >= 1, k <= n else { throw HarsanyiError.invalidArgument("--high-order must be in 1...\(n)") }
        kHigh = k
        self.window = window
        highShare = PhaseBoundary.highShare(strength, from: k)
        boundary = PhaseBoundary.boundary(highShare, window: window)
        variants = PhaseBoundary.variants(strength, n: n, kHigh: k)
        self.losses = losses
        gapOpening = losses.flatMap {
            PhaseBoundary.gapOpening(epochs: epochs.map(Double.init), train: $0[0], test: $0[1], window: window)
        }
        let theoryModel = try NoiseTheoryFit(targets: loaded.last!.samples.map(\.v))
        fits = distribution.map { theoryModel.fit($0) }
        theory = fits.map { NoiseTheoryFit.distribution(theoryModel.strength(sigma2: $0.sigma2)) }
        ratioCurve = [0, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1, 3, 10].map {
            ($0, NoiseModel.ratio(theoryModel.strength(sigma2: $0), cut: n / 2))
        }
    }

    func describe(_ b: PhaseBoundary.Boundary) -> Any {
        switch b {
        case .at(let i): return epochs[i]
        case .noPhase1: return "none: the high-order share is smallest at the first epoch (no phase 1 seen)"
        case .noPhase2: return "none: the high-order share is smallest at the last epoch (no phase 2 seen)"
        }
    }

    var boundaryEpoch: Int? { if case .at(let i) = boundary { return epochs[i] } else { return nil } }

    func json() -> [String: Any] {
        let atEpochs = variants.compactMap { v -> Int? in if case .at(let i) = v.boundary { return epochs[i] } else { return nil } }
        let rs = ratioCurve.map(\.r)
        var out: [String: Any] = [
            "analysis": "dynamics", "n": n, "samples": samples, "epochs": epochs,
            "strength_by_order": "S(k) = E_x sum_{|S|=k} |I_and| + |I_or|, over E|v(N) - v(empty)|",
            "per_epoch": epochs.indices.map { e in
                [
                    "epoch": epochs[e], "strength": strength[e], "distribution": distribution[e],
                    "positive": stats[e].rows.map(\.both.positive), "negative": stats[e].rows.map(\.both.negative),
                    "high_order_share": highShare[e], "theory_sigma2": fits[e].sigma2,
                    "theory_distance": fits[e].distance, "theory_distribution": theory[e],
                    "r_real": NoiseModel.ratio(distribution[e], cut: n / 2),
                    "r_theory": NoiseModel.ratio(theory[e], cut: n / 2),
                ] as [String: Any]
            },
            "phase_boundary": [
                "rule": "first epoch where the centred moving median (window \(window)) of the share of strength at "
                    + "orders >= \(kHigh) is smallest",
                "epoch": describe(boundary),
                "robustness": variants.map {
                    ["high_order": $0.kHigh, "window": $0.window, "epoch": describe($0.boundary)] as [String: Any]
                },
                "robustness_range": atEpochs.isEmpty ? NSNull() : [atEpochs.min()!, atEpochs.max()!] as Any,
            ] as [String: Any],
            "theory": [
                "model": "RECONSTRUCTION (spec §10.1): w*(σ²) = (⊗ g⁻¹)·zeta-superset(y), y = last checkpoint's v",
                "fit": "σ² minimising the total-variation distance to each epoch's distribution over orders 1..n",
                "r_cut": n / 2, "r_over_sigma2": ratioCurve.map { [$0.sigma2, $0.r] },
                "r_monotone_in_sigma2": zip(rs, rs.dropFirst()).allSatisfy { $0 <= $1 },
            ] as [String: Any],
            "spindle_at_first_epoch": [
                "peak_order": distribution[0].indices.dropFirst().max { distribution[0][$0] < distribution[0][$1] } ?? 0,
                "distribution": distribution[0],
            ] as [String: Any],
        ]
        if let losses {
            out["losses"] = ["train": losses[0], "test": losses[1]]
            let minTest = losses[1].indices.min { losses[1][$0] < losses[1][$1] }!
            out["loss_gap"] = [
                "rule": "breakpoint of a flat-then-rising hinge fitted (least squares) to test - train up to the "
                    + "maximum of its moving median",
                "opens_at_epoch": gapOpening.map { epochs[$0] as Any } ?? NSNull(),
                "test_loss_minimum_epoch": epochs[minTest],
                "boundary_minus_opening": (boundaryEpoch != nil && gapOpening != nil)
                    ? (boundaryEpoch! - epochs[gapOpening!]) as Any : NSNull(),
            ] as [String: Any]
        }
        return out
    }

    var summary: String {
        var lines = ["epochs \(epochs.first!)…\(epochs.last!), n = \(n), \(samples) samples"]
        lines.append("phase boundary: \(describe(boundary)) (high orders >= \(kHigh), window \(window))")
        if let losses {
            let minTest = losses[1].indices.min { losses[1][$0] < losses[1][$1] }!
            lines.append(
                "loss gap opens at epoch \(gapOpening.map { String(epochs[$0]) } ?? "never"); test loss lowest at "
                    + "epoch \(epochs[minTest])")
        }
        let d = fits.map(\.distance)
        lines.append(
            String(
                format: "theory: fitted σ² %.3g (first) … %.3g (last), distance %.3f … %.3f (mean %.3f)",
                fits.first!.sigma2, fits.last!.sigma2, d.first!, d.last!, d.reduce(0, +) / Double(d.count)))
        return lines.joined(separator: "\n")
    }
}
