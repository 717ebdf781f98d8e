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

    /// The operators this package implements (on the CPU path; see `Operators.swift`).
    public static let supportedOps: Set<String> = [
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
        "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Constant", "Clip", "Conv",
        "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Concat", "ReduceMean", "ReduceMax", "ReduceSum",
        "Shape", "Gather", "Cast",
    ]
    public static let opsets = 11...21

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
        for t in g.initializer { inits[t.name] = try Self.tensor(t, context: "initializer \(t.name)") }
        initializers = inits
        var nodes: [Node] = []
        for (i, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "#\(i) (\(n.opType))" : n.name
            guard n.domain.isEmpty || n.domain == "ai.onnx" else {
                throw HarsanyiError.unsupported("\(path): node \(name) uses operator domain '\(n.domain)'")
            }
            guard Self.supportedOps.contains(n.opType) else {
                throw HarsanyiError.unsupported("\(path): node \(name): operator \(n.opType) is not supported")
            }
            var attrs: [String: Attribute] = [:]
            for a in n.attribute { attrs[a.name] = try Self.attribute(a, node: name) }
            nodes.append(Node(name: name, op: n.opType, inputs: n.input, outputs: n.output, attributes: attrs))
        }
        self.nodes = nodes
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

    /// Attributes we do not implement are errors at load time, naming the node.
    private func checkAttributes() throws {
        for n in nodes {
            switch n.op {
            case "Conv", "MaxPool", "AveragePool":
                if let pad = n.string("auto_pad"), !["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(pad) {
                    throw ONNXError.unsupported(n.name, "auto_pad \(pad)")
                }
                if n.op == "MaxPool", n.int("storage_order", 0) != 0 { throw ONNXError.unsupported(n.name, "MaxPool storage_order 1") }
                if n.op == "MaxPool", n.outputs.count > 1, !n.outputs[1].isEmpty { throw ONNXError.unsupported(n.name, "MaxPool Indices output") }
            case "BatchNormalization":
                if n.int("training_mode", 0) != 0 { throw ONNXError.unsupported(n.name, "BatchNormalization in training mode") }
            case "Reshape":
                if n.int("allowzero", 0) != 0 { throw ONNXError.unsupported(n.name, "Reshape allowzero=1") }
            default: break
            }
        }
    }

    static func attribute(_ a: Onnx_AttributeProto, node: String) throws -> Attribute {
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(a.f)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats)
        case .tensor: return .tensor(try tensor(a.t, context: "node \(node) attribute \(a.name)"))
        default:
            // Older exporters leave `type` unset: infer it from the populated field.
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            if a.hasT { return .tensor(try tensor(a.t, context: "node \(node) attribute \(a.name)")) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasF { return .float(a.f) }
            if a.hasI { return .int(Int(a.i)) }
            throw ONNXError.unsupported(node, "attribute \(a.name) of type \(a.type)")
        }
    }

    /// Decodes a TensorProto (raw_data, little-endian, or the typed fields).
    static func tensor(_ t: Onnx_TensorProto, context: String) throws -> Tensor {
        let shape = t.dims.map { Int($0) }
        // Dims are checked before anything is sized by them: none negative, the product without overflow (the
        // data must then hold exactly that many values, which bounds it by the file size).
        var count = 1
        for d in shape {
            let (m, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw HarsanyiError.invalidArgument("\(context): bad tensor shape \(shape)") }
            count = m
        }
        guard t.dataLocation != .external else { throw HarsanyiError.unsupported("\(context): external tensor data") }
        func raw<T>(_: T.Type) throws -> [T] {
            guard t.rawData.count % MemoryLayout<T>.size == 0, t.rawData.count / MemoryLayout<T>.size == count else {
                throw HarsanyiError.invalidArgument("\(context): raw_data has \(t.rawData.count) bytes for shape \(shape)")
            }
            return t.rawData.withUnsafeBytes { b in (0..<count).map { b.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        let out: Tensor
        switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
        case .float?: out = Tensor(shape: shape, floats: t.rawData.isEmpty ? t.floatData : try raw(Float.self))
        case .double?: out = Tensor(shape: shape, floats: (t.rawData.isEmpty ? t.doubleData : try raw(Double.self)).map { Float($0) })
        case .int64?: out = Tensor(shape: shape, ints: t.rawData.isEmpty ? t.int64Data : try raw(Int64.self))
        case .int32?: out = Tensor(shape: shape, ints: (t.rawData.isEmpty ? t.int32Data.map { Int32($0) } : try raw(Int32.self)).map { Int64($0) })
        default: throw HarsanyiError.unsupported("\(context): tensor data type \(t.dataType) (float, double, int64 and int32 are supported)")
        }
        guard (out.dtype == .float32 ? out.floats.count : out.ints.count) == count else {
            throw HarsanyiError.invalidArgument("\(context): \(out.dtype == .float32 ? out.floats.count : out.ints.count) values for shape \(shape)")
        }
        return out
    }
}
