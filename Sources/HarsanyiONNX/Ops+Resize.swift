import Foundation

/// Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9): nearest and (multi)linear interpolation, following the
/// ONNX specification and onnxruntime's CPU kernel (coordinates in Double here).
enum ResizeOps {
    /// How an output coordinate x (on an axis of input length n, output length m, scale s) maps to the input:
    /// half_pixel (x + ½)/s − ½; asymmetric x/s; align_corners x(n − 1)/(m − 1) (0 when m = 1);
    /// pytorch_half_pixel as half_pixel but 0 when m = 1; tf_half_pixel_for_nn (x + ½)/s;
    /// half_pixel_symmetric c(1 − m/(s·n)) + (x + ½)/s − ½ with c = n/2.
    enum Transform: String {
        case half_pixel, asymmetric, align_corners, pytorch_half_pixel, tf_half_pixel_for_nn,
            half_pixel_symmetric
    }

    /// How a nearest-mode coordinate becomes an index (then clamped to [0, n − 1]): round_prefer_floor rounds
    /// halves down, round_prefer_ceil halves up, floor, ceil; `simple` (Resize-10 and Upsample, as onnxruntime)
    /// is ⌈x⌉ when downsampling (s < 1) and ⌊x⌋ otherwise.
    enum Nearest: String { case round_prefer_floor, round_prefer_ceil, floor, ceil, simple }

    /// The input coordinate of output index x on one axis (formulas at `Transform`).
    static func original(_ x: Int, scale s: Double, n: Int, m: Int, _ t: Transform) -> Double {
        let x = Double(x)
        let n = Double(n)
        let m = Double(m)
        switch t {
        case .half_pixel: return (x + 0.5) / s - 0.5
        case .asymmetric: return x / s
        case .align_corners: return m == 1 ? 0 : x * (n - 1) / (m - 1)
        case .pytorch_half_pixel: return m > 1 ? (x + 0.5) / s - 0.5 : 0
        case .tf_half_pixel_for_nn: return (x + 0.5) / s
        case .half_pixel_symmetric: return n / 2 * (1 - m / (s * n)) + (x + 0.5) / s - 0.5
        }
    }

    /// The nearest input index of coordinate v on an axis of length n (rules at `Nearest`).
    static func nearest(_ v: Double, _ mode: Nearest, down: Bool, n: Int) -> Int {
        let r: Double
        switch mode {
        case .round_prefer_floor: r = v - v.rounded(.down) == 0.5 ? v.rounded(.down) : v.rounded()
        case .round_prefer_ceil: r = v.rounded(.toNearestOrAwayFromZero)
        case .floor: r = v.rounded(.down)
        case .ceil: r = v.rounded(.up)
        case .simple: r = down ? v.rounded(.up) : v.rounded(.towardZero)
        }
        return r.isNaN ? 0 : Int(min(max(r, 0), Double(n - 1)))
    }

    /// Resizes x to `out` with per-axis `scales` (given, or out/in when sizes were given).
    ///
    /// Nearest: one gather, output index o_d reads nearest(original(o_d)) on every axis; any dtype. O(output).
    /// Linear: separable, one axis after another in Double: with v = original(o) clamped to [0, n − 1],
    /// i0 = ⌊v⌋, i1 = min(i0 + 1, n − 1), w = v − i0, y = (1 − w)·x[i0] + w·x[i1] (the multilinear
    /// interpolation of onnxruntime and the ONNX reference, whose edge padding equals this clamp); axes whose
    /// map is the identity are skipped. O(Σ_d size after resizing axis d); float32 only.
    static func resize(
        _ node: Node, _ x: Tensor, scales: [Double], out: [Int], linear: Bool, _ t: Transform,
        _ mode: Nearest
    ) throws -> Tensor {
        for d in x.shape.indices where x.shape[d] == 0 && out[d] != 0 {
            throw ONNXError.invalid(node.name, "\(node.op) of an empty axis \(d) of \(x.shape) to size \(out[d])")
        }
        _ = try SliceOps.checkedCount(out, node)
        if !linear {
            let st = strides(x.shape)
            let maps = x.shape.indices.map { d in
                (0..<out[d]).map { o in
                    let v = original(o, scale: scales[d], n: x.shape[d], m: out[d], t)
                    return nearest(v, mode, down: scales[d] < 1, n: x.shape[d]) * st[d]
                }
            }
            return SliceOps.take(x, shape: out, maps: maps)
        }
        guard x.dtype == .float32 else { throw ONNXError.unsupported(node.name, "\(node.op) linear of int64 data") }
        var data = x.floats.map { Double($0) }
        var shape = x.shape
        for d in x.shape.indices {
            let n = shape[d]
            let m = out[d]
            var i0 = [Int](repeating: 0, count: m)
            var i1 = i0
            var w = [Double](repeating: 0, count: m)
            for o in 0..<m where n > 0 {
                let u = original(o, scale: scales[d], n: n, m: m, t)
                let v = u.isNaN ? 0 : min(max(u, 0), Double(n - 1))
                i0[o] = Int(v.rounded(.down))
                i1[o] = min(i0[o] + 1, n - 1)
                w[o] = v - Double(i0[o])
            }
            if n == m, (0..<m).allSatisfy({ i0[$0] == $0 && w[$0] == 0 }) { continue }
            let outer = shape[..<d].reduce(1, *)
            let inner = shape[(d + 1)...].reduce(1, *)
            var next = [Double](repeating: 0, count: outer * m * inner)
            for b in 0..<outer {
                for o in 0..<m {
                    let a0 = (b * n + i0[o]) * inner
                    let a1 = (b * n + i1[o]) * inner
                    let dst = (b * m + o) * inner
                    let wo = w[o]
                    for j in 0..<inner { next[dst + j] = (1 - wo) * data[a0 + j] + wo * data[a1 + j] }
                }
            }
            data = next
            shape[d] = m
        }
        return Tensor(shape: out, floats: data.map { Float($0) })
    }

    /// The output shape for `scales` (floor(n·s) per axis; every scale finite and > 0).
    static func outputShape(_ node: Node, _ x: Tensor, _ scales: [Double]) throws -> [Int] {
        guard scales.count == x.rank, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ONNXError.invalid(node.name, "\(node.op) scales \(scales) for input \(x.shape)")
        }
        return try zip(x.shape, scales).map { n, s in
            let v = (Double(n) * s).rounded(.down)
            guard v <= Double(SliceOps.maxElements) else {
                throw ONNXError.unsupported(node.name, "\(node.op) of \(x.shape) by \(scales) is over 2^31 elements")
            }
            return Int(v)
        }
    }

    /// Load-time checks of Resize's attributes: modes known; cubic, tf_crop_and_resize and antialias refused.
    static func check(_ n: Node, _ opset: Int) throws {
        let mode = n.string("mode") ?? "nearest"
        if mode == "cubic" {
            throw ONNXError.unsupported(n.name, "\(n.op) mode cubic (nearest and linear are supported)")
        }
        guard mode == "nearest" || mode == "linear" else { throw ONNXError.invalid(n.name, "\(n.op) mode '\(mode)'") }
        guard n.op == "Resize", opset >= 11 else { return }
        let t = n.string("coordinate_transformation_mode") ?? "half_pixel"
        if t == "tf_crop_and_resize" { throw ONNXError.unsupported(n.name, "Resize coordinate transformation \(t)") }
        guard Transform(rawValue: t) != nil, t != "half_pixel_symmetric" || opset >= 19 else {
            throw ONNXError.invalid(n.name, "Resize coordinate_transformation_mode '\(t)'")
        }
        let near = n.string("nearest_mode") ?? "round_prefer_floor"
        guard let nm = Nearest(rawValue: near), nm != .simple else {
            throw ONNXError.invalid(n.name, "Resize nearest_mode '\(near)'")
        }
        if n.int("antialias", 0) != 0 { throw ONNXError.unsupported(n.name, "Resize antialias") }
        let policy = n.string("keep_aspect_ratio_policy") ?? "stretch"
        guard ["stretch", "not_larger", "not_smaller"].contains(policy) else {
            throw ONNXError.invalid(n.name, "Resize keep_aspect_ratio_policy '\(policy)'")
        }
    }

    /// Resize: opset 10 reads X and scales (asymmetric, `simple` nearest); from 11 X, roi (unused: crop modes are
    /// refused), scales, sizes — exactly one of the last two non-empty, over `axes` (18) or every axis.
    static func resizeNode(_ n: Node, _ x: Inputs, _ opset: Int) throws -> Tensor {
        let t = try x[0]
        let linear = (n.string("mode") ?? "nearest") == "linear"
        if opset < 11 {
            let scales = try x[1].asFloats.map { Double($0) }
            let out = try outputShape(n, t, scales)
            return try resize(n, t, scales: scales, out: out, linear: linear, .asymmetric, .simple)
        }
        let transform = Transform(rawValue: n.string("coordinate_transformation_mode") ?? "half_pixel") ?? .half_pixel
        let near = Nearest(rawValue: n.string("nearest_mode") ?? "round_prefer_floor") ?? .round_prefer_floor
        let axes = try (opset >= 18 ? n.ints("axes") : nil).map {
            try $0.map { try normalizeAxis($0, rank: t.rank, node: n.name) }
        }
        if let a = axes, Set(a).count != a.count { throw ONNXError.invalid(n.name, "Resize axes \(a) repeat an axis") }
        let given = x.optional(2).flatMap { $0.count > 0 ? $0.asFloats.map { Double($0) } : nil }
        let sizes = x.optional(3).flatMap { $0.count > 0 ? $0.asInts : nil }
        guard (given == nil) != (sizes == nil) else {
            throw ONNXError.invalid(n.name, "Resize needs exactly one of scales and sizes")
        }
        let listed = axes ?? Array(0..<t.rank)
        guard (given?.count ?? sizes?.count) == listed.count else {
            let what = given?.description ?? sizes?.description ?? "[]"
            throw ONNXError.invalid(n.name, "Resize scales/sizes \(what) for axes \(listed)")
        }
        if let g = given {
            var scales = [Double](repeating: 1, count: t.rank)
            for (i, a) in listed.enumerated() { scales[a] = g[i] }
            return try resize(n, t, scales: scales, out: outputShape(n, t, scales), linear: linear, transform, near)
        }
        if let policy = n.string("keep_aspect_ratio_policy"), policy != "stretch" {
            throw ONNXError.unsupported(n.name, "Resize keep_aspect_ratio_policy \(policy) (stretch is supported)")
        }
        var out = t.shape
        for (i, a) in listed.enumerated() { out[a] = sizes![i] }
        _ = try SliceOps.checkedCount(out, n)
        let scales = t.shape.indices.map { t.shape[$0] == 0 ? 1 : Double(out[$0]) / Double(t.shape[$0]) }
        return try resize(n, t, scales: scales, out: out, linear: linear, transform, near)
    }

    static let operators: [Operator] = [
        Operator("Resize", since: 10, check: check) { n, x, opset in [try resizeNode(n, x, opset)] },
        Operator("Upsample", check: check) { n, x, opset in
            let t = try x[0]
            var scales: [Double]
            if opset < 9 {
                guard case .floats(let f)? = n.attributes["scales"] else {
                    throw ONNXError.invalid(n.name, "Upsample needs a scales attribute")
                }
                scales = f.map { Double($0) }
            } else {
                scales = try x[1].asFloats.map { Double($0) }
            }
            let linear = (n.string("mode") ?? "nearest") == "linear"
            let out = try outputShape(n, t, scales)
            return [try resize(n, t, scales: scales, out: out, linear: linear, .asymmetric, .simple)]
        },
    ]
}
