/// The device side of `PDLP`: the iterate, its extrapolation and running average in buffers of one backend.
struct DeviceState<Ops: SparsifierOps> {
    let backend: Ops
    let lp: DecompositionLP
    let precision: Precision
    let v: DeviceBuffer
    let p: DeviceBuffer?, q: DeviceBuffer?
    let iAnd: DeviceBuffer, iOr: DeviceBuffer?
    let yAnd: DeviceBuffer, yAndBar: DeviceBuffer, gAnd: DeviceBuffer
    let yOr: DeviceBuffer?, yOrBar: DeviceBuffer?, gOr: DeviceBuffer?
    let pAvg: DeviceBuffer?, qAvg: DeviceBuffer?, yAndAvg: DeviceBuffer, yOrAvg: DeviceBuffer?

    init(backend: Ops, lp: DecompositionLP, precision: Precision) throws {
        self.backend = backend
        self.lp = lp
        self.precision = precision
        let count = lp.v.count
        func make() throws -> DeviceBuffer {
            let b = try backend.makeBuffer(count: count, precision: precision)
            try backend.writeDoubles([Double](repeating: 0, count: count), to: b)
            return b
        }
        let mode = lp.mode
        v = try make()
        try backend.writeDoubles(lp.v, to: v)
        p = mode.hasP ? try make() : nil
        q = mode.hasQ ? try make() : nil
        iAnd = try make()
        iOr = lp.withOr ? try make() : nil
        yAnd = try make()
        yAndBar = try make()
        gAnd = try make()
        yOr = lp.withOr ? try make() : nil
        yOrBar = lp.withOr ? try make() : nil
        gOr = lp.withOr ? try make() : nil
        pAvg = mode.hasP ? try make() : nil
        qAvg = mode.hasQ ? try make() : nil
        yAndAvg = try make()
        yOrAvg = lp.withOr ? try make() : nil
    }

    func fetch(_ b: DeviceBuffer?) throws -> [Double] {
        guard let b else { return [Double](repeating: 0, count: lp.v.count) }
        return try backend.readDoubles(b)
    }

    /// I_and, I_or at the current (p, q), with q clamped into its box.
    func interactions() throws {
        let mode = lp.mode
        try backend.splitAndOr(v: v, p: p, q: q, bound: lp.bound, scale: mode.scale, vAnd: iAnd, vOr: iOr)
        try backend.transform(.and, iAnd, n: lp.n)
        if let iOr { try backend.transform(.or, iOr, n: lp.n) }
    }

    /// x ← proj(x − (1/ω)·T·Kᵀȳ): ∂/∂p = g_and − g_or, ∂/∂q = s·g_and + ½·g_or (g = Mᵀȳ).
    func primalStep(omega: Double, n: Int) throws {
        try backend.copy(from: yAndBar, to: gAnd)
        try backend.transform(.mobiusSuperset, gAnd, n: n)
        if let gOr, let yOrBar {
            try backend.copy(from: yOrBar, to: gOr)
            try backend.transform(.orTranspose, gOr, n: n)
        }
        let scale = lp.mode.scale
        if let p {
            try backend.primalDualPrimal(
                x: p, gA: gAnd, gB: gOr, cA: 1, cB: -1, weight: omega, n: n, withOr: true, bound: .infinity)
        }
        if let q {
            try backend.primalDualPrimal(
                x: q, gA: gAnd, gB: gOr, cA: scale, cB: 0.5, weight: scale * omega, n: n,
                withOr: iOr != nil, bound: lp.bound)
        }
    }

    /// y ← clip(y + ω·S·I), ȳ = 2y′ − y; `weight` is the row weight over ω.
    func dualStep(weight: Double) throws {
        try backend.primalDualDual(y: yAnd, yBar: yAndBar, interactions: iAnd, weight: weight, isOr: false)
        if let yOr, let yOrBar, let iOr {
            try backend.primalDualDual(y: yOr, yBar: yOrBar, interactions: iOr, weight: weight, isOr: true)
        }
    }

    private var pairs: [(DeviceBuffer, DeviceBuffer)] {
        [(p, pAvg), (q, qAvg), (yAnd, yAndAvg), (yOr, yOrAvg)].compactMap { a, b in a.flatMap { x in b.map { (x, $0) } }
        }
    }

    /// average ← average + (current − average)/k, for the k-th iterate since the last restart.
    func accumulateAverage(count k: Int) throws {
        for (current, average) in pairs {
            try backend.blend(average, current, alpha: 1 - 1 / Double(k), beta: 1 / Double(k))
        }
    }

    func snapshot(average: Bool) throws -> PDLP.Snapshot {
        PDLP.Snapshot(
            p: try fetch(average ? pAvg : p), q: try fetch(average ? qAvg : q),
            yAnd: try fetch(average ? yAndAvg : yAnd),
            yOr: try fetch(average ? yOrAvg : yOr))
    }

    func restartFromAverage() throws {
        for (current, average) in pairs { try backend.copy(from: average, to: current) }
        try restartFromCurrent()
    }

    /// ȳ ← y: the extrapolation starts afresh.
    func restartFromCurrent() throws {
        try backend.copy(from: yAnd, to: yAndBar)
        if let yOr, let yOrBar { try backend.copy(from: yOr, to: yOrBar) }
    }
}
