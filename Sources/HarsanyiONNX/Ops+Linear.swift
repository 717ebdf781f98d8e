import CBLAS
import Foundation

/// Gemm, MatMul and Conv, with OpenBLAS's sgemm doing the arithmetic (Conv through im2col).
enum Linear {
    /// OpenBLAS runs single-threaded: the products here (a batch of masked inputs through one layer) are small,
    /// and its worker threads spin in sched_yield between them, which took 40 % of a LeNet run on 2 cores.
    static let singleThreaded: Void = openblas_set_num_threads(1)

    /// C[m×n] = A[m×k] · B[k×n] (row-major, optionally transposed inputs), accumulated into C when beta = 1.
    static func sgemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: UnsafePointer<Float>, lda: Int,
                      _ b: UnsafePointer<Float>, ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    static func gemm(_ node: Node, _ a: Tensor, _ b: Tensor, _ c: Tensor?) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else { throw ONNXError.invalid(node.name, "Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)") }
        let tA = node.int("transA", 0) != 0, tB = node.int("transB", 0) != 0
        let alpha = node.float("alpha", 1), beta = node.float("beta", 1)
        let m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1]
        let kb = tB ? b.shape[1] : b.shape[0], n = tB ? b.shape[0] : b.shape[1]
        guard k == kb else { throw ONNXError.invalid(node.name, "Gemm inner dimensions differ: A \(a.shape) (transA \(tA)), B \(b.shape) (transB \(tB))") }
        var out: [Float]
        if let c, beta != 0 {
            // C must broadcast unidirectionally to [M, N]: sgemm accumulates into exactly m·n floats. A C that
            // broadcasts to something else (a 0-sized axis gives 0 floats, a leading axis more) is refused.
            guard let bs = Elementwise.broadcastShape(c.shape, [m, n]), bs == [m, n] else {
                throw ONNXError.invalid(node.name, "Gemm C of shape \(c.shape) does not broadcast to [\(m), \(n)]")
            }
            let bc = try Elementwise.expand(node, c, [m, n]).floats
            guard bc.count == m * n else {
                throw ONNXError.invalid(node.name, "Gemm C of shape \(c.shape) has \(bc.count) values for [\(m), \(n)]")
            }
            out = bc
        } else {
            out = [Float](repeating: 0, count: m * n)
        }
        let af = a.asFloats, bf = b.asFloats
        af.withUnsafeBufferPointer { ap in
            bf.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    sgemm(tA, tB, m: m, n: n, k: k, alpha: alpha, ap.baseAddress!, lda: a.shape[1], bp.baseAddress!, ldb: b.shape[1],
                          beta: c != nil ? beta : 0, cp.baseAddress!, ldc: n)
                }
            }
        }
        return Tensor(shape: [m, n], floats: out)
    }

    /// numpy matmul semantics: 1-D operands are promoted, leading dimensions broadcast.
    static func matmul(_ node: Node, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        var sa = a.shape, sb = b.shape
        let aVec = sa.count == 1, bVec = sb.count == 1
        if aVec { sa = [1, sa[0]] }
        if bVec { sb = [sb[0], 1] }
        let m = sa[sa.count - 2], k = sa[sa.count - 1], n = sb[sb.count - 1]
        guard sb[sb.count - 2] == k else { throw ONNXError.invalid(node.name, "MatMul inner dimensions differ: \(a.shape) × \(b.shape)") }
        guard let batch = Elementwise.broadcastShape(Array(sa.dropLast(2)), Array(sb.dropLast(2))) else {
            throw ONNXError.invalid(node.name, "MatMul batch dimensions do not broadcast: \(a.shape) × \(b.shape)")
        }
        let batches = batch.reduce(1, *)
        let strideA = Elementwise.broadcastStrides(Array(sa.dropLast(2)), to: batch).map { $0 * m * k }
        let strideB = Elementwise.broadcastStrides(Array(sb.dropLast(2)), to: batch).map { $0 * k * n }
        var out = [Float](repeating: 0, count: batches * m * n)
        let af = a.asFloats, bf = b.asFloats
        let bs = strides(batch)
        af.withUnsafeBufferPointer { ap in
            bf.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<batches {
                        var oa = 0, ob = 0, r = i
                        for d in 0..<batch.count {
                            let q = r / bs[d]
                            r %= bs[d]
                            oa += q * strideA[d]
                            ob += q * strideB[d]
                        }
                        sgemm(false, false, m: m, n: n, k: k, alpha: 1, ap.baseAddress! + oa, lda: k, bp.baseAddress! + ob, ldb: n, beta: 0,
                              cp.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
        var shape = batch + [m, n]
        if aVec { shape.remove(at: shape.count - 2) }
        if bVec { shape.removeLast() }
        return Tensor(shape: shape, floats: out)
    }

    /// The output size and padding of one spatial axis (auto_pad aware).
    static func window(_ node: Node, input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, ceil: Bool = false)
        -> (out: Int, begin: Int)
    {
        let eff = (kernel - 1) * dilation + 1
        switch node.string("auto_pad") ?? "NOTSET" {
        case "SAME_UPPER", "SAME_LOWER":
            let out = (input + stride - 1) / stride
            let total = max(0, (out - 1) * stride + eff - input)
            let begin = node.string("auto_pad") == "SAME_UPPER" ? total / 2 : total - total / 2
            return (out, begin)
        case "VALID":
            return ((input - eff) / stride + 1, 0)
        default:
            let span = input + padBegin + padEnd - eff
            var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
            // ceil_mode: the last window must start inside the input or the left padding.
            if ceil && (out - 1) * stride >= input + padBegin { out -= 1 }
            return (out, padBegin)
        }
    }

    /// Conv (1-D and 2-D): pads, strides, dilations, groups, auto_pad; im2col + one sgemm per batch item and group.
    static func conv(_ node: Node, _ x: Tensor, _ w: Tensor, _ bias: Tensor?) throws -> Tensor {
        let spatial = x.rank - 2
        guard spatial == 1 || spatial == 2, w.rank == x.rank else {
            throw ONNXError.unsupported(node.name, "Conv on input \(x.shape) with weight \(w.shape) (1-D and 2-D supported)")
        }
        let group = node.int("group", 1)
        let nB = x.shape[0], c = x.shape[1], m = w.shape[0], cg = w.shape[1]
        guard group >= 1, c % group == 0, c / group == cg, m % group == 0 else {
            throw ONNXError.invalid(node.name, "Conv channels: input \(c), weight \(w.shape), group \(group)")
        }
        let g = try WindowGeometry(node, input: x.shape, kernel: Array(w.shape.dropFirst(2)))
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL) = (g.outH, g.outW, g.padTop, g.padLeft)
        let mg = m / group, kk = cg * kH * kW, cols = outH * outW
        // One im2col matrix for the whole batch per group, [kk, nB·cols], and one sgemm per group: a few large
        // products instead of nB·group small ones (what makes batches of masked inputs fast).
        var out = [Float](repeating: 0, count: nB * m * cols)
        let wide = nB * cols
        var col = [Float](repeating: 0, count: kk * wide)
        var tmp = [Float](repeating: 0, count: mg * wide)
        let xf = x.asFloats, wf = w.asFloats
        for g in 0..<group {
            col.withUnsafeMutableBufferPointer { cp in
                xf.withUnsafeBufferPointer { xp in
                    for ci in 0..<cg {
                        for ky in 0..<kH {
                            for kx in 0..<kW {
                                let row = ((ci * kH + ky) * kW + kx) * wide
                                for b in 0..<nB {
                                    let chan = (b * c + g * cg + ci) * inH * inW
                                    for oy in 0..<outH {
                                        let iy = oy * sH - padT + ky * dH
                                        let dst = row + b * cols + oy * outW
                                        if iy < 0 || iy >= inH {
                                            for ox in 0..<outW { cp[dst + ox] = 0 }
                                            continue
                                        }
                                        let src = chan + iy * inW
                                        let shift = kx * dW - padL  // ix = ox * sW + shift
                                        if sW == 1 {  // contiguous: zeros, one copy, zeros
                                            let lo = Swift.min(outW, Swift.max(0, -shift)), hi = Swift.max(lo, Swift.min(outW, inW - shift))
                                            for ox in 0..<lo { cp[dst + ox] = 0 }
                                            if hi > lo { (cp.baseAddress! + dst + lo).update(from: xp.baseAddress! + src + lo + shift, count: hi - lo) }
                                            for ox in hi..<outW { cp[dst + ox] = 0 }
                                        } else {
                                            for ox in 0..<outW {
                                                let ix = ox * sW + shift
                                                cp[dst + ox] = ix >= 0 && ix < inW ? xp[src + ix] : 0
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            wf.withUnsafeBufferPointer { wp in
                col.withUnsafeBufferPointer { cp in
                    tmp.withUnsafeMutableBufferPointer { tp in
                        sgemm(false, false, m: mg, n: wide, k: kk, alpha: 1, wp.baseAddress! + g * mg * kk, lda: kk, cp.baseAddress!, ldb: wide,
                              beta: 0, tp.baseAddress!, ldc: wide)
                    }
                }
            }
            tmp.withUnsafeBufferPointer { tp in
                out.withUnsafeMutableBufferPointer { op in
                    for o in 0..<mg {
                        for b in 0..<nB {
                            (op.baseAddress! + (b * m + g * mg + o) * cols).update(from: tp.baseAddress! + o * wide + b * cols, count: cols)
                        }
                    }
                }
            }
        }
        if let bias {
            let bf = bias.asFloats
            guard bf.count == m else { throw ONNXError.invalid(node.name, "Conv bias has \(bf.count) values for \(m) output channels") }
            for b in 0..<nB { for o in 0..<m { let base = (b * m + o) * cols; for i in 0..<cols { out[base + i] += bf[o] } } }
        }
        return Tensor(shape: spatial == 2 ? [nB, m, outH, outW] : [nB, m, outW], floats: out)
    }
}

extension Linear {
    static let operators: [Operator] = [
        Operator("Gemm") { n, x, _ in [try gemm(n, x[0], x[1], x.optional(2))] },
        Operator("MatMul") { n, x, _ in [try matmul(n, x[0], x[1])] },
        Operator("Conv", check: Pooling.checkAutoPad) { n, x, _ in [try conv(n, x[0], x[1], x.optional(2))] },
    ]
}
