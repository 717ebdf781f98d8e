import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiONNX

/// The launches of each operator, with the CPU path's semantics (HarsanyiONNX/Ops+*.swift): the same shape rules,
/// padding, auto_pad, ceil_mode, count_include_pad, Softmax opset rules and broadcasting.
extension Planner {
    static let maxRank = 6

    /// The device implementation of each operator, by name (the operator table's names, `HarsanyiONNX/Operators.swift`).
    /// A node whose operator is not here runs its reference implementation on the host (`hostStep`): its inputs
    /// are read back, the output is written to a device buffer, and the plan lists the node as a host step.
    nonisolated(unsafe) static let deviceOps: [String: DeviceKernel] = [
        "Add": { try $0.binary($1, $2) }, "Sub": { try $0.binary($1, $2) },
        "Mul": { try $0.binary($1, $2) }, "Div": { try $0.binary($1, $2) },
        "Relu": { try $0.unary($1, $2) }, "LeakyRelu": { try $0.unary($1, $2) },
        "Sigmoid": { try $0.unary($1, $2) }, "Tanh": { try $0.unary($1, $2) },
        "Clip": { try $0.clip($1, $2) },
        "Identity": { p, n, out in
            let x = try p.device(n, 0)
            p.alias(out, x, x.shape)
        },
        "Dropout": { p, n, out in
            if n.outputs.count > 1, !n.outputs[1].isEmpty, p.lastUse[n.outputs[1]] != nil {
                throw p.unsupported(n, "the Dropout mask output is read")
            }
            let x = try p.device(n, 0)
            p.alias(out, x, x.shape)
        },
        "Cast": { p, n, out in
            // To float32 or double: a view; to other types (rounding to float16, truncating to integers): host step.
            guard [1, 11].contains(n.int("to", 1)) else { return try p.hostStep(n) }
            let x = try p.device(n, 0)
            p.alias(out, x, x.shape)
        },
        "Reshape": { try $0.view($1, $2) }, "Flatten": { try $0.view($1, $2) },
        "Squeeze": { try $0.view($1, $2) }, "Unsqueeze": { try $0.view($1, $2) },
        "Shape": { p, n, out in
            let x = try p.device(n, 0)
            p.values[out] = .host(try ONNXModel.evaluatePublic(n, [Tensor(shape: x.shape, floats: [])], opset: p.model.opset)[0])
        },
        "Gemm": { try $0.gemm($1, $2) }, "MatMul": { try $0.matmul($1, $2) }, "Conv": { try $0.conv($1, $2) },
        "MaxPool": { try $0.pool($1, $2) }, "AveragePool": { try $0.pool($1, $2) },
        "GlobalAveragePool": { try $0.globalAveragePool($1, $2) },
        "BatchNormalization": { try $0.batchNorm($1, $2) },
        "Softmax": { try $0.softmax($1, $2) }, "LogSoftmax": { try $0.softmax($1, $2) },
        "ReduceMean": { try $0.reduce($1, $2) }, "ReduceMax": { try $0.reduce($1, $2) }, "ReduceSum": { try $0.reduce($1, $2) },
        "Transpose": { try $0.transpose($1, $2) }, "Concat": { try $0.concat($1, $2) },
    ].merging(Planner.activationOps) { a, _ in a }.merging(Planner.layoutOps) { a, _ in a }

    func plan(_ n: Node) throws {
        guard let out = n.outputs.first, !out.isEmpty else { throw invalid(n, "\(n.op) has no output") }
        if let kernel = Self.deviceOps[n.op] {
            try kernel(self, n, out)
        } else {
            try hostStep(n)
        }
    }

    // MARK: shapes


    /// A transpose with size-1 axes dropped and runs of input axes that stay neighbours (in order) merged:
    /// (merged input shape, merged perm). The output's memory order is unchanged.
    static func mergeTranspose(_ shape: [Int], _ perm: [Int]) -> (shape: [Int], perm: [Int]) {
        let keep = shape.indices.filter { shape[$0] != 1 }
        var remap: [Int: Int] = [:]
        for (k, a) in keep.enumerated() { remap[a] = k }
        let s1 = keep.map { shape[$0] }, p1 = perm.compactMap { remap[$0] }
        var groups: [[Int]] = []
        for a in p1 {
            if let last = groups.last?.last, a == last + 1 { groups[groups.count - 1].append(a) } else { groups.append([a]) }
        }
        if groups.isEmpty { return ([1], [0]) }
        let order = groups.indices.sorted { groups[$0][0] < groups[$1][0] }
        var newIndex = [Int](repeating: 0, count: groups.count)
        for (k, gi) in order.enumerated() { newIndex[gi] = k }
        return (order.map { groups[$0].map { s1[$0] }.reduce(1, *) }, groups.indices.map { newIndex[$0] })
    }

    static func padded(_ v: [Int], _ fill: Int = 0) -> [Int] { v + [Int](repeating: fill, count: max(0, maxRank - v.count)) }

    func axis(_ n: Node, _ a: Int, rank: Int) throws -> Int {
        let x = a < 0 ? a + rank : a
        guard x >= 0, x < max(rank, 1) else { throw invalid(n, "axis \(a) out of range for rank \(rank)") }
        return x
    }

    // MARK: elementwise

    func binary(_ n: Node, _ out: String) throws {
        let a = try device(n, 0), b = try device(n, 1)
        guard let shape = ShapeRules.broadcastShape(a.shape, b.shape) else {
            throw invalid(n, "\(n.op) cannot broadcast \(a.shape) with \(b.shape)")
        }
        guard let op = Self.binaryCodes[n.op] else { throw unsupported(n, "\(n.op) on the device") }
        try checkIndexable(n, [a, b])
        let y = try allocate(out, shape)
        let count = y.count
        var mode: UInt32 = 0
        var p: [Int] = [0]
        let relu: UInt32 = n.int("__relu", 0) != 0 ? 1 : 0
        if a.shape == b.shape && op >= 4 {
            mode = 1
        } else if a.shape == b.shape {
            launch("nn_elementwise", "binary_same16", global: (count + 15) / 16,
                   [arg(a), arg(b), arg(y), .arg(.uint(UInt32(count))), .arg(.uint(op)), .arg(.uint(relu))])
            return
        } else if b.count == 1 && a.count == count {
            mode = 2
        } else if a.count == 1 && b.count == count {
            mode = 3
        } else {
            let (dims, st) = ShapeRules.mergeAxes(shape, [ShapeRules.broadcastStrides(a.shape, to: shape), ShapeRules.broadcastStrides(b.shape, to: shape)])
            guard dims.count <= Self.maxRank else { throw unsupported(n, "\(n.op) on rank \(shape.count) (at most \(Self.maxRank))") }
            p = [dims.count] + Self.padded(dims, 1) + Self.padded(st[0]) + Self.padded(st[1])
        }
        launch("nn_elementwise", "binary", global: count, [arg(a), arg(b), arg(y), .arg(.buffer(try ints(p))), .arg(.uint(op)), .arg(.uint(mode)),
                                                           .arg(.uint(relu))])
    }

    func unary(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        let op: UInt32 = ["Relu": 0, "LeakyRelu": 1, "Sigmoid": 2, "Tanh": 3][n.op] ?? 0
        let y = try allocate(out, x.shape)
        launch("nn_elementwise", "unary", global: y.count, [arg(x), arg(y), .arg(.uint(op)), .arg(.real(Double(n.float("alpha", 0.01))))])
    }

    func clip(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        var lo: DVal?, hi: DVal?
        if model.opset >= 11 {
            lo = try optionalDevice(n, 1)
            hi = try optionalDevice(n, 2)
        } else {
            // Attributes: uploaded once per model (per node).
            let l = n.float("min", -.infinity), h = n.float("max", .infinity)
            lo = DVal(storage: .fixed(try upload("__opencl_clip/\(n.name)/min", [l])), shape: [])
            hi = DVal(storage: .fixed(try upload("__opencl_clip/\(n.name)/max", [h])), shape: [])
        }
        for b in [lo, hi].compactMap({ $0 }) where b.count < 1 { throw invalid(n, "Clip bound is empty") }
        let flags: UInt32 = (lo != nil ? 1 : 0) | (hi != nil ? 2 : 0)
        let y = try allocate(out, x.shape)
        launch("nn_elementwise", "clip", global: y.count, [arg(x), arg(y), arg(lo ?? x), arg(hi ?? x), .arg(.uint(flags))])
    }

    /// Reshape, Flatten, Squeeze, Unsqueeze: the CPU operator on a data-less tensor gives the shape (and its
    /// errors); the output is a view of the input's buffer.
    func view(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        var ins: [Tensor?] = [Tensor(shape: x.shape, floats: [])]
        for i in 1..<max(1, n.inputs.count) { ins.append(try host(n, i, "\(n.op) input \(i)")) }
        if n.op == "Unsqueeze" {
            // Checked here: the CPU operator assumes distinct, in-range axes.
            let axes = model.opset >= 13 ? ins.count > 1 ? ins[1]?.asInts : nil : n.ints("axes")
            guard let axes else { throw invalid(n, "Unsqueeze needs axes") }
            let rank = x.shape.count + axes.count
            let norm = try axes.map { try axis(n, $0, rank: rank) }
            guard Set(norm).count == norm.count else { throw invalid(n, "Unsqueeze axes \(axes) repeat an axis") }
        }
        guard let t = try ONNXModel.evaluatePublic(n, ins, opset: model.opset).first else { throw invalid(n, "\(n.op) gave no output") }
        guard t.shape.reduce(1, *) == x.count else { throw invalid(n, "\(n.op) of \(x.shape) to \(t.shape)") }
        alias(out, x, t.shape)
    }

    func batchNorm(_ n: Node, _ out: String) throws {
        if model.opset < 9, n.int("spatial", 1) == 0 { return try hostStep(n) }  // per-element parameters
        let x = try device(n, 0)
        guard x.shape.count >= 2 else { throw invalid(n, "BatchNormalization needs rank >= 2, got \(x.shape)") }
        guard n.outputs.dropFirst().allSatisfy({ $0.isEmpty || lastUse[$0] == nil }) else {
            throw unsupported(n, "BatchNormalization running-statistics outputs")
        }
        let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
        var params: [Tensor] = []
        for i in 1...4 {
            guard let t = try host(n, i, "BatchNormalization parameter") else { throw invalid(n, "BatchNormalization is missing input \(i)") }
            guard t.count == c else { throw invalid(n, "BatchNormalization parameters do not have \(c) channels") }
            params.append(t)
        }
        let eps = n.float("epsilon", 1e-5)
        let s = params[0].asFloats, b = params[1].asFloats, mu = params[2].asFloats, v = params[3].asFloats
        let a = (0..<c).map { s[$0] / (v[$0] + eps).squareRoot() }
        let key = "__opencl_bn/\(n.name)/"
        let muB = try upload(key + "mean", mu), aB = try upload(key + "a", a), bB = try upload(key + "b", b)
        let y = try allocate(out, x.shape)
        launch("nn_elementwise", "channel_affine", global: y.count / max(inner, 1),
               [arg(x), arg(y), .arg(.buffer(muB)), .arg(.buffer(aB)), .arg(.buffer(bB)), .arg(.uint(UInt32(c))), .arg(.uint(UInt32(max(inner, 1)))),
                .arg(.uint(n.int("__relu", 0) != 0 ? 1 : 0))])
    }

    func transpose(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        let r = x.shape.count
        let perm = n.ints("perm") ?? Array((0..<r).reversed())
        guard perm.sorted() == Array(0..<r) else { throw invalid(n, "Transpose perm \(perm) for rank \(r)") }
        let shape = perm.map { x.shape[$0] }
        let (ms, mp) = Self.mergeTranspose(x.shape, perm)
        guard ms.count <= Self.maxRank else { throw unsupported(n, "Transpose of rank \(r) (at most \(Self.maxRank) after merging axes)") }
        let src = strides(ms)
        let y = try allocate(out, shape)
        let p = [ms.count] + Self.padded(mp.map { ms[$0] }, 1) + Self.padded(mp.map { src[$0] })
        if ms.count >= 2, mp.last == ms.count - 1, let len = ms.last, len >= 8 {
            launch("nn_elementwise", "transpose_rows", global: y.count / len, [arg(x), arg(y), .arg(.buffer(try ints(p))), .arg(.uint(UInt32(len)))])
            return
        }
        launch("nn_elementwise", "transpose", global: y.count, [arg(x), arg(y), .arg(.buffer(try ints(p)))])
    }

    func concat(_ n: Node, _ out: String) throws {
        let xs = try n.inputs.indices.compactMap { n.input($0) == nil ? nil : try device(n, $0) }
        guard let first = xs.first, !first.shape.isEmpty else { throw invalid(n, "Concat of nothing or of scalars") }
        let ax = try axis(n, n.int("axis", 0), rank: first.shape.count)
        for t in xs where t.shape.count != first.shape.count
            || t.shape.enumerated().contains(where: { $0.offset != ax && $0.element != first.shape[$0.offset] }) {
            throw invalid(n, "Concat shapes \(xs.map(\.shape)) differ off axis \(ax)")
        }
        var shape = first.shape
        shape[ax] = xs.map { $0.shape[ax] }.reduce(0, +)
        let y = try allocate(out, shape)
        let outBlock = shape[ax...].reduce(1, *)
        var offset = 0
        for t in xs {
            let block = t.shape[ax...].reduce(1, *)
            if block > 0 {
                launch("nn_elementwise", "copy_block", global: t.count / block,
                       [arg(t), arg(y), .arg(.uint(UInt32(block))), .arg(.uint(UInt32(outBlock))), .arg(.uint(UInt32(offset)))])
            }
            offset += block
        }
    }

    // MARK: matrix products

    /// Launches `gemm` over `batch` products (see nn_gemm.cl for the argument meanings).
    func gemmLaunch(a: DVal, b: DVal, c: DVal?, y: DVal, m: Int, n: Int, k: Int, offA: Int = 0, sAm: Int, sAk: Int, bsA: Int = 0,
                    offB: Int = 0, sBk: Int, sBn: Int, bsB: Int = 0, sCm: Int = 0, sCn: Int = 0, offY: Int = 0, bsY: Int = 0,
                    batch: Int = 1, alpha: Float = 1, beta: Float = 1, relu: Bool) throws {
        guard let t = model.gemmTiles else { throw HarsanyiError.invalidArgument("GEMM tiles unknown") }
        let tilesM = (m + t.m - 1) / t.m, tilesN = (n + t.n - 1) / t.n
        guard m > 0, n > 0, batch > 0 else { return }
        let flags: UInt32 = (c != nil ? 1 : 0) | (relu ? 2 : 0) | (sAk == 1 ? 4 : 0) | (sBk == 1 ? 8 : 0)
        let u = { (v: Int) -> Launch.A in .arg(.uint(UInt32(v))) }, ul = { (v: Int) -> Launch.A in .arg(.ulong(UInt64(v))) }
        launch("nn_gemm", "gemm", global: tilesM * tilesN * batch * t.threads, local: t.threads,
               [arg(a), arg(b), arg(c ?? y), arg(y), u(m), u(n), u(k),
                ul(offA), u(sAm), u(sAk), ul(bsA), ul(offB), u(sBk), u(sBn), ul(bsB), ul(0), u(sCm), u(sCn), ul(0),
                ul(offY), u(n), ul(bsY), .arg(.real(Double(alpha))), .arg(.real(Double(beta))), .arg(.uint(flags)), u(tilesM), u(tilesN)])
    }

    func gemm(_ n: Node, _ out: String) throws {
        let a = try device(n, 0), b = try device(n, 1)
        guard a.shape.count == 2, b.shape.count == 2 else { throw invalid(n, "Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)") }
        let tA = n.int("transA", 0) != 0, tB = n.int("transB", 0) != 0
        let alpha = n.float("alpha", 1), beta = n.float("beta", 1)
        let m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1]
        let kb = tB ? b.shape[1] : b.shape[0], nn = tB ? b.shape[0] : b.shape[1]
        guard k == kb else { throw invalid(n, "Gemm inner dimensions differ: A \(a.shape) (transA \(tA)), B \(b.shape) (transB \(tB))") }
        var c: DVal?
        var sC = [0, 0]
        if n.input(2) != nil, beta != 0 {
            let cv = try device(n, 2)
            guard let bs = ShapeRules.broadcastShape(cv.shape, [m, nn]), bs == [m, nn] else {
                throw invalid(n, "Gemm C of shape \(cv.shape) does not broadcast to [\(m), \(nn)]")
            }
            c = cv
            sC = ShapeRules.broadcastStrides(cv.shape, to: [m, nn])
        }
        try checkIndexable(n, [a, b, c].compactMap { $0 })
        let y = try allocate(out, [m, nn])
        if model.options.channelVectors, !tA, let bName = n.input(1), let bHost = constant(bName) {
            try rowsGemm(a: a, b: bHost, bKey: bName, transB: tB, rows: m, k: k, n: nn, c: c, cName: c == nil ? nil : n.input(2), sC: sC, y: y,
                         alpha: alpha, beta: beta, relu: n.int("__relu", 0) != 0)
            return
        }
        try gemmLaunch(a: a, b: b, c: c, y: y, m: m, n: nn, k: k, sAm: tA ? 1 : a.shape[1], sAk: tA ? a.shape[1] : 1,
                       sBk: tB ? 1 : b.shape[1], sBn: tB ? b.shape[1] : 1, sCm: sC[0], sCn: sC[1], alpha: alpha, beta: beta,
                       relu: n.int("__relu", 0) != 0)
    }

    /// A float constant of the model (initializer, folded node or folded BatchNormalization weight).
    func constant(_ name: String) -> Tensor? {
        guard let t = model.constants[name], t.dtype == .float32 else { return nil }
        return t
    }

    /// `gemm_rows{8,16}`: Y[rows, n] = act(alpha · A[rows, k] · B + beta · C) with B constant, transposed and
    /// zero-padded to [k, ldb] once per model; a constant C that is one row (broadcast down) is padded alike and
    /// added as a vector.
    func rowsGemm(a: DVal, b: Tensor, bKey: String, transB: Bool, rows: Int, k: Int, n: Int, c: DVal?, cName: String?, sC: [Int], y: DVal,
                  alpha: Float, beta: Float, relu: Bool) throws {
        guard rows > 0, n > 0 else { return }
        let cv = n <= 8 ? 8 : 16
        let ldb = (n + cv - 1) / cv * cv
        let bt: OpenCLBuffer
        let key = "__opencl_rows/\(bKey)/\(transB)/\(ldb)"
        if let cached = model.deviceConstants[key] {
            bt = cached
        } else {
            let bf = b.asFloats
            var t = [Float](repeating: 0, count: max(1, k * ldb))
            for kk in 0..<k { for j in 0..<n { t[kk * ldb + j] = transB ? bf[j * k + kk] : bf[kk * n + j] } }
            bt = try upload(key, t)
        }
        var flags: UInt32 = relu ? 2 : 0
        var cArg = arg(y)
        if let c {
            flags |= 1
            cArg = arg(c)
            if sC[0] == 0, let cName, let ch = constant(cName) {
                let cf = ch.asFloats
                var padded = [Float](repeating: 0, count: ldb)
                for j in 0..<n { padded[j] = cf[j * sC[1]] }
                cArg = .arg(.buffer(try upload("__opencl_rows/\(cName)/C/\(sC[1])/\(ldb)", padded)))
                flags |= 16
            }
        }
        let u = { (v: Int) -> Launch.A in .arg(.uint(UInt32(v))) }
        launch("nn_gemm", "gemm_rows\(cv)", global: rows * (ldb / cv),
               [arg(a), .arg(.buffer(bt)), cArg, arg(y), u(rows), u(n), u(k), u(k), u(ldb), u(sC[0]), u(sC[1]), u(n),
                .arg(.real(Double(alpha))), .arg(.real(Double(beta))), .arg(.uint(flags))])
    }

    func checkIndexable(_ n: Node, _ xs: [DVal]) throws {
        for x in xs where x.count >= Int(Int32.max) { throw unsupported(n, "an operand of \(x.count) elements (2^31 or more)") }
    }

    /// numpy matmul: 1-D operands promoted, leading (batch) dimensions broadcast. One launch when each operand's
    /// batch is either complete or absent/all-ones; otherwise one launch per batch item.
    func matmul(_ n: Node, _ out: String) throws {
        let a = try device(n, 0), b = try device(n, 1)
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw invalid(n, "MatMul of a scalar: \(a.shape) × \(b.shape)") }
        var sa = a.shape, sb = b.shape
        let aVec = sa.count == 1, bVec = sb.count == 1
        if aVec { sa = [1, sa[0]] }
        if bVec { sb = [sb[0], 1] }
        let m = sa[sa.count - 2], k = sa[sa.count - 1], nn = sb[sb.count - 1]
        guard sb[sb.count - 2] == k else { throw invalid(n, "MatMul inner dimensions differ: \(a.shape) × \(b.shape)") }
        let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
        guard let batch = ShapeRules.broadcastShape(batchA, batchB) else {
            throw invalid(n, "MatMul batch dimensions do not broadcast: \(a.shape) × \(b.shape)")
        }
        try checkIndexable(n, [a, b])
        let batches = batch.reduce(1, *)
        var shape = batch + [m, nn]
        if aVec { shape.remove(at: shape.count - 2) }
        if bVec { shape.removeLast() }
        let y = try allocate(out, shape)
        let relu = n.int("__relu", 0) != 0
        let countA = batchA.reduce(1, *), countB = batchB.reduce(1, *)
        if model.options.channelVectors, countB == 1, let bName = n.input(1), let bHost = constant(bName) {
            // B is one constant matrix: every row of every batch item of A is one row of a single product.
            try rowsGemm(a: a, b: bHost, bKey: bName, transB: false, rows: countA * m, k: k, n: nn, c: nil, cName: nil, sC: [0, 0], y: y,
                         alpha: 1, beta: 0, relu: relu)
            return
        }
        if (countA == 1 || countA == batches) && (countB == 1 || countB == batches) {
            try gemmLaunch(a: a, b: b, c: nil, y: y, m: m, n: nn, k: k, sAm: k, sAk: 1, bsA: countA == 1 ? 0 : m * k, sBk: nn, sBn: 1,
                           bsB: countB == 1 ? 0 : k * nn, bsY: m * nn, batch: batches, relu: relu)
            return
        }
        let stA = ShapeRules.broadcastStrides(batchA, to: batch), stB = ShapeRules.broadcastStrides(batchB, to: batch), bs = strides(batch)
        for z in 0..<batches {
            var oa = 0, ob = 0, r = z
            for d in 0..<batch.count {
                let q = r / bs[d]
                r %= bs[d]
                oa += q * stA[d] * m * k
                ob += q * stB[d] * k * nn
            }
            try gemmLaunch(a: a, b: b, c: nil, y: y, m: m, n: nn, k: k, offA: oa, sAm: k, sAk: 1, offB: ob, sBk: nn, sBn: 1,
                           offY: z * m * nn, relu: relu)
        }
    }

    func conv(_ n: Node, _ out: String) throws {
        let x = try device(n, 0), w = try device(n, 1)
        let bias = try optionalDevice(n, 2)
        let spatial = x.shape.count - 2
        guard spatial == 1 || spatial == 2, w.shape.count == x.shape.count else {
            throw unsupported(n, "Conv on input \(x.shape) with weight \(w.shape) (1-D and 2-D supported)")
        }
        let group = n.int("group", 1)
        let nB = x.shape[0], c = x.shape[1], m = w.shape[0], cg = w.shape[1]
        guard group >= 1, c % group == 0, c / group == cg, m % group == 0 else { throw invalid(n, "Conv channels: input \(c), weight \(w.shape), group \(group)") }
        let g = try WindowGeometry(n, input: x.shape, kernel: Array(w.shape.dropFirst(2)))
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL) = (g.outH, g.outW, g.padTop, g.padLeft)
        if let bias, bias.count != m { throw invalid(n, "Conv bias has \(bias.count) values for \(m) output channels") }
        try checkIndexable(n, [x, w])
        let mg = m / group, kk = cg * kH * kW, cols = nB * outH * outW
        let p = try ints([c, inH, inW, outH, outW, sH, sW, padT, padL, mg, cg, kk, m, nB, kH, kW, dH, dW])
        let flags: UInt32 = (bias != nil ? 1 : 0) | (n.int("__relu", 0) != 0 ? 2 : 0)
        guard let t = model.gemmTiles else { throw HarsanyiError.invalidArgument("GEMM tiles unknown") }
        // A pool fused into this node (OpenCLModel.fusePools): the vector kernel pools in place when the windows lie
        // inside the conv output; otherwise the conv output is made under its own name and the pool runs after it.
        let poolNode = model.fusedPools[out]
        let convOut = poolNode?.inputs[0] ?? out
        // Wide forms (8 columns per work item) on rows of 8 or more, when the row segment fits.
        let wide = outW >= t.convWideColumns && (t.convWideColumns - 1) * sW + (kW - 1) * dW + 1 <= t.convRow
        let columns = wide ? t.convWideColumns : t.convColumns, suffix = wide ? "_w8" : ""
        let vector = model.options.channelVectors && mg >= Self.minVectorChannels && n.input(1).flatMap(constant) != nil
            && (columns - 1) * sW + (kW - 1) * dW + 1 <= t.convRow && (bias == nil || n.input(2).flatMap(constant) != nil)
        let pooled = vector ? poolNode.flatMap { Self.insidePool($0, spatial: spatial, outH: outH, outW: outW, columns: columns) } : nil
        let y = try allocate(pooled != nil ? out : convOut,
                             pooled.map { spatial == 2 ? [nB, m, $0[4], $0[5]] : [nB, m, $0[5]] } ?? (spatial == 2 ? [nB, m, outH, outW] : [nB, m, outW]))
        guard cols < Int(Int32.max), nB * m * outH * outW < Int(Int32.max) else { throw unsupported(n, "Conv output of \(nB * m * outH * outW) elements") }
        if vector, let wName = n.input(1), let wHost = constant(wName) {
            let cv = mg <= 8 ? 8 : 16
            let ldw = (mg + cv - 1) / cv * cv
            let key = "__opencl_convvec/\(wName)/\(ldw)"
            let wt: OpenCLBuffer
            if let cached = model.deviceConstants[key] {
                wt = cached
            } else {
                let wf = wHost.asFloats
                var v = [Float](repeating: 0, count: max(1, group * kk * ldw))
                for g in 0..<group { for i in 0..<mg { for q in 0..<kk { v[(g * kk + q) * ldw + i] = wf[(g * mg + i) * kk + q] } } }
                wt = try upload(key, v)
            }
            var biasArg: Launch.A = .arg(.buffer(wt))
            if let bName = n.input(2), let bHost = constant(bName) {
                let bf = bHost.asFloats
                var v = [Float](repeating: 0, count: group * ldw)
                for g in 0..<group { for i in 0..<mg { v[g * ldw + i] = bf[g * mg + i] } }
                biasArg = .arg(.buffer(try upload("__opencl_convvec/\(bName)/\(ldw)/\(group)", v)))
            }
            let args: [Launch.A] = [arg(x), .arg(.buffer(wt)), biasArg, arg(y), .arg(.buffer(p)), .arg(.uint(flags)), .arg(.uint(UInt32(ldw)))]
            if let pp = pooled {
                let global = nB * group * (ldw / cv) * pp[4] * ((pp[5] + pp[7] - 1) / pp[7])
                guard global < Int(Int32.max) else { throw unsupported(n, "Conv with \(global) work items") }
                launch("nn_gemm", "conv_vec_pool\(cv)\(suffix)", global: global, args + [.arg(.buffer(try ints(pp)))])
                return
            }
            let global = nB * group * (ldw / cv) * outH * ((outW + columns - 1) / columns)
            guard global < Int(Int32.max) else { throw unsupported(n, "Conv with \(global) work items") }
            launch("nn_gemm", "conv_vec\(cv)\(suffix)", global: global, args)
        } else if model.options.channelVectors, mg < Self.minVectorChannels, sW == 1, 8 + (kW - 1) * dW <= t.convRow {
            launch("nn_gemm", "conv_pix8", global: nB * m * ((outW + 7) / 8),
                   [arg(x), arg(w), arg(bias ?? w), arg(y), .arg(.buffer(p)), .arg(.uint(flags))])
        } else if mg < model.options.directConvBelowChannels {
            launch("nn_gemm", "conv_direct", global: cols, [arg(x), arg(w), arg(bias ?? w), arg(y), .arg(.buffer(p)), .arg(.uint(flags))])
        } else {
            var table: [Int] = []
            table.reserveCapacity(3 * kk)
            for ci in 0..<cg { for ky in 0..<kH { for kx in 0..<kW { table += [ci * inH * inW, ky * dH, kx * dW] } } }
            let tilesM = (mg + t.m - 1) / t.m, tilesN = (cols + t.n - 1) / t.n
            launch("nn_gemm", "conv_igemm", global: tilesM * tilesN * group * t.threads, local: t.threads,
                   [arg(x), arg(w), arg(bias ?? w), arg(y), .arg(.buffer(try ints(table))), .arg(.buffer(p)), .arg(.uint(flags)),
                    .arg(.uint(UInt32(tilesM))), .arg(.uint(UInt32(tilesN)))])
        }
        if let poolNode {
            try pool(poolNode, out)
            release(convOut)
        }
    }

    /// Output channels per group from which conv_vec is used; fewer (depthwise and the like: most of a channel
    /// vector would be padding) use conv_pix8 (vectors along the output row) when the row stride is 1.
    static let minVectorChannels = 8

    /// conv_vec_pool's parameters {kH, kW, sH, sW, outH, outW, isMax, pooled columns per work item} for a pool over
    /// a conv output of outH × outW, when its windows lie inside it (no padding, no dilation, ceil_mode changing
    /// nothing) and one window row fits in `columns` conv outputs; nil otherwise.
    static func insidePool(_ n: Node, spatial: Int, outH: Int, outW: Int, columns: Int) -> [Int]? {
        guard let k = n.ints("kernel_shape"), k.count == spatial, k.allSatisfy({ $0 >= 1 }) else { return nil }
        let st = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        guard st.count == spatial, st.allSatisfy({ $0 >= 1 }) else { return nil }
        guard (n.ints("dilations") ?? []).allSatisfy({ $0 == 1 }), (n.ints("pads") ?? []).allSatisfy({ $0 == 0 }),
            ["NOTSET", "VALID"].contains(n.string("auto_pad") ?? "NOTSET")
        else { return nil }
        let (kH, kW) = spatial == 2 ? (k[0], k[1]) : (1, k[0])
        let (sH, sW) = spatial == 2 ? (st[0], st[1]) : (1, st[0])
        guard kH <= outH, kW <= outW, kW <= columns else { return nil }
        let pH = (outH - kH) / sH + 1, pW = (outW - kW) / sW + 1
        if n.int("ceil_mode", 0) != 0, (outH - kH + sH - 1) / sH + 1 != pH || (outW - kW + sW - 1) / sW + 1 != pW { return nil }
        let ppx = (columns - kW) / sW + 1
        return [kH, kW, sH, sW, pH, pW, n.op == "MaxPool" ? 1 : 0, ppx]
    }

    // MARK: pooling and reductions

    func pool(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        let spatial = x.shape.count - 2
        guard spatial == 1 || spatial == 2 else { throw unsupported(n, "\(n.op) on input \(x.shape) (1-D and 2-D supported)") }
        guard let k = n.ints("kernel_shape") else { throw invalid(n, "\(n.op) needs kernel_shape") }
        if n.op == "MaxPool", n.outputs.count > 1, !n.outputs[1].isEmpty { throw unsupported(n, "MaxPool Indices output") }
        let ceil = n.int("ceil_mode", 0) != 0, includePad = n.int("count_include_pad", 0) != 0
        let g = try WindowGeometry(n, input: x.shape, kernel: k, ceil: ceil)
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL) = (g.outH, g.outW, g.padTop, g.padLeft)
        let (pHe, pWe) = (g.padBottom, g.padRight)
        let y = try allocate(out, Array(x.shape.prefix(2)) + (spatial == 2 ? [outH, outW] : [outW]))
        let p = try ints([inH, inW, outH, outW, kH, kW, sH, sW, dH, dW, padT, padL, spatial == 2 ? pHe : 0, pWe,
                          n.op == "MaxPool" ? 1 : 0, includePad ? 1 : 0])
        launch("nn_pool", n.op == "MaxPool" ? "pool_max" : "pool_avg", global: y.count / max(outW, 1), [arg(x), arg(y), .arg(.buffer(p)), .arg(.uint(n.int("__relu_in", 0) != 0 ? 1 : 0))])
    }

    func globalAveragePool(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        guard x.shape.count >= 3 else { throw invalid(n, "GlobalAveragePool needs rank >= 3, got \(x.shape)") }
        let nc = x.shape[0] * x.shape[1], size = x.count / max(nc, 1)
        let y = try allocate(out, Array(x.shape.prefix(2)) + [Int](repeating: 1, count: x.shape.count - 2))
        launch("nn_pool", "global_avg", global: nc, [arg(x), arg(y), .arg(.uint(UInt32(size)))])
    }

    func softmax(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        guard !x.shape.isEmpty else { throw invalid(n, "\(n.op) of a scalar") }
        let opset = model.opset
        let ax = try axis(n, n.int("axis", opset >= 13 ? -1 : 1), rank: x.shape.count)
        let outer = x.shape.prefix(ax).reduce(1, *)
        let (len, inner) = opset >= 13 ? (x.shape[ax], x.shape[(ax + 1)...].reduce(1, *))
                                       : (x.shape[ax...].reduce(1, *), 1)
        let y = try allocate(out, x.shape)
        launch("nn_pool", "softmax", global: outer * inner,
               [arg(x), arg(y), .arg(.uint(UInt32(len))), .arg(.uint(UInt32(max(inner, 1)))), .arg(.uint(n.op == "LogSoftmax" ? 1 : 0))])
    }

    func reduce(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        let fromInput = n.op == "ReduceSum" ? model.opset >= 13 : model.opset >= 18
        let axesIn: [Int]? = fromInput ? (try host(n, 1, "\(n.op) axes"))?.asInts : n.ints("axes")
        let keep = n.int("keepdims", 1) != 0
        if axesIn?.isEmpty ?? true, n.int("noop_with_empty_axes", 0) != 0 {
            alias(out, x, x.shape)
            return
        }
        let r = x.shape.count
        let listed = axesIn ?? []
        let axes = Set(try (listed.isEmpty ? Array(0..<r) : listed).map { try axis(n, $0, rank: r) })
        let kept = (0..<r).filter { !axes.contains($0) }, red = (0..<r).filter { axes.contains($0) }
        guard kept.count <= Self.maxRank, red.count <= Self.maxRank else { throw unsupported(n, "\(n.op) of rank \(r) (at most \(Self.maxRank) kept and reduced axes)") }
        let st = strides(x.shape)
        let shape = keep ? x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } : kept.map { x.shape[$0] }
        let y = try allocate(out, shape)
        let count = red.map { x.shape[$0] }.reduce(1, *)
        let p = [kept.count, red.count] + Self.padded(kept.map { x.shape[$0] }, 1) + Self.padded(kept.map { st[$0] })
            + Self.padded(red.map { x.shape[$0] }, 1) + Self.padded(red.map { st[$0] })
        let op: UInt32 = n.op == "ReduceSum" ? 0 : n.op == "ReduceMean" ? 1 : 2
        launch("nn_pool", "reduce", global: y.count, [arg(x), arg(y), .arg(.buffer(try ints(p))), .arg(.uint(op)), .arg(.uint(UInt32(count)))])
    }
}
