import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import Testing

/// Phase-boundary and loss-gap detection on synthetic series with a known answer.
@Suite("Phase boundary")
struct PhaseBoundaryTests {
    @Test("moving median by hand")
    func movingMedian() {
        #expect(PhaseBoundary.movingMedian([5, 1, 4, 2, 3], window: 3) == [3, 4, 2, 3, 2.5])
        #expect(PhaseBoundary.movingMedian([5, 1, 4], window: 1) == [5, 1, 4])
    }

    /// A falling-then-rising high-order share with seeded noise of ±`noise`: the detected boundary must be within
    /// one epoch of the true minimum for noise well below the per-epoch change (0.02 down, 0.015 up).
    @Test("a V-shaped share with noise: the boundary within one epoch of the true minimum", arguments: [4, 12, 25])
    func vShape(truth: Int) {
        for trial in 0..<10 {
            let s = seed(truth, trial, 301)
            var rng = SplitMix64(seed: s)
            let share = (0..<30).map { e -> Double in
                let clean = e <= truth ? 0.6 - 0.02 * Double(e) : 0.6 - 0.02 * Double(truth) + 0.015 * Double(e - truth)
                return clean + Double.random(in: -0.004..<0.004, using: &rng)
            }
            let b = PhaseBoundary.boundary(share, window: 3)
            if case .at(let found) = b {
                #expect(abs(found - truth) <= 1, "seed \(s): found \(found), truth \(truth)")
            } else {
                Issue.record("seed \(s): \(b), truth \(truth)")
            }
        }
    }

    @Test("monotone shares: no phase 2 when still falling, no phase 1 when rising from the start")
    func monotone() {
        let falling = (0..<10).map { 1 - 0.05 * Double($0) }
        #expect(PhaseBoundary.boundary(falling, window: 3) == .noPhase2)
        #expect(PhaseBoundary.boundary(falling.reversed(), window: 3) == .noPhase1)
    }

    @Test("high-order share from strengths by order (order 0 left out)")
    func highShare() {
        // Orders 0…4 with strengths 100 (ignored), 1, 2, 3, 4: share of orders >= 3 is 7/10.
        #expect(PhaseBoundary.highShare([[100, 1, 2, 3, 4]], from: 3) == [0.7])
        let variants = PhaseBoundary.variants([[0, 1, 1, 1, 1]], n: 4, kHigh: 3)
        #expect(variants.map(\.kHigh) == [2, 2, 2, 3, 3, 3, 4, 4, 4] && variants.map(\.window) == [1, 3, 5, 1, 3, 5, 1, 3, 5])
    }

    @Test("loss gap: flat then rising, the hinge's breakpoint at the true epoch", arguments: [5, 10, 18])
    func gapOpening(truth: Int) {
        for trial in 0..<10 {
            let s = seed(truth, trial, 302)
            var rng = SplitMix64(seed: s)
            let epochs = (0..<30).map(Double.init)
            let train = epochs.map { 2 * exp(-$0 / 6) }
            let test = epochs.indices.map { e in
                train[e] + 0.05 + 0.03 * Double(max(0, e - truth)) + Double.random(in: -0.003..<0.003, using: &rng)
            }
            let found = PhaseBoundary.gapOpening(epochs: epochs, train: train, test: test, window: 3)
            #expect(found.map { abs($0 - truth) <= 1 } == true, "seed \(s): found \(String(describing: found)), truth \(truth)")
        }
        // Epochs need not be evenly spaced: checkpoints every 2 epochs, the gap opening at epoch 12 (index 6).
        let epochs = (0..<15).map { Double(2 * $0) }
        let train = epochs.map { 1 / (1 + $0) }
        let test = epochs.map { 1 / (1 + $0) + 0.1 + 0.02 * max(0, $0 - 12) }
        #expect(PhaseBoundary.gapOpening(epochs: epochs, train: train, test: test, window: 1) == 6)
    }

    @Test("a gap that only shrinks never opens")
    func gapNeverOpens() {
        let epochs = (0..<10).map(Double.init)
        #expect(PhaseBoundary.gapOpening(epochs: epochs, train: epochs.map { _ in 0 }, test: epochs.map { 1 / (1 + $0) }, window: 3) == nil)
    }
}
