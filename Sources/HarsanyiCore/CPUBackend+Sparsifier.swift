import Foundation

extension CPUBackend: SparsifierOps {
    public func nullPlayers(_ v: DeviceBuffer) throws -> [Int] {
        NullPlayers.find(try readDoubles(v))
    }

    /// Typed pointers to optional buffers, all of one precision.
    private func ptr<T: HarsanyiReal>(_ b: DeviceBuffer?, _: T.Type) throws -> UnsafeMutablePointer<T>? {
        guard let b else { return nil }
        return try cpu(b, T.self)
    }

    /// Runs `body(range)` over chunks of 0..<count in parallel, dispatching on the buffer's precision.
    private func each(_ count: Int, _ body: @escaping (Range<Int>) -> Void) {
        parallelChunks(count, minimumWork: 1, body)
    }

    public func splitAndOr(v: DeviceBuffer, p: DeviceBuffer?, q: DeviceBuffer?, bound: Double, scale: Double, vAnd: DeviceBuffer, vOr: DeviceBuffer?) throws {
        switch v.precision {
        case .float32: try split(Float.self, v, p, q, bound, scale, vAnd, vOr)
        case .float64: try split(Double.self, v, p, q, bound, scale, vAnd, vOr)
        }
    }

    private func split<T: HarsanyiReal>(_: T.Type, _ v: DeviceBuffer, _ p: DeviceBuffer?, _ q: DeviceBuffer?, _ bound: Double,
                                        _ scale: Double, _ vAnd: DeviceBuffer, _ vOr: DeviceBuffer?) throws {
        let v_ = UnsafeMutableSendablePointer(try cpu(v, T.self)), a = UnsafeMutableSendablePointer(try cpu(vAnd, T.self))
        let p_ = try ptr(p, T.self).map(UnsafeMutableSendablePointer.init), q_ = try ptr(q, T.self).map(UnsafeMutableSendablePointer.init)
        let o = try ptr(vOr, T.self).map(UnsafeMutableSendablePointer.init)
        let b = T(bound), half = T(scale)
        each(v.count) { r in
            for i in r {
                var h = v_.pointer[i]
                if let q_ {
                    let qi = min(max(q_.pointer[i], -b), b)
                    q_.pointer[i] = qi
                    h = h + qi
                }
                h = half * h
                let pi = p_?.pointer[i] ?? 0
                a.pointer[i] = h + pi
                o?.pointer[i] = h - pi
            }
        }
    }

    public func reduceSum(_ a: DeviceBuffer, _ b: DeviceBuffer?, absolute: Bool, into out: DeviceBuffer, at index: Int, scale: Double) throws {
        switch a.precision {
        case .float32: try reduce(Float.self, a, b, absolute, out, index, scale)
        case .float64: try reduce(Double.self, a, b, absolute, out, index, scale)
        }
    }

    private func reduce<T: HarsanyiReal>(_: T.Type, _ a: DeviceBuffer, _ b: DeviceBuffer?, _ absolute: Bool, _ out: DeviceBuffer,
                                         _ index: Int, _ scale: Double) throws {
        let a_ = try cpu(a, T.self), b_ = try ptr(b, T.self), o = try cpu(out, T.self)
        // Pairwise summation in Double: error O(log n · ε), independent of thread count.
        func sum(_ p: UnsafeMutablePointer<T>, _ lo: Int, _ hi: Int) -> Double {
            if hi - lo <= 256 {
                var s = 0.0
                for i in lo..<hi { s += absolute ? abs(Double(p[i])) : Double(p[i]) }
                return s
            }
            let mid = (lo + hi) / 2
            return sum(p, lo, mid) + sum(p, mid, hi)
        }
        var total = sum(a_, 0, a.count)
        if let b_ { total += sum(b_, 0, a.count) }
        o[index] = T(scale * total)
    }

    public func blend(_ target: DeviceBuffer, _ source: DeviceBuffer, alpha: Double, beta: Double) throws {
        switch target.precision {
        case .float32: try blend(Float.self, target, source, alpha, beta)
        case .float64: try blend(Double.self, target, source, alpha, beta)
        }
    }

    private func blend<T: HarsanyiReal>(
        _: T.Type, _ t: DeviceBuffer, _ s: DeviceBuffer, _ alpha: Double, _ beta: Double
    ) throws {
        let t_ = UnsafeMutableSendablePointer(try cpu(t, T.self)), s_ = UnsafeMutableSendablePointer(try cpu(s, T.self))
        let a = T(alpha), b = T(beta)
        each(t.count) { r in for i in r { t_.pointer[i] = a * t_.pointer[i] + b * s_.pointer[i] } }
    }

    public func signInPlace(_ a: DeviceBuffer) throws {
        switch a.precision {
        case .float32: try sign(Float.self, a)
        case .float64: try sign(Double.self, a)
        }
    }

    private func sign<T: HarsanyiReal>(_: T.Type, _ a: DeviceBuffer) throws {
        let p = UnsafeMutableSendablePointer(try cpu(a, T.self))
        each(a.count) { r in for i in r { let x = p.pointer[i]; p.pointer[i] = x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    }

    public func momentumStep(x: DeviceBuffer, buffer: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                             lr: Double, momentum: Double, first: Bool) throws {
        switch x.precision {
        case .float32: try sgd(Float.self, x, buffer, gA, gB, cA, cB, lr, momentum, first)
        case .float64: try sgd(Double.self, x, buffer, gA, gB, cA, cB, lr, momentum, first)
        }
    }

    private func sgd<T: HarsanyiReal>(_: T.Type, _ x: DeviceBuffer, _ buf: DeviceBuffer, _ gA: DeviceBuffer, _ gB: DeviceBuffer?,
                                           _ cA: Double, _ cB: Double, _ lr: Double, _ mom: Double, _ first: Bool) throws {
        let x_ = UnsafeMutableSendablePointer(try cpu(x, T.self)), b_ = UnsafeMutableSendablePointer(try cpu(buf, T.self))
        let a_ = UnsafeMutableSendablePointer(try cpu(gA, T.self)), g_ = try ptr(gB, T.self).map(UnsafeMutableSendablePointer.init)
        let ca = T(cA), cb = T(cB), l = T(lr), m = T(mom)
        each(x.count) { r in
            for i in r {
                var g = ca * a_.pointer[i]
                if cb != 0, let g_ { g = g + cb * g_.pointer[i] }
                let b = first ? g : m * b_.pointer[i] + g
                b_.pointer[i] = b
                x_.pointer[i] = x_.pointer[i] - l * b
            }
        }
    }

    public func adamStep(x: DeviceBuffer, m: DeviceBuffer, s: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double,
                         lr: Double, beta1: Double, beta2: Double, epsilon: Double, step: Int) throws {
        switch x.precision {
        case .float32: try adam(Float.self, x, m, s, gA, gB, cA, cB, lr, beta1, beta2, epsilon, step)
        case .float64: try adam(Double.self, x, m, s, gA, gB, cA, cB, lr, beta1, beta2, epsilon, step)
        }
    }

    private func adam<T: HarsanyiReal>(_: T.Type, _ x: DeviceBuffer, _ m: DeviceBuffer, _ s: DeviceBuffer, _ gA: DeviceBuffer,
                                       _ gB: DeviceBuffer?, _ cA: Double, _ cB: Double, _ lr: Double, _ beta1: Double,
                                       _ beta2: Double, _ eps: Double, _ step: Int) throws {
        let x_ = UnsafeMutableSendablePointer(try cpu(x, T.self)), m_ = UnsafeMutableSendablePointer(try cpu(m, T.self))
        let s_ = UnsafeMutableSendablePointer(try cpu(s, T.self)), a_ = UnsafeMutableSendablePointer(try cpu(gA, T.self))
        let g_ = try ptr(gB, T.self).map(UnsafeMutableSendablePointer.init)
        let ca = T(cA), cb = T(cB), l = T(lr), b1 = T(beta1), b2 = T(beta2), e = T(eps)
        let c1 = T(1 - pow(beta1, Double(step))), c2 = T(1 - pow(beta2, Double(step)))
        each(x.count) { r in
            for i in r {
                var g = ca * a_.pointer[i]
                if cb != 0, let g_ { g = g + cb * g_.pointer[i] }
                let mi = b1 * m_.pointer[i] + (1 - b1) * g
                let si = b2 * s_.pointer[i] + (1 - b2) * g * g
                m_.pointer[i] = mi
                s_.pointer[i] = si
                x_.pointer[i] = x_.pointer[i] - l * (mi / c1) / ((si / c2).squareRoot() + e)
            }
        }
    }

    public func subtract(_ x: DeviceBuffer, scalarAt index: Int, of s: DeviceBuffer) throws {
        switch x.precision {
        case .float32: try sub(Float.self, x, index, s)
        case .float64: try sub(Double.self, x, index, s)
        }
    }

    private func sub<T: HarsanyiReal>(_: T.Type, _ x: DeviceBuffer, _ index: Int, _ s: DeviceBuffer) throws {
        let x_ = UnsafeMutableSendablePointer(try cpu(x, T.self))
        let c = try cpu(s, T.self)[index]
        each(x.count) { r in for i in r { x_.pointer[i] -= c } }
    }

    public func primalDualPrimal(x: DeviceBuffer, gA: DeviceBuffer, gB: DeviceBuffer?, cA: Double, cB: Double, weight: Double,
                                 n: Int, withOr: Bool, bound: Double) throws {
        switch x.precision {
        case .float32: try primal(Float.self, x, gA, gB, cA, cB, weight, n, withOr, bound)
        case .float64: try primal(Double.self, x, gA, gB, cA, cB, weight, n, withOr, bound)
        }
    }

    private func primal<T: HarsanyiReal>(_: T.Type, _ x: DeviceBuffer, _ gA: DeviceBuffer, _ gB: DeviceBuffer?, _ cA: Double, _ cB: Double,
                                         _ weight: Double, _ n: Int, _ withOr: Bool, _ bound: Double) throws {
        let x_ = UnsafeMutableSendablePointer(try cpu(x, T.self)), a_ = UnsafeMutableSendablePointer(try cpu(gA, T.self))
        let g_ = try ptr(gB, T.self).map(UnsafeMutableSendablePointer.init)
        let ca = T(cA), cb = T(cB), w = T(weight), b = T(bound)
        each(x.count) { r in
            for t in r {
                var g = ca * a_.pointer[t]
                if cb != 0, let g_ { g = g + cb * g_.pointer[t] }
                let col = T(MatrixSums.column(t, n: n, withOr: withOr))
                x_.pointer[t] = min(max(x_.pointer[t] - g / (w * col), -b), b)
            }
        }
    }

    public func trackBest(trace: DeviceBuffer, at it: Int, state: DeviceBuffer) throws {
        switch trace.precision {
        case .float32: try track(Float.self, trace, it, state)
        case .float64: try track(Double.self, trace, it, state)
        }
    }

    private func track<T: HarsanyiReal>(_: T.Type, _ trace: DeviceBuffer, _ it: Int, _ state: DeviceBuffer) throws {
        let t = try cpu(trace, T.self), s = try cpu(state, T.self)
        let better = it == 0 || t[it] < s[0]
        if better { s[0] = t[it] }
        s[1] = better ? 1 : 0
    }

    public func copyIfImproved(state: DeviceBuffer, from source: DeviceBuffer, to destination: DeviceBuffer) throws {
        let improved = state.precision == .float32 ? try cpu(state, Float.self)[1] != 0 : try cpu(state, Double.self)[1] != 0
        if improved { try copy(from: source, to: destination) }
    }

    public func primalDualDual(y: DeviceBuffer, yBar: DeviceBuffer, interactions: DeviceBuffer, weight: Double, isOr: Bool) throws {
        switch y.precision {
        case .float32: try dual(Float.self, y, yBar, interactions, weight, isOr)
        case .float64: try dual(Double.self, y, yBar, interactions, weight, isOr)
        }
    }

    private func dual<T: HarsanyiReal>(_: T.Type, _ y: DeviceBuffer, _ yBar: DeviceBuffer, _ i: DeviceBuffer, _ weight: Double, _ isOr: Bool) throws {
        let y_ = UnsafeMutableSendablePointer(try cpu(y, T.self)), yb = UnsafeMutableSendablePointer(try cpu(yBar, T.self))
        let i_ = UnsafeMutableSendablePointer(try cpu(i, T.self))
        let w = T(weight)
        each(y.count) { r in
            for s in r {
                let old = y_.pointer[s]
                let nw = min(max(old + i_.pointer[s] / (w * T(MatrixSums.row(s, isOr: isOr))), -1), 1)
                y_.pointer[s] = nw
                yb.pointer[s] = 2 * nw - old
            }
        }
    }
}
