import Foundation
import HarsanyiCore
import ONNXProto
import SwiftProtobuf

/// An attribute value of a node.
public enum Attribute: Sendable, Equatable {
    case int(Int), float(Float), string(String), ints([Int]), floats([Float]), tensor(Tensor)
}

/// One node of the graph: an operator, its input and output tensor names (empty name = absent optional input).
public struct Node: Sendable {
    public var name: String
    public var op: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public func int(_ key: String, _ fallback: Int) -> Int { if case .int(let v)? = attributes[key] { return v }; return fallback }
    public func float(_ key: String, _ fallback: Float) -> Float {
        if case .float(let v)? = attributes[key] { return v }
        if case .int(let v)? = attributes[key] { return Float(v) }
        return fallback
    }
    public func ints(_ key: String) -> [Int]? { if case .ints(let v)? = attributes[key] { return v }; return nil }
    public func string(_ key: String) -> String? { if case .string(let v)? = attributes[key] { return v }; return nil }
    /// An optional input's name, nil when absent.
    public func input(_ i: Int) -> String? { i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil }
}

/// A declared graph input or output: name and shape (nil entries are symbolic dimensions such as the batch).
public struct ValueInfo: Sendable {
    public var name: String
    public var shape: [Int?]
    public var symbols: [String?]
}

/// An ONNX model as a graph we can plan and run.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var opset: Int
    public var producer: String

    /// The data inputs' names, comma-separated (for messages).
    public var inputNames: String { inputs.map(\.name).joined(separator: ", ") }

    /// The operators this package implements (the operator table, `Operators.swift`).
    public static var supportedOps: Set<String> { Set(Operators.table.keys) }
    /// Opsets of the default domain a model may declare.
    public static let opsets = Operators.opsets

    /// Loads and checks a model: every operator supported, opset in 11...21, initializers decodable.
    public static func load(_ path: String) throws -> Graph {
        let bytes = try FileIO.read(path)
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw HarsanyiError.badFile(path: path, reason: "not a valid ONNX model (protobuf decoding failed: truncated or not ONNX)")
        }
        return try Graph(model, path: path)
    }

    init(_ model: Onnx_ModelProto, path: String) throws {
        guard model.hasGraph, !model.graph.node.isEmpty || !model.graph.output.isEmpty else {
            throw HarsanyiError.badFile(path: path, reason: "the ONNX model has no graph")
        }
        let main = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        opset = Int(main?.version ?? 0)
        guard Self.opsets.contains(opset) else {
            throw HarsanyiError.unsupported("\(path): opset \(opset) of the default domain; supported: \(Self.opsets.lowerBound)–\(Self.opsets.upperBound)")
        }
        producer = model.producerName
        let g = model.graph
        var inits: [String: Tensor] = [:]
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        for t in g.initializer { inits[t.name] = try Self.tensor(t, folder: folder, context: "initializer \(t.name)") }
        initializers = inits
        var nodes: [Node] = []
        for (i, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "#\(i) (\(n.opType))" : n.name
            guard n.domain.isEmpty || n.domain == "ai.onnx" else {
                throw HarsanyiError.unsupported("\(path): node \(name) uses operator domain '\(n.domain)'")
            }
            guard Operators.table[n.opType] != nil else {
                throw HarsanyiError.unsupported("\(path): node \(name): operator \(n.opType) is not supported")
            }
            var attrs: [String: Attribute] = [:]
            for a in n.attribute { attrs[a.name] = try Self.attribute(a, node: name, folder: folder) }
            nodes.append(Node(name: name, op: n.opType, inputs: n.input, outputs: n.output, attributes: attrs))
        }
        self.nodes = nodes
        // Every tensor has one producer (ONNX graphs are in SSA form): executors size and place tensors by name, so
        // a second producer would give a tensor two shapes.
        var producer: [String: String] = [:]
        for v in g.input { producer[v.name] = "a graph input" }
        for t in g.initializer { producer[t.name] = "an initializer" }
        for n in nodes {
            for o in n.outputs where !o.isEmpty {
                if let p = producer[o] {
                    throw HarsanyiError.badFile(path: path, reason: "node \(n.name): output '\(o)' is also \(p == "a graph input" || p == "an initializer" ? p : "an output of \(p)")")
                }
                producer[o] = "node \(n.name)"
            }
        }
        func info(_ v: Onnx_ValueInfoProto) -> ValueInfo {
            let dims = v.type.tensorType.shape.dim
            return ValueInfo(
                name: v.name,
                shape: dims.map { if case .dimValue(let d)? = $0.value { return Int(d) } else { return nil } },
                symbols: dims.map { if case .dimParam(let s)? = $0.value { return s } else { return nil } })
        }
        inputs = g.input.filter { inits[$0.name] == nil }.map(info)
        outputs = g.output.map(info)
        try checkAttributes()
    }

    /// The nodes `output` needs (walking back from it), split into those that depend on a graph input (returned
    /// in order, to run per batch) and those whose inputs are all constant, evaluated here once (constant
    /// folding: Constant nodes and shape arithmetic on initializers), returned with the initializers.
    public func pruneAndFold(output: String) throws -> (steps: [Node], constants: [String: Tensor]) {
        var needed: Set<String> = [output]
        var keep = [Bool](repeating: false, count: nodes.count)
        for (i, n) in nodes.enumerated().reversed() where n.outputs.contains(where: needed.contains) {
            keep[i] = true
            for name in n.inputs where !name.isEmpty { needed.insert(name) }
        }
        var constants = initializers
        var steps: [Node] = []
        for (i, n) in nodes.enumerated() where keep[i] {
            if n.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }) {
                let outs = try ONNXModel.evaluatePublic(n, n.inputs.map { $0.isEmpty ? nil : constants[$0] }, opset: opset)
                for (name, t) in zip(n.outputs, outs) where !name.isEmpty { constants[name] = t }
            } else {
                steps.append(n)
            }
        }
        return (steps, constants)
    }

    /// Operators, their versions and attributes we do not implement are errors at load time, naming the node.
    private func checkAttributes() throws {
        for n in nodes { try Operators.check(n, opset: opset) }
    }

    static func attribute(_ a: Onnx_AttributeProto, node: String, folder: String? = nil) throws -> Attribute {
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(a.f)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats)
        case .tensor: return .tensor(try tensor(a.t, folder: folder, context: "node \(node) attribute \(a.name)"))
        default:
            // Older exporters leave `type` unset: infer it from the populated field.
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            if a.hasT { return .tensor(try tensor(a.t, folder: folder, context: "node \(node) attribute \(a.name)")) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasF { return .float(a.f) }
            if a.hasI { return .int(Int(a.i)) }
            throw ONNXError.unsupported(node, "attribute \(a.name) of type \(a.type)")
        }
    }

    /// Decodes a TensorProto (see `TensorDecoding`); `folder` holds the model's external data files.
    static func tensor(_ t: Onnx_TensorProto, folder: String? = nil, context: String) throws -> Tensor {
        try TensorDecoding.decode(t, folder: folder, context: context)
    }
}
