import Foundation

/// Operators that select, repeat or create data: Slice, Split, Expand, Tile, ConstantOfShape, Range (Pad is in
/// `Ops+Pad.swift`). The data movers keep the input's dtype (float32 or int64) and share one gather, `take`.
enum SliceOps {
    /// The largest output these operators allocate (elements).
    static let maxElements = 1 << 31

    /// The element count of `shape`, refusing negative dimensions and counts over 2^31 (overflow-safe).
    static func checkedCount(_ shape: [Int], _ node: Node) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else {
                throw ONNXError.invalid(node.name, "\(node.op) output shape \(shape) has a negative axis")
            }
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, m <= maxElements else {
                throw ONNXError.unsupported(node.name, "\(node.op) output shape \(shape) is over 2^31 elements")
            }
            n = m
        }
        return n
    }

    /// A gather over separable per-axis maps: output element o (multi-index o_0 … o_{r-1} in `shape`) reads
    /// the input at offset Σ_d maps[d][o_d], or `fill` when any maps[d][o_d] is negative. Slice, Expand, Tile,
    /// Pad, Split, permutations and nearest Resize are all this gather. The dtype of `x` is kept (`fill` must
    /// hold a value of it when any map entry is negative). O(count · 1) amortised: an odometer over the outer
    /// axes and a tight loop over the innermost one. `shape` must already be size-checked.
    static func take(_ x: Tensor, shape: [Int], maps: [[Int]], fill: (Float, Int64) = (0, 0)) -> Tensor {
        let count = shape.reduce(1, *)
        func run<T>(_ data: [T], _ pad: T) -> [T] {
            guard count > 0 else { return [] }
            guard !shape.isEmpty else { return [data[0]] }
            var out = [T](repeating: pad, count: count)
            let last = shape.count - 1
            let inner = maps[last]
            var idx = [Int](repeating: 0, count: shape.count)
            var o = 0
            // Every map has its axis's length and stays inside the input (checked: a wrong map must trap here,
            // not write past the output in a release build).
            precondition(
                maps.count == shape.count && zip(maps, shape).allSatisfy { $0.count == $1 },
                "take: maps do not match \(shape)")
            precondition(
                maps.reduce(0) { $0 + ($1.max() ?? 0) } < Swift.max(data.count, 1), "take: a map leaves the input")
            out.withUnsafeMutableBufferPointer { dst in
                data.withUnsafeBufferPointer { src in
                    while o < count {
                        var base = 0
                        var outside = false
                        for d in 0..<last {
                            let m = maps[d][idx[d]]
                            if m < 0 { outside = true }
                            base += m
                        }
                        if !outside {
                            for j in 0..<inner.count where inner[j] >= 0 { dst[o + j] = src[base + inner[j]] }
                        }
                        o += inner.count
                        var d = last - 1
                        while d >= 0 {
                            idx[d] += 1
                            if idx[d] < shape[d] { break }
                            idx[d] = 0
                            d -= 1
                        }
                    }
                }
            }
            return out
        }
        return x.dtype == .float32
            ? Tensor(shape: shape, floats: run(x.floats, fill.0))
            : Tensor(shape: shape, ints: run(x.ints, fill.1))
    }

    /// `x` with its axes permuted: output axis i is input axis perm[i] (a transpose through `take`).
    static func permute(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let st = strides(x.shape)
        return take(x, shape: perm.map { x.shape[$0] }, maps: perm.map { a in (0..<x.shape[a]).map { $0 * st[a] } })
    }

    /// Slice. Per sliced axis of size n with start s, end e, step k ≠ 0: negatives get n added, then s is clamped
    /// to [0, n] (k > 0) or [0, n − 1] (k < 0) and e to [0, n] or [−1, n − 1] (so INT64_MAX and INT64_MIN reach
    /// the ends); the axis keeps max(0, ⌈(e − s) / k⌉) elements s, s + k, … O(output).
    static func slice(_ node: Node, _ x: Tensor, starts: [Int], ends: [Int], axes axesIn: [Int]?, steps stepsIn: [Int]?)
        throws -> Tensor
    {
        let axes = try (axesIn ?? Array(0..<starts.count)).map { try normalizeAxis($0, rank: x.rank, node: node.name) }
        let steps = stepsIn ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw ONNXError.invalid(
                node.name, "Slice starts \(starts), ends \(ends), axes \(axes), steps \(steps) differ in length")
        }
        guard Set(axes).count == axes.count else {
            throw ONNXError.invalid(node.name, "Slice axes \(axes) repeat an axis")
        }
        guard !steps.contains(0) else { throw ONNXError.invalid(node.name, "Slice step 0") }
        var first = [Int](repeating: 0, count: x.rank)
        var step = [Int](repeating: 1, count: x.rank)
        var shape = x.shape
        for (i, a) in axes.enumerated() {
            let n = x.shape[a]
            let k = steps[i]
            // Clamp before adding n so that INT64_MIN + n cannot overflow.
            var s = starts[i] < 0 ? max(starts[i], -n) + n : starts[i]
            var e = ends[i] < 0 ? max(ends[i], -n - 1) + n : ends[i]
            if k > 0 {
                s = min(max(s, 0), n)
                e = min(max(e, 0), n)
            } else {
                s = min(max(s, 0), n - 1)
                e = min(max(e, -1), n - 1)
            }
            let span = k > 0 ? e - s : s - e
            let mag = k > 0 ? k : (k == Int.min ? Int.max : -k)
            shape[a] = span <= 0 ? 0 : (span - 1) / mag + 1
            (first[a], step[a]) = (s, k)
        }
        _ = try checkedCount(shape, node)
        let st = strides(x.shape)
        let maps = (0..<x.rank).map { a in (0..<shape[a]).map { (first[a] + $0 * step[a]) * st[a] } }
        return take(x, shape: shape, maps: maps)
    }

    /// Split along `axis` into pieces of the given sizes (Σ sizes = the axis' size). O(input).
    static func split(_ node: Node, _ x: Tensor, sizes: [Int]) throws -> [Tensor] {
        let axis = try normalizeAxis(node.int("axis", 0), rank: x.rank, node: node.name)
        guard sizes.allSatisfy({ $0 >= 0 && $0 <= x.shape[axis] }), sizes.reduce(0, +) == x.shape[axis] else {
            throw ONNXError.invalid(node.name, "Split sizes \(sizes) do not add up to axis \(axis) of \(x.shape)")
        }
        let st = strides(x.shape)
        var begin = 0
        return sizes.map { size in
            var shape = x.shape
            shape[axis] = size
            let maps = (0..<x.rank).map { a in (0..<shape[a]).map { ((a == axis ? begin : 0) + $0) * st[a] } }
            begin += size
            return take(x, shape: shape, maps: maps)
        }
    }

    /// The piece sizes of Split: the `split` attribute (opset < 13) or input (13+), else `num_outputs` (18+:
    /// pieces of ⌈n / k⌉, the last smaller), else an equal split into one piece per output (must divide).
    static func splitSizes(_ node: Node, _ x: Inputs, _ opset: Int) throws -> [Int] {
        let t = try x[0]
        let axis = try normalizeAxis(node.int("axis", 0), rank: t.rank, node: node.name)
        let n = t.shape[axis]
        let given = opset < 13 ? node.ints("split") : x.optional(1).flatMap { $0.count > 0 ? $0.asInts : nil }
        let parts = node.outputs.count
        if let sizes = given {
            guard sizes.count == parts else {
                throw ONNXError.invalid(node.name, "Split into \(sizes.count) sizes \(sizes) for \(parts) outputs")
            }
            return sizes
        }
        if opset >= 18, case .int(let k)? = node.attributes["num_outputs"] {
            guard k >= 1, k == parts else {
                throw ONNXError.invalid(node.name, "Split num_outputs \(k) for \(parts) outputs")
            }
            let chunk = (n + k - 1) / k
            guard n - chunk * (k - 1) >= 0 else {
                throw ONNXError.invalid(node.name, "Split of size \(n) into \(k) chunks of \(chunk): no last chunk")
            }
            return [Int](repeating: chunk, count: k - 1) + [n - chunk * (k - 1)]
        }
        guard parts >= 1, n % parts == 0 else {
            throw ONNXError.invalid(node.name, "Split of axis size \(n) into \(parts) equal parts")
        }
        return [Int](repeating: n / parts, count: parts)
    }

    /// Expand: numpy broadcast of x to `target`; the result shape is broadcast(x.shape, target), which may
    /// be larger than target. O(output).
    static func expand(_ node: Node, _ x: Tensor, _ target: [Int]) throws -> Tensor {
        guard target.allSatisfy({ $0 >= 0 }), let shape = Elementwise.broadcastShape(x.shape, target) else {
            throw ONNXError.invalid(node.name, "Expand cannot broadcast \(x.shape) to \(target)")
        }
        _ = try checkedCount(shape, node)
        let bs = Elementwise.broadcastStrides(x.shape, to: shape)
        return take(x, shape: shape, maps: shape.indices.map { a in (0..<shape[a]).map { $0 * bs[a] } })
    }

    /// Tile: output axis d has size n_d · r_d and reads input index o mod n_d. O(output).
    static func tile(_ node: Node, _ x: Tensor, _ repeats: [Int]) throws -> Tensor {
        guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw ONNXError.invalid(node.name, "Tile repeats \(repeats) for input \(x.shape)")
        }
        var shape: [Int] = []
        for (d, r) in zip(x.shape, repeats) {
            let (m, overflow) = d.multipliedReportingOverflow(by: r)
            guard !overflow else {
                throw ONNXError.unsupported(node.name, "Tile of \(x.shape) by \(repeats) is too large")
            }
            shape.append(m)
        }
        _ = try checkedCount(shape, node)
        let st = strides(x.shape)
        return take(x, shape: shape, maps: shape.indices.map { a in (0..<shape[a]).map { ($0 % x.shape[a]) * st[a] } })
    }

    /// ConstantOfShape: a tensor of `shape` (1-D int64 input; empty = scalar) filled with the one value of the
    /// `value` attribute (default float 0), in that value's dtype. O(output).
    static func constantOfShape(_ node: Node, _ shapeInput: Tensor) throws -> Tensor {
        guard shapeInput.rank <= 1 else { throw ONNXError.invalid(node.name, "ConstantOfShape shape must be 1-D") }
        let shape = shapeInput.asInts
        let n = try checkedCount(shape, node)
        var value = Tensor(shape: [1], floats: [0])
        if case .tensor(let t)? = node.attributes["value"] { value = t }
        guard value.count == 1 else {
            throw ONNXError.invalid(node.name, "ConstantOfShape value must hold one element")
        }
        return value.dtype == .int64
            ? Tensor(shape: shape, ints: [Int64](repeating: value.ints[0], count: n))
            : Tensor(shape: shape, floats: [Float](repeating: value.floats[0], count: n))
    }

    /// Range: start, start + δ, … while before limit; count = max(⌈(limit − start) / δ⌉, 0); int64 when all
    /// three inputs are int64, else float (values start + i·δ computed in Double). O(count).
    static func range(_ node: Node, _ x: Inputs) throws -> Tensor {
        let s = try x[0]
        let l = try x[1]
        let d = try x[2]
        guard s.count == 1, l.count == 1, d.count == 1 else {
            throw ONNXError.invalid(node.name, "Range inputs must be scalars")
        }
        if s.dtype == .int64, l.dtype == .int64, d.dtype == .int64 {
            let a = s.ints[0]
            let b = l.ints[0]
            let k = d.ints[0]
            guard k != 0 else { throw ONNXError.invalid(node.name, "Range delta 0") }
            let n = max(0, (Double(b) - Double(a)) / Double(k)).rounded(.up)
            guard n <= Double(maxElements) else { throw ONNXError.unsupported(node.name, "Range of \(n) elements") }
            return Tensor(shape: [Int(n)], ints: (0..<Int(n)).map { a &+ Int64($0) &* k })
        }
        let a = Double(s.asFloats[0])
        let b = Double(l.asFloats[0])
        let k = Double(d.asFloats[0])
        guard k != 0, a.isFinite, b.isFinite, k.isFinite else {
            throw ONNXError.invalid(node.name, "Range start \(a), limit \(b), delta \(k)")
        }
        let n = max(0, ((b - a) / k).rounded(.up))
        guard n <= Double(maxElements) else { throw ONNXError.unsupported(node.name, "Range of \(n) elements") }
        return Tensor(shape: [Int(n)], floats: (0..<Int(n)).map { Float(a + Double($0) * k) })
    }

    static let operators: [Operator] = [
        Operator("Slice") { n, x, opset in
            if opset < 10 {
                guard let s = n.ints("starts"), let e = n.ints("ends") else {
                    throw ONNXError.invalid(n.name, "Slice needs starts and ends attributes")
                }
                return [try slice(n, x[0], starts: s, ends: e, axes: n.ints("axes"), steps: nil)]
            }
            return [
                try slice(
                    n, x[0], starts: x[1].asInts, ends: x[2].asInts, axes: x.optional(3)?.asInts,
                    steps: x.optional(4)?.asInts)
            ]
        },
        Operator("Split") { n, x, opset in try split(n, x[0], sizes: splitSizes(n, x, opset)) },
        Operator("Expand", since: 8) { n, x, _ in [try expand(n, x[0], x[1].asInts)] },
        Operator("Tile") { n, x, _ in [try tile(n, x[0], x[1].asInts)] },
        Operator("ConstantOfShape", since: 9) { n, x, _ in [try constantOfShape(n, x[0])] },
        Operator("Range", since: 11) { n, x, _ in [try range(n, x)] },
    ]
}
