import Foundation

/// Comparisons, logic and Where.
///
/// BOOL tensors are 0/1 in the representation of what they were computed from: from float data they are float32
/// 0/1 (so masks computed from the masked input stay on the float paths of every executor), from int64 shape
/// arithmetic they are int64 0/1, and BOOL initializers load as int64 0/1. Any nonzero value is true.
enum LogicOps {
    static func comparison(_ name: String, _ f: @escaping @Sendable (Double, Double) -> Bool) -> Operator {
        Operator(name) { n, x, _ in
            let a = try x[0]
            let b = try x[1]
            if a.dtype == .int64, b.dtype == .int64 {
                return [try Elementwise.binaryInts(n, a, b) { f(Double($0), Double($1)) ? 1 : 0 }]
            }
            return [try Elementwise.binary(n, a, b) { f(Double($0), Double($1)) ? 1 : 0 }]
        }
    }

    static func logical(_ name: String, _ f: @escaping @Sendable (Bool, Bool) -> Bool) -> Operator {
        comparison(name) { f($0 != 0, $1 != 0) }
    }

    /// Where(condition, X, Y): X where the condition is nonzero, else Y; the three broadcast together.
    static func select(_ n: Node, _ c: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard let ab = Elementwise.broadcastShape(a.shape, b.shape), let shape = Elementwise.broadcastShape(c.shape, ab)
        else {
            throw ONNXError.invalid(n.name, "Where cannot broadcast \(c.shape), \(a.shape), \(b.shape)")
        }
        let count = shape.reduce(1, *)
        let so = strides(shape)
        let sc = Elementwise.broadcastStrides(c.shape, to: shape)
        let sa = Elementwise.broadcastStrides(a.shape, to: shape)
        let sb = Elementwise.broadcastStrides(b.shape, to: shape)
        let cond = c.asFloats.map { $0 != 0 }
        var pick = [(Bool, Int)](repeating: (false, 0), count: count)
        for o in 0..<count {
            var ic = 0
            var ia = 0
            var ib = 0
            var r = o
            for d in shape.indices {
                let k = r / so[d]
                r -= k * so[d]
                ic += k * sc[d]
                ia += k * sa[d]
                ib += k * sb[d]
            }
            pick[o] = cond[ic] ? (true, ia) : (false, ib)
        }
        if a.dtype == .int64, b.dtype == .int64 {
            return Tensor(shape: shape, ints: pick.map { $0.0 ? a.ints[$0.1] : b.ints[$0.1] })
        }
        let fa = a.asFloats
        let fb = b.asFloats
        return Tensor(shape: shape, floats: pick.map { $0.0 ? fa[$0.1] : fb[$0.1] })
    }

    static let operators: [Operator] = [
        comparison("Equal") { $0 == $1 },
        comparison("Less") { $0 < $1 },
        comparison("Greater") { $0 > $1 },
        comparison("LessOrEqual") { $0 <= $1 },
        comparison("GreaterOrEqual") { $0 >= $1 },
        logical("And") { $0 && $1 },
        logical("Or") { $0 || $1 },
        logical("Xor") { $0 != $1 },
        Operator("Not") { _, x, _ in
            let t = try x[0]
            if t.dtype == .int64 { return [Tensor(shape: t.shape, ints: t.ints.map { $0 == 0 ? 1 : 0 })] }
            return [Elementwise.unary(t) { $0 == 0 ? 1 : 0 }]
        },
        Operator("IsNaN") { _, x, _ in [Elementwise.unary(try x[0]) { $0.isNaN ? 1 : 0 }] },
        Operator("IsInf") { n, x, _ in
            let pos = n.int("detect_positive", 1) != 0
            let neg = n.int("detect_negative", 1) != 0
            return [Elementwise.unary(try x[0]) { $0.isInfinite && ($0 > 0 ? pos : neg) ? 1 : 0 }]
        },
        Operator("Where") { n, x, _ in [try select(n, x[0], x[1], x[2])] },
    ]
}
