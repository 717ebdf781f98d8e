import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

/// Device kernels of the activations and elementwise math beyond the original four (Kernels/nn_activation.cl).
extension Planner {
    /// Unary operators of `nn_activation.cl`'s `activation` kernel: operator name to op code (the kernel's table).
    static let activationCodes: [String: UInt32] = [
        "Exp": 0, "Log": 1, "Sqrt": 2, "Reciprocal": 3, "Abs": 4, "Neg": 5, "Erf": 6, "Gelu": 7, "HardSigmoid": 9,
        "HardSwish": 10, "Softplus": 11, "Mish": 12, "Elu": 13, "Floor": 14, "Ceil": 15, "Sin": 16, "Cos": 17,
        "Softsign": 18, "Sign": 19, "Selu": 20, "Not": 21,
    ]
    /// Binary operators of nn_elementwise.cl's `binary` kernel (numpy broadcasting): name to op code.
    static let binaryCodes: [String: UInt32] = [
        "Add": 0, "Sub": 1, "Mul": 2, "Div": 3, "Pow": 4, "Min": 5, "Max": 6, "PRelu": 7, "Equal": 8, "Less": 9,
        "Greater": 10, "LessOrEqual": 11, "GreaterOrEqual": 12, "And": 13, "Or": 14, "Xor": 15,
    ]

    static var activationOps: [String: DeviceKernel] {
        var t: [String: DeviceKernel] = [:]
        for name in activationCodes.keys { t[name] = { try $0.activation($1, $2) } }
        for name in binaryCodes.keys where binaryCodes[name]! >= 4 { t[name] = { try $0.binaryExtra($1, $2) } }
        t["Where"] = { try $0.select($1, $2) }
        return t
    }

    /// y = f(x) with the node's attributes as the kernel's two parameters (alpha, beta or gamma).
    func activation(_ n: Node, _ out: String) throws {
        guard let code = Self.activationCodes[n.op] else { throw unsupported(n, "\(n.op) on the device") }
        var op = code
        if n.op == "Gelu", n.string("approximate") == "tanh" { op = 8 }
        let x = try device(n, 0)
        let (a, b): (Float, Float)
        switch n.op {
        case "HardSigmoid": (a, b) = (n.float("alpha", 0.2), n.float("beta", 0.5))
        case "Elu": (a, b) = (n.float("alpha", 1), 0)
        case "Selu": (a, b) = (n.float("alpha", 1.67326319217681884765625), n.float("gamma", 1.05070102214813232421875))
        default: (a, b) = (0, 0)
        }
        let y = try allocate(out, x.shape)
        launch(
            "nn_activation", "activation", global: y.count,
            [arg(x), arg(y), .arg(.uint(op)), .arg(.real(Double(a))), .arg(.real(Double(b)))])
    }

    /// Pow, Min and Max of two operands, PRelu, comparisons and logic (0/1 floats): `binary`'s broadcasting.
    /// Variadic Min/Max with three or more operands run on the host; with one, they are the identity.
    func binaryExtra(_ n: Node, _ out: String) throws {
        let present = n.inputs.filter { !$0.isEmpty }
        if present.count == 2 { return try binary(n, out) }
        guard present.count == 1, ["Min", "Max"].contains(n.op) else { return try hostStep(n) }
        let x = try device(n, 0)
        alias(out, x, x.shape)
    }

    /// Where(condition, X, Y) on device data: three-way broadcasting.
    func select(_ n: Node, _ out: String) throws {
        let c = try device(n, 0)
        let a = try device(n, 1)
        let b = try device(n, 2)
        guard let ab = ShapeRules.broadcastShape(a.shape, b.shape), let shape = ShapeRules.broadcastShape(c.shape, ab)
        else {
            throw invalid(n, "Where cannot broadcast \(c.shape), \(a.shape), \(b.shape)")
        }
        try checkIndexable(n, [c, a, b])
        let (dims, st) = ShapeRules.mergeAxes(
            shape, [c, a, b].map { ShapeRules.broadcastStrides($0.shape, to: shape) })
        guard dims.count <= Self.maxRank else {
            throw unsupported(n, "Where on rank \(shape.count) (at most \(Self.maxRank))")
        }
        let p = [dims.count] + Self.padded(dims, 1) + Self.padded(st[0]) + Self.padded(st[1]) + Self.padded(st[2])
        let y = try allocate(out, shape)
        launch(
            "nn_activation", "where_select", global: y.count,
            [arg(c), arg(a), arg(b), arg(y), .arg(.buffer(try ints(p)))])
    }
}

/// A device implementation of one operator: plans the launches of a node whose first output is the String.
typealias DeviceKernel = (Planner, Node, String) throws -> Void
