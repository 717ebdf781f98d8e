import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL
import HarsanyiOpenCLExecutor

/// `harsanyi forward`: plain batched inference on the path `extract` would use, to check that a model imports and
/// computes what its framework computes.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plain batched inference of an ONNX model on the CPU path or on OpenCL (to check a model's import).",
        discussion: """
            The CPU path runs the compiled executor (the interpreter for multi-input models); OpenCL runs the device \
            plan, with operators that have no device kernel as host steps. --explain prints, per node, what ran it.
            """)

    @Option(help: "ONNX model.")
    var model: String
    @Option(
        help: """
            Input batch .npy (first axis = samples). A model with several inputs: NAME=FILE.npy once per input \
            (integer arrays for token ids and masks).
            """)
    var input: [String]
    @Option(help: "Output .npy (written atomically).")
    var out: String
    @Option(help: "Name of the tensor to output (default: the graph's first output).")
    var outputName: String?
    @Flag(help: "Print, per node, which implementation runs it (stderr).")
    var explain = false
    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            let graph = try Graph.load(model)
            let feeds = try Self.feeds(input, graph: graph)
            // The backend's line (which path, or why it fell back) is printed after a successful run, so that bad
            // input gives exactly one line.
            let (choice, address) = try Backends.resolve(choice: options.backend, device: options.device)
            let selection = try Backends.select(choice, device: address, requirement: nil)
            let backend = selection.backend
            let y: Tensor
            if let cl = backend as? OpenCLBackend {
                let m = try OpenCLModel(graph: graph, output: outputName, backend: cl)
                y = try m.run(feeds)
                if explain { Self.explain(device: try m.explain(feeds)) }
                Console.note("forward on OpenCL \(cl.device.address)")
            } else {
                y = try Self.cpu(model: model, graph: graph, feeds: feeds, output: outputName, explain: explain)
            }
            guard y.asFloats.allSatisfy(\.isFinite) else {
                throw HarsanyiError.invalidArgument("the model's output has NaN or infinite values; nothing written")
            }
            if selection.fellBack { Console.note(selection.reason) }
            try NPY.write(NPYArray(y.asFloats, shape: y.shape), to: out)
            print("\(outputName ?? graph.outputs.first?.name ?? "output"): shape \(y.shape) -> \(out)")
        }
    }

    /// The feeds: FILE.npy for a one-input model, NAME=FILE.npy per input otherwise. Float inputs must be finite.
    static func feeds(_ specs: [String], graph: Graph) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for spec in specs {
            var name: String
            var file: String
            if let eq = spec.firstIndex(of: "="), graph.inputs.contains(where: { $0.name == String(spec[..<eq]) }) {
                (name, file) = (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
            } else {
                guard specs.count == 1, let only = graph.inputs.first, graph.inputs.count == 1 else {
                    throw HarsanyiError.invalidArgument(
                        "--input \(spec): the model has inputs \(graph.inputNames); give each as --input NAME=FILE.npy")
                }
                (name, file) = (only.name, spec)
            }
            guard out[name] == nil else { throw HarsanyiError.invalidArgument("--input \(name) given twice") }
            let t = Tensor(npy: try NPY.read(file))
            if t.dtype == .float32, !t.floats.allSatisfy(\.isFinite) {
                throw HarsanyiError.badFile(path: file, reason: "input has NaN or infinite values")
            }
            out[name] = t
        }
        let missing = graph.inputs.map(\.name).filter { out[$0] == nil }
        guard missing.isEmpty else {
            throw HarsanyiError.invalidArgument("no --input for \(missing.joined(separator: ", "))")
        }
        return out
    }

    /// The CPU path: the compiled executor on the batch (one float input), else the interpreter.
    static func cpu(model path: String, graph: Graph, feeds: [String: Tensor], output: String?, explain: Bool) throws
        -> Tensor
    {
        let floatInputs = graph.inputs.filter { feeds[$0.name]?.dtype == .float32 }
        guard graph.inputs.count == 1, let only = floatInputs.first, let x = feeds[only.name], x.rank >= 1,
            x.shape[0] >= 1
        else {
            let main = floatInputs.first?.name ?? graph.inputs[0].name
            let m = try ONNXModel(path: path, output: output, input: main, fixed: feeds.filter { $0.key != main })
            if explain { Console.note("explain: every node runs in the interpreter (a model with several inputs)") }
            return try m.run(feeds[main]!)
        }
        let m = try ONNXModel(path: path, output: output)
        try m.checkInputShape(x.shape)
        let size = x.count / x.shape[0]
        let first = Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(x.floats[0..<size]))
        let runner = CPUSuffixRunner(try SuffixPlan(model: m, start: m.input.name, sample: first), compiled: true)
        let y = try runner.run(x)
        if explain {
            let interpreted = runner.status
            for n in m.steps {
                let how = interpreted.contains("\(n.name) (\(n.op))") ? "interpreter" : "compiled kernel"
                Console.note("explain: \(n.name) (\(n.op)): \(how)")
            }
            Console.note(
                "explain: CPU path, \(runner.status); \(graph.nodes.count - m.steps.count) nodes folded as constants")
        }
        return y
    }

    static func explain(device: [(node: String, op: String, how: String)]) {
        for e in device { Console.note("explain: \(e.node) (\(e.op)): \(e.how)") }
        let host = device.filter { $0.how.hasPrefix("host") }.count
        Console.note("explain: OpenCL, \(device.count) nodes planned, \(host) host steps")
    }
}
