import Foundation

/// MaxPool, AveragePool (1-D and 2-D) and GlobalAveragePool.
enum Pooling {
    static func pool(_ node: Node, _ x: Tensor, max isMax: Bool) throws -> Tensor {
        let spatial = x.rank - 2
        guard spatial == 1 || spatial == 2 else { throw ONNXError.unsupported(node.name, "\(node.op) on input \(x.shape) (1-D and 2-D supported)") }
        guard let k = node.ints("kernel_shape") else { throw ONNXError.invalid(node.name, "\(node.op) needs kernel_shape") }
        let ceil = node.int("ceil_mode", 0) != 0, includePad = node.int("count_include_pad", 0) != 0
        let nc = x.shape[0] * x.shape[1]
        let g = try WindowGeometry(node, input: x.shape, kernel: k, ceil: ceil)
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL, pHe, pWe) = (g.outH, g.outW, g.padTop, g.padLeft, g.padBottom, g.padRight)
        // Per output row and column: the input rows/columns the window reads, and how many window cells fall in
        // the input or, for count_include_pad, in the explicitly padded extent (not the cells ceil_mode adds).
        func taps(_ outs: Int, _ stride: Int, _ pad: Int, _ k: Int, _ dil: Int, _ input: Int, _ padEnd: Int) -> (idx: [[Int]], padded: [Int]) {
            var idx: [[Int]] = [], padded: [Int] = []
            for o in 0..<outs {
                var list: [Int] = []
                var count = 0
                for t in 0..<k {
                    let i = o * stride - pad + t * dil
                    if i >= 0 && i < input { list.append(i) }
                    if i >= -pad && i < input + padEnd { count += 1 }
                }
                idx.append(list)
                padded.append(count)
            }
            return (idx, padded)
        }
        let rowsTaps = taps(outH, sH, padT, kH, dH, inH, spatial == 2 ? pHe : 0)
        let colsTaps = taps(outW, sW, padL, kW, dW, inW, pWe)
        let xf = x.asFloats
        var out = [Float](repeating: 0, count: nc * outH * outW)
        xf.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for c in 0..<nc {
                    let base = c * inH * inW
                    for oy in 0..<outH {
                        let iys = rowsTaps.idx[oy]
                        for ox in 0..<outW {
                            let ixs = colsTaps.idx[ox]
                            var acc: Float = isMax ? -.infinity : 0
                            for iy in iys {
                                let row = base + iy * inW
                                for ix in ixs {
                                    let v = xp[row + ix]
                                    if isMax { acc = Swift.max(acc, v) } else { acc += v }
                                }
                            }
                            let n = includePad ? rowsTaps.padded[oy] * colsTaps.padded[ox] : iys.count * ixs.count
                            op[(c * outH + oy) * outW + ox] = isMax ? acc : acc / Float(Swift.max(n, 1))
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(x.shape.prefix(2)) + (spatial == 2 ? [outH, outW] : [outW]), floats: out)
    }

    static func globalAverage(_ node: Node, _ x: Tensor) throws -> Tensor {
        guard x.rank >= 3 else { throw ONNXError.invalid(node.name, "GlobalAveragePool needs rank >= 3, got \(x.shape)") }
        let nc = x.shape[0] * x.shape[1], size = x.count / Swift.max(nc, 1)
        let xf = x.asFloats
        let out = (0..<nc).map { c in xf[(c * size)..<((c + 1) * size)].reduce(0, +) / Float(size) }
        return Tensor(shape: Array(x.shape.prefix(2)) + [Int](repeating: 1, count: x.rank - 2), floats: out)
    }
}

extension Pooling {
    /// auto_pad values the window geometry implements.
    @Sendable static func checkAutoPad(_ n: Node, _ opset: Int) throws {
        if let pad = n.string("auto_pad"), !["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(pad) {
            throw ONNXError.unsupported(n.name, "auto_pad \(pad)")
        }
    }

    static let operators: [Operator] = [
        Operator("MaxPool", check: { n, opset in
            try checkAutoPad(n, opset)
            if n.int("storage_order", 0) != 0 { throw ONNXError.unsupported(n.name, "MaxPool storage_order 1") }
            if n.outputs.count > 1, !n.outputs[1].isEmpty { throw ONNXError.unsupported(n.name, "MaxPool Indices output") }
        }) { n, x, _ in [try pool(n, x[0], max: true)] },
        Operator("AveragePool", check: checkAutoPad) { n, x, _ in [try pool(n, x[0], max: false)] },
        Operator("GlobalAveragePool") { n, x, _ in [try globalAverage(n, x[0])] },
        // GlobalMaxPool: the maximum over every spatial axis, keeping them as size 1.
        Operator("GlobalMaxPool") { n, x, _ in
            let t = try x[0]
            guard t.rank >= 3 else { throw ONNXError.invalid(n.name, "GlobalMaxPool needs rank >= 3, got \(t.shape)") }
            var r = Node(name: n.name, op: "ReduceMax", inputs: [], outputs: [], attributes: [:])
            r.attributes["keepdims"] = .int(1)
            return [try Reduce.reduce(r, t, axes: Array(2..<t.rank))]
        },
    ]
}
