import Foundation

/// Einsum: explicit (`->`) and implicit equations, repeated letters (diagonals), and an ellipsis `...`
/// (numpy-broadcast over the dimensions it covers).
enum EinsumOps {
    /// A parsed equation: each operand's labels (one per axis) and the output's labels. Labels are letters;
    /// ellipsis dimensions get private labels (scalars from U+0100), right-aligned across the operands.
    struct Equation {
        var inputs: [[Character]]
        var output: [Character]
    }

    /// Parses `equation` for operands of the given ranks. Implicit output: the ellipsis labels, then the letters
    /// that appear exactly once over all operands, in alphabetical order. O(length of the equation).
    static func parse(_ node: Node, _ equation: String, ranks: [Int]) throws -> Equation {
        let eq = equation.filter { !$0.isWhitespace }
        let halves = eq.components(separatedBy: "->")
        guard halves.count <= 2 else { throw ONNXError.invalid(node.name, "Einsum equation '\(equation)'") }
        let terms = halves[0].components(separatedBy: ",")
        guard terms.count == ranks.count else {
            throw ONNXError.invalid(
                node.name, "Einsum equation '\(equation)' has \(terms.count) operands for \(ranks.count) inputs")
        }
        func letters(_ s: String) throws -> [Character] {
            guard s.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ONNXError.invalid(node.name, "Einsum equation '\(equation)': term '\(s)'")
            }
            return Array(s)
        }
        // Splits a term around its ellipsis: (letters before, letters after, has ellipsis).
        func pieces(_ term: String) throws -> ([Character], [Character], Bool) {
            let p = term.components(separatedBy: "...")
            guard p.count <= 2 else { throw ONNXError.invalid(node.name, "Einsum term '\(term)' has two ellipses") }
            return (try letters(p[0]), p.count == 2 ? try letters(p[1]) : [], p.count == 2)
        }
        let parsed = try terms.map(pieces)
        var ellipsisRank = 0
        for (i, (a, b, has)) in parsed.enumerated() {
            let k = ranks[i] - a.count - b.count
            guard has ? k >= 0 : k == 0 else {
                throw ONNXError.invalid(node.name, "Einsum term '\(terms[i])' for an input of rank \(ranks[i])")
            }
            ellipsisRank = max(ellipsisRank, k)
        }
        let dots = (0..<ellipsisRank).map { Character(Unicode.Scalar(0x100 + $0)!) }
        let inputs = parsed.enumerated().map { i, p in
            p.0 + (p.2 ? Array(dots.suffix(ranks[i] - p.0.count - p.1.count)) : []) + p.1
        }
        var output: [Character]
        if halves.count == 2 {
            let (a, b, has) = try pieces(halves[1])
            output = a + (has ? dots : []) + b
            // Labels (and ellipsis dimensions) left out of the output are summed over.
            let all = Set(inputs.joined())
            guard Set(output).count == output.count, output.allSatisfy(all.contains) else {
                throw ONNXError.invalid(node.name, "Einsum output '\(halves[1])' of '\(equation)'")
            }
        } else {
            let counts = Dictionary(inputs.joined().filter { !dots.contains($0) }.map { ($0, 1) }, uniquingKeysWith: +)
            output = dots + counts.keys.filter { counts[$0] == 1 }.sorted()
        }
        return Equation(inputs: inputs, output: output)
    }

    /// The size of every label: equal wherever it appears, except that an ellipsis label of size 1 broadcasts.
    static func sizes(_ node: Node, _ eq: Equation, _ xs: [Tensor]) throws -> [Character: Int] {
        var size: [Character: Int] = [:]
        for (labels, x) in zip(eq.inputs, xs) {
            for (c, n) in zip(labels, x.shape) {
                let dot = c.unicodeScalars.first!.value >= 0x100
                if let s = size[c], s != n {
                    guard dot, s == 1 || n == 1 else {
                        throw ONNXError.invalid(node.name, "Einsum label '\(c)' has sizes \(s) and \(n)")
                    }
                    size[c] = max(s, n)
                } else {
                    size[c] = n
                }
            }
        }
        return size
    }

    /// Einsum: out[o] = Σ over the contracted labels c of Π_k x_k[labels of k at (o, c)].
    ///
    /// Batched matmuls (two operands, each label once per operand, every label of the output in an operand,
    /// no broadcasting, every non-output label shared) run as out[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] after
    /// permuting both operands: loop order b, m, k, n with the n loop contiguous, O(B·M·K·N). Everything else is
    /// the naive loop over the output × contracted index space in Double, O(|out| · |contracted| · operands).
    /// The result is int64 when every input is int64, else float32.
    static func einsum(_ node: Node, _ xs: [Tensor]) throws -> Tensor {
        guard let equation = node.string("equation") else {
            throw ONNXError.invalid(node.name, "Einsum needs an equation")
        }
        let eq = try parse(node, equation, ranks: xs.map(\.rank))
        let size = try sizes(node, eq, xs)
        let outShape = eq.output.map { size[$0]! }
        let count = try SliceOps.checkedCount(outShape, node)
        let isInt = xs.allSatisfy { $0.dtype == .int64 }
        func result(_ v: [Double]) -> Tensor {
            isInt
                ? Tensor(shape: outShape, ints: v.map { $0.isFinite ? Int64(max(-0x1p62, min(0x1p62, $0))) : 0 })
                : Tensor(shape: outShape, floats: v.map { Float($0) })
        }
        if let v = batchedMatmul(eq, xs, size) { return result(v) }
        let contracted = Array(Set(eq.inputs.joined()).subtracting(eq.output)).sorted()
        let cShape = contracted.map { size[$0]! }
        let inner = cShape.reduce(1, *)
        guard inner == 0 || count <= (1 << 36) / max(inner, 1) else {
            throw ONNXError.unsupported(node.name, "Einsum '\(equation)': \(count) outputs × \(inner) terms, too many")
        }
        // Each operand's stride per label (summed over repeats: a diagonal), 0 where a broadcast or absent label.
        let labels = eq.output + contracted
        let dims = outShape + cShape
        let st: [[Int]] = zip(eq.inputs, xs).map { lab, x in
            let s = strides(x.shape)
            return labels.map { c in
                lab.indices.filter { lab[$0] == c && x.shape[$0] != 1 }.map { s[$0] }.reduce(0, +)
            }
        }
        let data = xs.map { $0.asFloats.map { Double($0) } }
        var out = [Double](repeating: 0, count: count)
        var idx = [Int](repeating: 0, count: labels.count)
        var off = [Int](repeating: 0, count: xs.count)
        for flat in 0..<(count * inner) {
            var p = 1.0
            for k in xs.indices { p *= data[k][off[k]] }
            out[flat / max(inner, 1)] += p
            var d = labels.count - 1
            while d >= 0 {
                idx[d] += 1
                for k in xs.indices { off[k] += st[k][d] }
                if idx[d] < dims[d] { break }
                for k in xs.indices { off[k] -= st[k][d] * dims[d] }
                idx[d] = 0
                d -= 1
            }
        }
        return result(out)
    }

    /// The batched-matmul fast path of `einsum` (nil when the equation is not one).
    static func batchedMatmul(_ eq: Equation, _ xs: [Tensor], _ size: [Character: Int]) -> [Double]? {
        guard xs.count == 2 else { return nil }
        let a = eq.inputs[0]
        let b = eq.inputs[1]
        let out = eq.output
        guard Set(a).count == a.count, Set(b).count == b.count, out.allSatisfy({ a.contains($0) || b.contains($0) }),
            zip(a, xs[0].shape).allSatisfy({ size[$0.0] == $0.1 }),
            zip(b, xs[1].shape).allSatisfy({ size[$0.0] == $0.1 })
        else { return nil }
        let batch = out.filter { a.contains($0) && b.contains($0) }
        let m = out.filter { a.contains($0) && !b.contains($0) }
        let n = out.filter { b.contains($0) && !a.contains($0) }
        let k = a.filter { b.contains($0) && !out.contains($0) }
        guard (a + b).allSatisfy({ out.contains($0) || k.contains($0) }) else { return nil }
        let nb = batch.reduce(1) { $0 * size[$1]! }
        let nm = m.reduce(1) { $0 * size[$1]! }
        let nn = n.reduce(1) { $0 * size[$1]! }
        let nk = k.reduce(1) { $0 * size[$1]! }
        let pa = SliceOps.permute(xs[0], (batch + m + k).map { a.firstIndex(of: $0)! }).asFloats
        let pb = SliceOps.permute(xs[1], (batch + k + n).map { b.firstIndex(of: $0)! }).asFloats
        var c = [Double](repeating: 0, count: nb * nm * nn)
        for bi in 0..<nb {
            for i in 0..<nm {
                let row = (bi * nm + i) * nn
                for kk in 0..<nk {
                    let av = Double(pa[(bi * nm + i) * nk + kk])
                    let bRow = (bi * nk + kk) * nn
                    for j in 0..<nn { c[row + j] += av * Double(pb[bRow + j]) }
                }
            }
        }
        // c is laid out as batch + m + n; permute to the output's label order.
        let canon = batch + m + n
        let st = strides(canon.map { size[$0]! })
        var res = [Double](repeating: 0, count: c.count)
        let perm = out.map { canon.firstIndex(of: $0)! }
        let outShape = out.map { size[$0]! }
        let os = strides(outShape)
        for o in 0..<c.count {
            var r = o
            var src = 0
            for d in out.indices {
                let q = r / os[d]
                r -= q * os[d]
                src += q * st[perm[d]]
            }
            res[o] = c[src]
        }
        return res
    }

    static let operators: [Operator] = [
        Operator("Einsum", since: 12) { n, x, _ in [try einsum(n, x.present)] }
    ]
}
