import Foundation

/// Operators that index by data or accumulate along an axis, as exporters of language models write them:
/// GatherND and GatherElements (the dynamo exporter's pooling and mask lookups), CumSum (RoBERTa and OPT position
/// ids), Trilu (causal masks). All keep the data's dtype (float32 or int64).
enum IndexOps {
    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }

    /// An index into an axis of `size`, negative counting from the end, checked.
    static func wrap(_ i: Int, _ size: Int, _ node: Node) throws -> Int {
        let j = i < 0 ? i + size : i
        guard j >= 0, j < size else { throw ONNXError.invalid(node.name, "\(node.op) index \(i) out of range \(size)") }
        return j
    }

    /// Gathers `count` elements of x at the given offsets, keeping the dtype.
    static func pick(_ x: Tensor, shape: [Int], offsets: [Int]) -> Tensor {
        x.dtype == .float32
            ? Tensor(shape: shape, floats: offsets.map { x.floats[$0] })
            : Tensor(shape: shape, ints: offsets.map { x.ints[$0] })
    }

    /// GatherND (opset 11; batch_dims from 12): indices [..., k] address slices data[b..., i_0, …, i_{k−1}, ...];
    /// output shape indices.shape[:-1] + data.shape[b + k:]. O(output).
    static func gatherND(_ n: Node, _ data: Tensor, _ indices: Tensor) throws -> Tensor {
        let b = n.int("batch_dims", 0)
        let q = indices.rank
        let r = data.rank
        guard q >= 1, let k = indices.shape.last, b >= 0, b < min(q, r), k >= 1, b + k <= r,
            Array(indices.shape.prefix(b)) == Array(data.shape.prefix(b))
        else {
            throw ONNXError.invalid(
                n.name, "GatherND: indices \(indices.shape) do not fit data \(data.shape), batch_dims \(b)")
        }
        let ds = strides(data.shape)
        let idx = indices.asInts
        let batches = data.shape.prefix(b).reduce(1, *)
        let perBatch = indices.shape[b..<(q - 1)].reduce(1, *)
        let slice = data.shape[(b + k)...].reduce(1, *)
        let batchStride = b == 0 ? data.count : ds[b - 1]
        var offsets: [Int] = []
        offsets.reserveCapacity(batches * perBatch * slice)
        for bi in 0..<batches {
            for j in 0..<perBatch {
                var off = bi * batchStride
                for d in 0..<k { off += try wrap(idx[(bi * perBatch + j) * k + d], data.shape[b + d], n) * ds[b + d] }
                offsets.append(contentsOf: off..<(off + slice))
            }
        }
        return pick(data, shape: Array(indices.shape.dropLast()) + data.shape[(b + k)...], offsets: offsets)
    }

    /// GatherElements (opset 11): out[i] = data[i with axis replaced by indices[i]]; output shape indices.shape.
    static func gatherElements(_ n: Node, _ data: Tensor, _ indices: Tensor) throws -> Tensor {
        guard data.rank == indices.rank, data.rank > 0 else {
            throw ONNXError.invalid(
                n.name, "GatherElements: data \(data.shape) and indices \(indices.shape) differ in rank")
        }
        let axis = try normalizeAxis(n.int("axis", 0), rank: data.rank, node: n.name)
        for d in 0..<data.rank where d != axis && indices.shape[d] > data.shape[d] {
            throw ONNXError.invalid(n.name, "GatherElements: indices \(indices.shape) exceed data \(data.shape)")
        }
        let ds = strides(data.shape)
        let idx = indices.asInts
        var offsets = [Int](repeating: 0, count: indices.count)
        var pos = [Int](repeating: 0, count: indices.rank)
        for o in 0..<indices.count {
            var off = 0
            for d in 0..<data.rank { off += (d == axis ? try wrap(idx[o], data.shape[axis], n) : pos[d]) * ds[d] }
            offsets[o] = off
            var d = indices.rank - 1
            while d >= 0 {
                pos[d] += 1
                if pos[d] < indices.shape[d] { break }
                pos[d] = 0
                d -= 1
            }
        }
        return pick(data, shape: indices.shape, offsets: offsets)
    }

    /// CumSum (opset 11): running sums along `axis` (a scalar input), `exclusive` leaves out the element itself,
    /// `reverse` sums from the end. Float sums accumulate in Double, rounded once per element. O(count).
    static func cumSum(_ n: Node, _ x: Tensor, _ axisTensor: Tensor) throws -> Tensor {
        guard axisTensor.count == 1 else { throw ONNXError.invalid(n.name, "CumSum axis must be a scalar") }
        let axis = try normalizeAxis(axisTensor.asInts[0], rank: x.rank, node: n.name)
        let exclusive = n.int("exclusive", 0) != 0
        let reverse = n.int("reverse", 0) != 0
        let length = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape.prefix(axis).reduce(1, *)
        func run<T>(_ v: [T], _ zero: T, _ add: (T, T) -> T) -> [T] {
            var out = v
            for o in 0..<outer {
                for i in 0..<inner {
                    var acc = zero
                    for step in 0..<length {
                        let j = reverse ? length - 1 - step : step
                        let at = (o * length + j) * inner + i
                        if exclusive {
                            out[at] = acc
                            acc = add(acc, v[at])
                        } else {
                            acc = add(acc, v[at])
                            out[at] = acc
                        }
                    }
                }
            }
            return out
        }
        if x.dtype == .int64 { return Tensor(shape: x.shape, ints: run(x.ints, 0, &+)) }
        let sums = run(x.floats.map(Double.init), 0.0, +)
        return Tensor(shape: x.shape, floats: sums.map { Float($0) })
    }

    /// Trilu (opset 14): keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of the last two axes, zero
    /// elsewhere; k from the optional second input (default 0).
    static func trilu(_ n: Node, _ x: Tensor, _ kTensor: Tensor?) throws -> Tensor {
        guard x.rank >= 2 else { throw ONNXError.invalid(n.name, "Trilu needs rank >= 2, got \(x.shape)") }
        let k = kTensor?.asInts.first ?? 0
        let upper = n.int("upper", 1) != 0
        let rows = x.shape[x.rank - 2]
        let cols = x.shape[x.rank - 1]
        var out = x
        for at in 0..<x.count {
            let j = at % cols
            let i = (at / cols) % rows
            if upper ? j - i < k : j - i > k {
                if x.dtype == .float32 { out.floats[at] = 0 } else { out.ints[at] = 0 }
            }
        }
        return out
    }

    static let operators: [Operator] = [
        Operator("GatherND", since: 11) { n, x, _ in [try gatherND(n, x[0], x[1])] },
        Operator("GatherElements", since: 11) { n, x, _ in [try gatherElements(n, x[0], x[1])] },
        Operator("CumSum", since: 11) { n, x, _ in [try cumSum(n, x[0], x[1])] },
        Operator("Trilu", since: 14) { n, x, _ in [try trilu(n, x[0], x.optional(1))] },
    ]
}
