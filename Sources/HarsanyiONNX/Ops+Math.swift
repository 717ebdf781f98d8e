import Foundation

/// Elementwise math and the activations of today's CNNs and transformers. Unary operators compute in Double
/// and round once (the reference: within half an ulp of the exact value, except where noted).
enum MathOps {
    /// erf in Double (libm's), rounded to Float.
    static func erf(_ x: Float) -> Float { Float(Foundation.erf(Double(x))) }

    /// Gelu: x·Φ(x) = x/2·(1 + erf(x/√2)); approximate "tanh": x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    static func gelu(tanh: Bool) -> @Sendable (Float) -> Float {
        if tanh {
            return { x in
                let d = Double(x)
                return Float(0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
            }
        }
        return { x in Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))) }
    }

    /// log(1 + e^x) without overflow.
    static func softplus(_ x: Double) -> Double {
        x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))
    }

    static func d(_ f: @escaping @Sendable (Double) -> Double) -> @Sendable (Float) -> Float {
        { Float(f(Double($0))) }
    }

    /// A variadic elementwise operator (Min, Max, Sum, Mean): the inputs broadcast together, folded left.
    static func variadic(_ n: Node, _ xs: [Tensor], _ f: @escaping (Float, Float) -> Float) throws -> Tensor {
        guard var acc = xs.first else { throw ONNXError.invalid(n.name, "\(n.op) needs at least one input") }
        if xs.count == 1 { return Tensor(shape: acc.shape, floats: acc.asFloats) }
        for t in xs.dropFirst() { acc = try Elementwise.binary(n, acc, t, f) }
        return acc
    }

    /// Integer Min/Max/Sum on int64 inputs stay int64 (shape arithmetic in exported graphs); nil otherwise.
    static func intVariadic(_ n: Node, _ xs: [Tensor], _ f: @escaping (Int64, Int64) -> Int64) throws -> Tensor? {
        guard xs.allSatisfy({ $0.dtype == .int64 }), var acc = xs.first else { return nil }
        for t in xs.dropFirst() { acc = try Elementwise.binaryInts(n, acc, t, f) }
        return acc
    }

    static let operators: [Operator] = [
        .unary("Exp") { _ in d(Foundation.exp) },
        .unary("Log") { _ in d(Foundation.log) },
        .unary("Sqrt") { _ in d { $0.squareRoot() } },
        .unary("Reciprocal") { _ in { 1 / $0 } },
        .unary("Abs") { _ in { Swift.abs($0) } },
        .unary("Floor") { _ in { $0.rounded(.down) } },
        .unary("Ceil") { _ in { $0.rounded(.up) } },
        .unary("Round") { _ in { $0.rounded(.toNearestOrEven) } },
        .unary("Sign") { _ in { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 } },
        .unary("Erf") { _ in erf },
        .unary("Sin") { _ in d(Foundation.sin) },
        .unary("Cos") { _ in d(Foundation.cos) },
        .unary("Softplus") { _ in d(softplus) },
        .unary("Softsign") { _ in { $0 / (1 + Swift.abs($0)) } },
        .unary("Mish", since: 18) { _ in d { $0 * Foundation.tanh(softplus($0)) } },
        .unary("Gelu", since: 20) { n in gelu(tanh: n.string("approximate") == "tanh") },
        .unary("HardSigmoid") { n in
            let alpha = n.float("alpha", 0.2)
            let beta = n.float("beta", 0.5)
            return { Swift.max(0, Swift.min(1, alpha * $0 + beta)) }
        },
        // HardSwish: x·max(0, min(1, x/6 + 1/2)).
        .unary("HardSwish", since: 14) { _ in { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) } },
        .unary("Elu") { n in
            let alpha = Double(n.float("alpha", 1))
            return d { $0 >= 0 ? $0 : alpha * Foundation.expm1($0) }
        },
        .unary("Selu") { n in
            let alpha = Double(n.float("alpha", 1.67326319217681884765625))
            let gamma = Double(n.float("gamma", 1.05070102214813232421875))
            return d { gamma * ($0 > 0 ? $0 : alpha * Foundation.expm1($0)) }
        },
        .unary("ThresholdedRelu") { n in
            let alpha = n.float("alpha", 1)
            return { $0 > alpha ? $0 : 0 }
        },
        Operator("Neg", pointwise: { _ in { -$0 } }) { _, x, _ in
            let t = try x[0]
            return [
                t.dtype == .int64 ? Tensor(shape: t.shape, ints: t.ints.map { 0 &- $0 }) : Elementwise.unary(t) { -$0 }
            ]
        },
        Operator("Pow") { n, x, _ in
            [
                try Elementwise.binary(n, x[0], x[1]) { a, b in
                    b == 2 ? a * a : b == 1 ? a : Float(Foundation.pow(Double(a), Double(b)))
                }
            ]
        },
        // Mod: fmod = 0 (integers only): the result takes the divisor's sign (Python's %); fmod = 1: C's fmod.
        Operator("Mod") { n, x, _ in
            let a = try x[0]
            let b = try x[1]
            if a.dtype == .int64, b.dtype == .int64, n.int("fmod", 0) == 0 {
                if b.ints.contains(0) { throw ONNXError.invalid(n.name, "Mod by zero") }
                return [
                    try Elementwise.binaryInts(n, a, b) { p, q in
                        let r = p % q
                        return r != 0 && (r < 0) != (q < 0) ? r + q : r
                    }
                ]
            }
            if n.int("fmod", 0) == 0, a.dtype == .float32 || b.dtype == .float32 {
                throw ONNXError.invalid(n.name, "Mod of floats needs fmod = 1")
            }
            let t = try Elementwise.binary(n, a, b) { Float(Foundation.fmod(Double($0), Double($1))) }
            return [
                a.dtype == .int64 && b.dtype == .int64 ? Tensor(shape: t.shape, ints: t.floats.map { Int64($0) }) : t
            ]
        },
        Operator("PRelu") { n, x, _ in [try Elementwise.binary(n, x[0], x[1]) { v, s in v >= 0 ? v : v * s }] },
        Operator("Min") { n, x, _ in
            [
                try intVariadic(n, x.present, Swift.min)
                    ?? variadic(n, x.present) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
            ]
        },
        Operator("Max") { n, x, _ in
            [
                try intVariadic(n, x.present, Swift.max)
                    ?? variadic(n, x.present) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
            ]
        },
        Operator("Sum") { n, x, _ in [try intVariadic(n, x.present, &+) ?? variadic(n, x.present, +)] },
        Operator("Mean") { n, x, _ in
            let xs = x.present
            let s = try variadic(n, xs, +)
            let k = Float(xs.count)
            return [Elementwise.unary(s) { $0 / k }]
        },
    ]
}
