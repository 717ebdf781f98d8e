import Foundation
import HarsanyiCore

/// A loaded ONNX model ready to run batches on the CPU path.
///
/// At load: every operator and attribute is checked (unsupported ones are errors naming the node), the graph
/// is pruned to what the requested output needs, and every node whose inputs are all constant (initializers,
/// Constant nodes, and shape arithmetic on them) is evaluated once (constant folding). Shapes follow from the
/// input shape at run time; `outputShape(forInput:)` infers them without data for a given input shape.
public final class ONNXModel: @unchecked Sendable {
    public let graph: Graph
    public let path: String
    /// The graph input that receives the data.
    public let input: ValueInfo
    /// The output computed.
    public let outputName: String
    /// Initializers and constant-folded tensors.
    public private(set) var constants: [String: Tensor]
    /// Nodes that depend on the input, in graph (topological) order: what a backend executes per batch.
    public let steps: [Node]

    public init(path: String, output: String? = nil) throws {
        let graph = try Graph.load(path)
        self.graph = graph
        self.path = path
        guard graph.inputs.count == 1, let input = graph.inputs.first else {
            throw HarsanyiError.unsupported("\(path): models with \(graph.inputs.count) data inputs (exactly one is supported)")
        }
        self.input = input
        let out = output ?? graph.outputs.first?.name ?? ""
        guard graph.outputs.contains(where: { $0.name == out }) || graph.nodes.contains(where: { $0.outputs.contains(out) }) else {
            throw HarsanyiError.invalidArgument("\(path): no tensor named '\(out)' (outputs: \(graph.outputs.map(\.name).joined(separator: ", ")))")
        }
        outputName = out
        let (steps, constants) = try graph.pruneAndFold(output: out)
        for n in steps {
            for name in n.inputs where !name.isEmpty && name != input.name && constants[name] == nil
                && !steps.contains(where: { $0.outputs.contains(name) }) {
                throw HarsanyiError.badFile(path: path, reason: "node \(n.name) reads '\(name)', which nothing produces")
            }
        }
        self.constants = constants
        self.steps = steps
    }

    /// The per-sample input shape (the declared shape without its first, batch, dimension), nil entries symbolic.
    public var sampleShape: [Int?] { Array(input.shape.dropFirst()) }

    /// Checks a batch's shape against the declared input shape.
    public func checkInputShape(_ shape: [Int]) throws {
        let declared = input.shape
        guard declared.isEmpty || declared.count == shape.count,
            zip(declared, shape).allSatisfy({ $0.0 == nil || $0.0 == $0.1 })
        else {
            let want = zip(declared, input.symbols).map { $0.0.map(String.init) ?? $0.1 ?? "?" }
            throw HarsanyiError.invalidArgument("\(path): input '\(input.name)' has shape [\(want.joined(separator: ", "))], got \(shape)")
        }
    }

    /// Runs a batch through the model and returns the output tensor.
    public func run(_ x: Tensor) throws -> Tensor {
        try checkInputShape(x.shape)
        var values = constants
        values[input.name] = x
        for n in steps {
            let ins = try n.inputs.map { name -> Tensor? in
                if name.isEmpty { return nil }
                guard let t = values[name] else { throw HarsanyiError.invalidArgument("node \(n.name): input '\(name)' is missing") }
                return t
            }
            let outs = try Self.evaluate(n, ins, opset: graph.opset)
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
        }
        guard let y = values[outputName] else { throw HarsanyiError.invalidArgument("output '\(outputName)' was not computed") }
        return y
    }

    /// The output shape for a given input shape, found by running one batch item of zeros (cheap, and it checks
    /// every node's shapes before a long masked run starts).
    public func outputShape(forInput shape: [Int]) throws -> [Int] {
        var one = shape
        if !one.isEmpty { one[0] = 1 }
        let y = try run(Tensor(shape: one, floats: [Float](repeating: 0, count: one.reduce(1, *))))
        var out = y.shape
        if !out.isEmpty && !shape.isEmpty { out[0] = shape[0] }
        return out
    }

    // MARK: operators

    /// Evaluates one node on the CPU path (for tests and tools that drive a graph themselves).
    public static func evaluatePublic(_ n: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] { try evaluate(n, x, opset: opset) }

    static func evaluate(_ n: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] {
        func arg(_ i: Int) throws -> Tensor {
            guard i < x.count, let t = x[i] else { throw ONNXError.invalid(n.name, "\(n.op) is missing input \(i)") }
            return t
        }
        func opt(_ i: Int) -> Tensor? { i < x.count ? x[i] : nil }
        switch n.op {
        case "Add": return [try Elementwise.binary(n, arg(0), arg(1), +)]
        case "Sub": return [try Elementwise.binary(n, arg(0), arg(1), -)]
        case "Mul": return [try Elementwise.binary(n, arg(0), arg(1), *)]
        case "Div": return [try Elementwise.binary(n, arg(0), arg(1), /)]
        case "Relu": return [Elementwise.unary(try arg(0)) { Swift.max($0, 0) }]
        case "LeakyRelu":
            let alpha = n.float("alpha", 0.01)
            return [Elementwise.unary(try arg(0)) { $0 >= 0 ? $0 : alpha * $0 }]
        case "Sigmoid": return [Elementwise.unary(try arg(0), Elementwise.sigmoid)]
        case "Tanh": return [Elementwise.unary(try arg(0)) { Foundation.tanh($0) }]
        case "Clip":
            let lo = opset >= 11 ? opt(1)?.asFloats.first ?? -.infinity : n.float("min", -.infinity)
            let hi = opset >= 11 ? opt(2)?.asFloats.first ?? .infinity : n.float("max", .infinity)
            return [Elementwise.unary(try arg(0)) { Swift.min(Swift.max($0, lo), hi) }]
        case "Identity", "Dropout": return [try arg(0)]
        case "Constant":
            if case .tensor(let t)? = n.attributes["value"] { return [t] }
            if case .float(let f)? = n.attributes["value_float"] { return [Tensor(shape: [], floats: [f])] }
            if case .floats(let f)? = n.attributes["value_floats"] { return [Tensor(shape: [f.count], floats: f)] }
            if case .int(let i)? = n.attributes["value_int"] { return [Tensor(shape: [], ints: [Int64(i)])] }
            if case .ints(let i)? = n.attributes["value_ints"] { return [Tensor(shape: [i.count], ints: i.map { Int64($0) })] }
            throw ONNXError.unsupported(n.name, "Constant without a supported value attribute")
        case "Gemm": return [try Linear.gemm(n, arg(0), arg(1), opt(2))]
        case "MatMul": return [try Linear.matmul(n, arg(0), arg(1))]
        case "Conv": return [try Linear.conv(n, arg(0), arg(1), opt(2))]
        case "MaxPool": return [try Pooling.pool(n, arg(0), max: true)]
        case "AveragePool": return [try Pooling.pool(n, arg(0), max: false)]
        case "GlobalAveragePool": return [try Pooling.globalAverage(n, arg(0))]
        case "BatchNormalization": return [try Reduce.batchNorm(n, arg(0), arg(1), arg(2), arg(3), arg(4))]
        case "Softmax": return [try Reduce.softmax(n, arg(0), opset: opset, log: false)]
        case "LogSoftmax": return [try Reduce.softmax(n, arg(0), opset: opset, log: true)]
        case "ReduceMean", "ReduceMax", "ReduceSum":
            let fromInput = n.op == "ReduceSum" ? opset >= 13 : opset >= 18
            return [try Reduce.reduce(n, arg(0), axes: fromInput ? opt(1)?.asInts : n.ints("axes"))]
        case "Flatten": return [try ShapeOps.flatten(n, arg(0))]
        case "Reshape": return [try ShapeOps.reshape(n, arg(0), arg(1).asInts)]
        case "Transpose": return [try ShapeOps.transpose(n, arg(0))]
        case "Squeeze": return [try ShapeOps.squeeze(n, arg(0), opset >= 13 ? opt(1)?.asInts : n.ints("axes"))]
        case "Unsqueeze":
            guard let axes = opset >= 13 ? opt(1)?.asInts : n.ints("axes") else { throw ONNXError.invalid(n.name, "Unsqueeze needs axes") }
            return [try ShapeOps.unsqueeze(n, arg(0), axes)]
        case "Concat": return [try ShapeOps.concat(n, x.compactMap { $0 })]
        case "Shape": return [ShapeOps.shape(n, try arg(0))]
        case "Gather": return [try ShapeOps.gather(n, arg(0), arg(1))]
        case "Cast": return [try ShapeOps.cast(n, arg(0))]
        default: throw ONNXError.unsupported(n.name, "operator \(n.op)")
        }
    }
}
