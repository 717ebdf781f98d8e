import HarsanyiCore

/// One ONNX operator as this package knows it: the versions implemented, the attribute checks made at load time,
/// and the reference implementation (the interpreter) that every executor can fall back on.
///
/// The table `Operators.table` is the one place that says which operators exist. Each `Ops+*.swift` file
/// contributes the operators of one family (`static let operators: [Operator]`); the compiled CPU program
/// (`CPUProgram`) and the OpenCL planner register faster implementations beside these, keyed by the same name,
/// and run a node through `reference` when they have none. Adding an operator therefore touches one file per
/// implementation: its family file here, and optionally a compiled kernel and a device kernel.
public struct Operator: Sendable {
    /// The reference implementation: the node, its inputs in order (nil = an absent optional input), the
    /// model's opset. Returns one tensor per output.
    public typealias Reference = @Sendable (_ node: Node, _ inputs: Inputs, _ opset: Int) throws -> [Tensor]
    /// A load-time check of the node's attributes (unsupported values are errors naming the node).
    public typealias Check = @Sendable (_ node: Node, _ opset: Int) throws -> Void

    public let name: String
    /// The lowest opset of the default domain whose version of this operator is implemented (7 for all of
    /// 7...21). Opsets below it are load-time errors naming the node.
    public let since: Int
    public let check: Check
    public let reference: Reference
    /// For pointwise float operators (y_i = f(x_i)): the scalar function for a node, which the compiled CPU
    /// program runs as a loop over its arena (no copies). nil for every other operator.
    public let pointwise: (@Sendable (Node) -> @Sendable (Float) -> Float)?

    public init(
        _ name: String, since: Int = 7, check: @escaping Check = { _, _ in },
        pointwise: (@Sendable (Node) -> @Sendable (Float) -> Float)? = nil, _ reference: @escaping Reference
    ) {
        self.name = name
        self.since = since
        self.check = check
        self.pointwise = pointwise
        self.reference = reference
    }

    /// An elementwise unary float operator (ints are converted to float).
    static func unary(_ name: String, since: Int = 7, _ f: @escaping @Sendable (Node) -> @Sendable (Float) -> Float)
        -> Operator
    {
        Operator(name, since: since, pointwise: f) { n, x, _ in
            let g = f(n)
            return [Elementwise.unary(try x[0], g)]
        }
    }
}

/// A node's inputs for a reference implementation: required ones throw a clear error when absent.
public struct Inputs: Sendable {
    public let node: Node
    public let values: [Tensor?]
    public init(_ node: Node, _ values: [Tensor?]) {
        self.node = node
        self.values = values
    }
    /// Required input i.
    public subscript(_ i: Int) -> Tensor {
        get throws {
            guard i < values.count, let t = values[i] else {
                throw ONNXError.invalid(node.name, "\(node.op) is missing input \(i)")
            }
            return t
        }
    }
    /// Optional input i (nil when absent).
    public func optional(_ i: Int) -> Tensor? { i < values.count ? values[i] : nil }
    /// The present inputs (variadic operators).
    public var present: [Tensor] { values.compactMap { $0 } }
    public var count: Int { values.count }
}

/// The operator table.
public enum Operators {
    /// Opsets of the default domain that models may declare.
    public static let opsets = 7...21

    /// Every operator, by name.
    public static let table: [String: Operator] = {
        var t: [String: Operator] = [:]
        let families: [[Operator]] = [
            Elementwise.operators, MathOps.operators, LogicOps.operators, Linear.operators, Pooling.operators,
            Reduce.operators, Normalization.operators, ShapeOps.operators, SliceOps.operators, PadOps.operators,
            ResizeOps.operators, EinsumOps.operators, IndexOps.operators,
        ]
        for op in families.joined() {
            precondition(t[op.name] == nil, "operator \(op.name) registered twice")
            t[op.name] = op
        }
        return t
    }()

    /// The names of every operator (sorted), for messages and tools.
    public static var names: [String] { table.keys.sorted() }

    /// Checks at load time that `node` can run: operator known, its version implemented, attributes supported.
    public static func check(_ node: Node, opset: Int) throws {
        guard let op = table[node.op] else {
            throw ONNXError.unsupported(node.name, "operator \(node.op) is not supported")
        }
        guard opset >= op.since else {
            throw ONNXError.unsupported(
                node.name, "\(node.op) before opset \(op.since) (the model declares opset \(opset))")
        }
        try op.check(node, opset)
    }

    /// Runs the reference implementation of `node` on `inputs`.
    public static func evaluate(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        guard let op = table[node.op] else { throw ONNXError.unsupported(node.name, "operator \(node.op)") }
        return try op.reference(node, Inputs(node, inputs), opset)
    }
}
