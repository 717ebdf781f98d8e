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

    /// Loads `path` for running `output` (default: the first graph output).
    ///
    /// Models with several data inputs: `input` names the one that receives the batches (and is masked);
    /// `fixed` gives every other input a tensor (batch axis 1), which is then a constant of the model, folded
    /// like an initializer. One data input: `input` may be omitted.
    public init(path: String, output: String? = nil, input inputName: String? = nil, fixed: [String: Tensor] = [:]) throws {
        let graph = try Graph.load(path)
        self.graph = graph
        self.path = path
        for name in fixed.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw HarsanyiError.invalidArgument("\(path): no graph input named '\(name)' (inputs: \(graph.inputNames))")
        }
        let open = graph.inputs.filter { fixed[$0.name] == nil && $0.name != inputName }
        let chosen: ValueInfo
        if let inputName {
            guard let i = graph.inputs.first(where: { $0.name == inputName }) else {
                throw HarsanyiError.invalidArgument("\(path): no graph input named '\(inputName)' (inputs: \(graph.inputNames))")
            }
            chosen = i
        } else if let only = open.first, open.count == 1 {
            chosen = only
        } else {
            throw HarsanyiError.unsupported(
                "\(path): the model has \(graph.inputs.count) data inputs (\(graph.inputNames)); give every input "
                    + "but the masked one as --input NAME=FILE.npy")
        }
        guard open.allSatisfy({ $0.name == chosen.name }) else {
            let missing = open.filter { $0.name != chosen.name }.map(\.name)
            throw HarsanyiError.invalidArgument("\(path): inputs \(missing.joined(separator: ", ")) have no values (--input NAME=FILE.npy)")
        }
        for (name, t) in fixed {
            let declared = graph.inputs.first { $0.name == name }!.shape
            guard declared.isEmpty || (declared.count == t.rank && zip(declared, t.shape).allSatisfy { $0.0 == nil || $0.0 == $0.1 }) else {
                throw HarsanyiError.invalidArgument("\(path): input '\(name)' has shape \(declared.map { $0.map(String.init) ?? "?" }), got \(t.shape)")
            }
        }
        self.input = chosen
        var g = graph
        for (k, v) in fixed { g.initializers[k] = v }
        let out = output ?? graph.outputs.first?.name ?? ""
        guard graph.outputs.contains(where: { $0.name == out }) || graph.nodes.contains(where: { $0.outputs.contains(out) }) else {
            throw HarsanyiError.invalidArgument("\(path): no tensor named '\(out)' (outputs: \(graph.outputs.map(\.name).joined(separator: ", ")))")
        }
        outputName = out
        let (steps, constants) = try g.pruneAndFold(output: out)
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

    /// Evaluates one node with its reference implementation (for tests and tools that drive a graph themselves).
    public static func evaluatePublic(_ n: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] {
        try Operators.evaluate(n, x, opset: opset)
    }

    static func evaluate(_ n: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] { try Operators.evaluate(n, x, opset: opset) }
}
