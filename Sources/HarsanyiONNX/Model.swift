import Foundation
import HarsanyiCore

/// A loaded ONNX model ready to run batches on the CPU path.
///
/// At load: every operator and attribute is checked (unsupported ones are errors naming the node), the graph
/// is pruned to what the requested output needs, and every node whose inputs are all constant (initializers,
/// Constant nodes, and shape arithmetic on them) is evaluated once (constant folding). Shapes follow from the
/// input shape at run time; `outputShape(forInput:)` infers them without data for a given input shape.
/// Which part of a sequence output [B, L, C] is the model's output.
public enum OutputPosition: Sendable, Equatable {
    /// The output as the graph gives it.
    case whole
    /// The row at one position (negative: from the end).
    case index(Int)
    /// The last row when the declared output has rank 3 (a causal LM's next-token logits), else the whole output.
    case lastOfSequence
}

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
    /// The position of a sequence output [B, L, C] whose row is the output (nil: the whole output).
    public let position: Int?
    /// Sizes of the symbolic axes fixed by the held inputs (axis name → the input that fixed it, its size).
    let symbolSizes: [String: (input: String, size: Int)]

    /// Loads `path` for running `output` (default: the first graph output).
    ///
    /// Models with several data inputs: `input` names the one that receives the batches (and is masked);
    /// `fixed` gives every other input a tensor (batch axis 1), which is then a constant of the model, folded
    /// like an initializer. One data input: `input` may be omitted.
    ///
    /// `position`: for a sequence output [B, L, C] (a causal LM's logits), the model's output becomes the row at
    /// that position, [B, C] (negative counts from the end: −1 is the next-token prediction of the full input),
    /// by one Gather appended to the graph, so every executor runs it.
    public init(
        path: String, output: String? = nil, input inputName: String? = nil, fixed: [String: Tensor] = [:],
        position: OutputPosition = .whole
    ) throws {
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
                throw HarsanyiError.invalidArgument(
                    "\(path): no graph input named '\(inputName)' (inputs: \(graph.inputNames))")
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
            throw HarsanyiError.invalidArgument(
                "\(path): inputs \(missing.joined(separator: ", ")) have no values (--input NAME=FILE.npy)")
        }
        for (name, t) in fixed {
            let declared = graph.inputs.first { $0.name == name }!.shape
            guard
                declared.isEmpty
                    || (declared.count == t.rank && zip(declared, t.shape).allSatisfy { $0.0 == nil || $0.0 == $0.1 })
            else {
                throw HarsanyiError.invalidArgument(
                    "\(path): input '\(name)' has shape \(declared.map { $0.map(String.init) ?? "?" }), got \(t.shape)")
            }
        }
        self.input = chosen
        // Inputs that share a symbolic axis (e.g. 'sequence') must agree on its size (the batch axis aside).
        var sizes: [String: (input: String, size: Int)] = [:]
        for (name, t) in fixed.sorted(by: { $0.key < $1.key }) {
            let info = graph.inputs.first { $0.name == name }!
            for (axis, symbol) in info.symbols.enumerated().dropFirst() where axis < t.rank {
                guard let symbol else { continue }
                if let seen = sizes[symbol], seen.size != t.shape[axis] {
                    throw HarsanyiError.invalidArgument(
                        "\(path): inputs '\(seen.input)' and '\(name)' disagree on axis '\(symbol)': "
                            + "\(seen.size) vs \(t.shape[axis])")
                }
                sizes[symbol] = (name, t.shape[axis])
            }
        }
        symbolSizes = sizes
        var g = graph
        g.nodes = Self.followBatch(fixed, of: chosen.name, in: &g) + g.nodes
        let out = output ?? graph.outputs.first?.name ?? ""
        guard
            graph.outputs.contains(where: { $0.name == out })
                || graph.nodes.contains(where: { $0.outputs.contains(out) })
        else {
            throw HarsanyiError.invalidArgument(
                "\(path): no tensor named '\(out)' (outputs: \(graph.outputs.map(\.name).joined(separator: ", ")))")
        }
        let declared = graph.outputs.first { $0.name == out }?.shape.count
        let chosenPosition: Int?
        switch position {
        case .whole: chosenPosition = nil
        case .index(let k): chosenPosition = k
        case .lastOfSequence: chosenPosition = declared == 3 ? -1 : nil
        }
        self.position = chosenPosition
        if let position = chosenPosition {
            let index = "harsanyi.position"
            let picked = "harsanyi.position_output"
            g.initializers[index] = Tensor(shape: [], ints: [Int64(position)])
            g.nodes.append(
                Node(
                    name: "harsanyi_select_position", op: "Gather", inputs: [out, index], outputs: [picked],
                    attributes: ["axis": .int(1)]))
            outputName = picked
        } else {
            outputName = out
        }
        let (steps, constants) = try g.pruneAndFold(output: outputName)
        for n in steps {
            for name in n.inputs
            where !name.isEmpty && name != input.name && constants[name] == nil
                && !steps.contains(where: { $0.outputs.contains(name) })
            {
                throw HarsanyiError.badFile(
                    path: path, reason: "node \(n.name) reads '\(name)', which nothing produces")
            }
        }
        self.constants = constants
        self.steps = steps
    }

    /// Held inputs follow the masked input's batch: each becomes F = Expand(F@held, [B, 1, …]) with B the masked
    /// input's first axis, so that a model which indexes a held tensor (an attention mask) by the batch size of
    /// the data path (a causal-mask construction does) sees consistent batches. The held values are initializers;
    /// what depends on them only through these nodes is computed per batch (cheap: masks and ids are [B, L]).
    /// Before opset 8 (no Expand), and for scalars, the held values are plain constants. Returns the new nodes.
    static func followBatch(_ held: [String: Tensor], of input: String, in g: inout Graph) -> [Node] {
        guard !held.isEmpty, g.opset >= 8 else {
            for (k, v) in held { g.initializers[k] = v }
            return []
        }
        let batch = "harsanyi.batch@" + input
        var nodes = batchOf(input, into: batch, constants: &g.initializers)
        for (name, t) in held.sorted(by: { $0.key < $1.key }) {
            guard t.rank > 0 else {
                g.initializers[name] = t
                continue
            }
            g.initializers[name + "@held"] = t
            nodes += expand(name + "@held", rank: t.rank, batch: batch, into: name, constants: &g.initializers)
        }
        return nodes
    }

    /// Nodes writing `[B]`, the first axis of `tensor`, into `output` (Shape, then Gather of index 0).
    static func batchOf(_ tensor: String, into output: String, constants: inout [String: Tensor]) -> [Node] {
        constants["harsanyi.index0"] = Tensor(shape: [1], ints: [0])
        return [
            Node(name: output + "/shape", op: "Shape", inputs: [tensor], outputs: [output + "/shape"], attributes: [:]),
            Node(
                name: output + "/gather", op: "Gather", inputs: [output + "/shape", "harsanyi.index0"],
                outputs: [output], attributes: ["axis": .int(0)]),
        ]
    }

    /// Nodes writing Expand(`source`, [B, 1, …, 1]) into `output`, B read from `batch` ([1] int64).
    static func expand(
        _ source: String, rank: Int, batch: String, into output: String, constants: inout [String: Tensor]
    ) -> [Node] {
        constants[source + "@ones"] = Tensor(shape: [rank - 1], ints: [Int64](repeating: 1, count: rank - 1))
        return [
            Node(
                name: output + "/target", op: "Concat", inputs: [batch, source + "@ones"],
                outputs: [output + "/target"], attributes: ["axis": .int(0)]),
            Node(
                name: output + "/expand", op: "Expand", inputs: [source, output + "/target"], outputs: [output],
                attributes: [:]),
        ]
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
            throw HarsanyiError.invalidArgument(
                "\(path): input '\(input.name)' has shape [\(want.joined(separator: ", "))], got \(shape)")
        }
        for (axis, symbol) in input.symbols.enumerated().dropFirst() where axis < shape.count {
            if let symbol, let seen = symbolSizes[symbol], seen.size != shape[axis] {
                throw HarsanyiError.invalidArgument(
                    "\(path): inputs '\(input.name)' and '\(seen.input)' disagree on axis '\(symbol)': "
                        + "\(shape[axis]) vs \(seen.size)")
            }
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
                guard let t = values[name] else {
                    throw HarsanyiError.invalidArgument("node \(n.name): input '\(name)' is missing")
                }
                return t
            }
            let outs = try Self.evaluate(n, ins, opset: graph.opset)
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty { values[name] = t }
        }
        guard let y = values[outputName] else {
            throw HarsanyiError.invalidArgument("output '\(outputName)' was not computed")
        }
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

    static func evaluate(_ n: Node, _ x: [Tensor?], opset: Int) throws -> [Tensor] {
        try Operators.evaluate(n, x, opset: opset)
    }
}
