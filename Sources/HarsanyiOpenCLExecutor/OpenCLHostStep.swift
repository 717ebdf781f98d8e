import COpenCL
import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

/// Nodes without a device kernel: the operator's reference implementation on the host, inside a device plan.
///
/// At plan time the node runs once on zero-valued inputs of the planned shapes, which fixes its output shapes
/// (integer outputs computed from device data are stored as floats, exact below 2^24, as the CPU path does).
/// At run time the step reads its device inputs back (the queue is drained first), evaluates the node, and
/// writes each output read later into a pooled device buffer. Cost per run: the node's host time plus one read
/// and one write of its inputs and outputs over the bus: fine for a rare operator, slow for a hot one, which is
/// why `harsanyi forward --explain` lists every host step.
extension Planner {
    func hostStep(_ n: Node) throws {
        struct Source {
            let device: DVal?
            let host: Tensor?
        }
        var sources: [Source?] = []
        for name in n.inputs {
            guard !name.isEmpty else {
                sources.append(nil)
                continue
            }
            guard let v = values[name] else { throw invalid(n, "input '\(name)' is missing") }
            switch v {
            case .host(let t): sources.append(Source(device: nil, host: t))
            case .device(let d): sources.append(Source(device: d, host: nil))
            }
        }
        let zeros: [Tensor?] = sources.map { s in
            guard let s else { return nil }
            if let t = s.host { return t }
            return Tensor(shape: s.device!.shape, floats: [Float](repeating: 0, count: s.device!.count))
        }
        let opset = model.opset
        let probe = try ONNXModel.evaluatePublic(n, zeros, opset: opset)
        var targets: [(index: Int, value: DVal)] = []
        for (k, name) in n.outputs.enumerated() where !name.isEmpty && k < probe.count {
            guard lastUse[name] != nil || name == model.outputName || name == outputRoot else { continue }
            // Integer results of device data are stored as floats (exact below 2^24): device values are float.
            targets.append((k, try allocate(name, probe[k].shape)))
        }
        let backend = self.backend
        let inputs = sources
        let outs = targets
        hostNodes.append("\(n.name) (\(n.op))")
        launches.append(
            Launch(node: n.name, file: "", kernel: "host \(n.op)", global: 0, local: nil, args: []) { slots in
                func buffer(_ d: DVal) throws -> OpenCLBuffer {
                    switch d.storage {
                    case .fixed(let b): return b
                    case .slot(let i):
                        guard let b = slots[i] else {
                            throw HarsanyiError.invalidArgument("plan slot \(i) has no buffer")
                        }
                        return b
                    }
                }
                let ins: [Tensor?] = try inputs.map { s in
                    guard let s else { return nil }
                    if let t = s.host { return t }
                    let d = s.device!
                    return Tensor(shape: d.shape, floats: try backend.readFloats(buffer(d), count: d.count))
                }
                let results = try ONNXModel.evaluatePublic(n, ins, opset: opset)
                for (k, d) in outs {
                    guard k < results.count, results[k].shape == d.shape else {
                        throw HarsanyiError.invalidArgument(
                            "node \(n.name): output \(k) differs from the planned \(d.shape)")
                    }
                    try backend.writeFloats(results[k].asFloats, to: buffer(d))
                }
            })
    }
}

extension OpenCLBackend {
    /// The first `count` floats of a buffer (pooled buffers may be larger than the value they hold).
    func readFloats(_ b: OpenCLBuffer, count: Int) throws -> [Float] {
        guard count <= b.count else {
            throw HarsanyiError.invalidArgument("reading \(count) values of a buffer of \(b.count)")
        }
        var out = [Float](repeating: 0, count: count)
        try locked {
            try out.withUnsafeMutableBytes {
                try check(
                    clEnqueueReadBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil),
                    "clEnqueueReadBuffer")
            }
        }
        return out
    }

    /// Writes floats into the start of a buffer.
    func writeFloats(_ values: [Float], to b: OpenCLBuffer) throws {
        guard values.count <= b.count else {
            throw HarsanyiError.invalidArgument("writing \(values.count) values into \(b.count)")
        }
        guard !values.isEmpty else { return }
        try locked {
            try values.withUnsafeBytes {
                try check(
                    clEnqueueWriteBuffer(queue, b.mem, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil),
                    "clEnqueueWriteBuffer")
            }
        }
    }
}
