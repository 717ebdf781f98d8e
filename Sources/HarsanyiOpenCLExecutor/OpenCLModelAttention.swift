import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

/// Scaled dot-product attention as one kernel (`Kernels/nn_attention.cl`): the chain
///
///     S = MatMul(Q, Kt) → Mul or Div by a scalar constant → Add(mask) (0–2 times) → Softmax over the last axis
///       → [Cast to float, Identity] → MatMul(·, V)
///
/// that BERT, DistilBERT, RoBERTa, GPT-2, Llama and OPT exports write (both of torch's exporters), each
/// intermediate read only by the next node. The planner finds it at its first MatMul (`attentionChain`), defers the
/// chain's nodes, keeps its inputs alive to the last node, and there launches one work-group per query row instead
/// of five kernels and three [G, L, Lk] tensors. When the operands turn out not to fit (broadcast batch axes,
/// more than `maxKeys` keys), the deferred nodes are planned one by one as usual. O(G·L·Lk·(d + dv)) work either way;
/// the fused form never writes the scores to global memory. `OpenCLModel.Options.fuseAttention` = false turns it off.
struct AttentionChain {
    /// Step indices of the chain's nodes, in order (first: MatMul(Q, Kt); last: MatMul(P, V)).
    let steps: [Int]
    let q: String, kt: String, v: String
    /// The scale and whether the graph divides by it.
    let scale: Float, divide: Bool
    let masks: [String]
    let output: String

    /// What the chain's nodes read from outside it (kept alive until its last step).
    func inputs(_ steps: [Node]) -> Set<String> {
        let made = Set(self.steps.flatMap { steps[$0].outputs })
        return Set(self.steps.flatMap { steps[$0].inputs }.filter { !$0.isEmpty && !made.contains($0) })
    }
}

extension Planner {
    /// The longest key sequence fused (ATT_MAX_KEYS in nn_attention.cl) and the work-group size (ATT_LOCAL).
    static let maxKeys = 1024
    static let attentionLocal = 32

    /// The attention chain starting at step `i` (a MatMul), if the graph has one there.
    func attentionChain(at i: Int) -> AttentionChain? {
        let steps = model.steps
        guard model.options.fuseAttention, steps[i].op == "MatMul", steps[i].inputs.count == 2 else { return nil }
        var readers: [String: Int] = [model.outputName: 1]
        for n in steps { for x in n.inputs where !x.isEmpty { readers[x, default: 0] += 1 } }
        var indices = [i]
        var current = steps[i].outputs[0]
        var scale: Float = 1
        var divide = false
        var masks: [String] = []
        var sawSoftmax = false
        func next() -> (Int, Node)? {
            guard readers[current] == 1, current != model.outputName,
                let k = steps.indices.first(where: { $0 > indices.last! && steps[$0].inputs.contains(current) })
            else { return nil }
            return (k, steps[k])
        }
        while let (k, n) = next() {
            let others = n.inputs.filter { $0 != current && !$0.isEmpty }
            let beforeSoftmax = !sawSoftmax
            switch n.op {
            case "Mul" where beforeSoftmax && masks.isEmpty && indices.count == 1,
                "Div" where beforeSoftmax && masks.isEmpty && indices.count == 1:
                guard others.count == 1, n.op == "Mul" || n.inputs[0] == current,
                    case .host(let t)? = values[others[0]], t.count == 1
                else { return nil }
                scale = t.asFloats[0]
                divide = n.op == "Div"
            case "Add" where beforeSoftmax && masks.count < 2:
                guard others.count == 1 else { return nil }
                masks.append(others[0])
            case "Softmax" where beforeSoftmax:
                sawSoftmax = true  // its axis is checked with the shapes, at the launch
            case "Cast" where sawSoftmax && n.int("to", 1) == 1, "Identity" where sawSoftmax:
                break
            case "MatMul" where sawSoftmax && n.inputs.count == 2 && n.inputs[0] == current:
                indices.append(k)
                return AttentionChain(
                    steps: indices, q: steps[i].inputs[0], kt: steps[i].inputs[1], v: n.inputs[1], scale: scale,
                    divide: divide, masks: masks, output: n.outputs[0])
            default:
                return nil
            }
            indices.append(k)
            current = n.outputs[0]
        }
        return nil
    }

    /// Plans a deferred chain at its last step: the fused launch when the operands fit, else node by node.
    func planAttention(_ c: AttentionChain) throws {
        currentNode = model.steps[c.steps.last!].name
        if try !fuse(c) {
            for k in c.steps {
                let n = model.steps[k]
                currentNode = n.name
                try plan(n)
            }
            // The chain's intermediates are read only inside it: their buffers are free again.
            for k in c.steps.dropLast() { for o in model.steps[k].outputs where !o.isEmpty { release(o) } }
        }
        currentNode = model.steps[c.steps.last!].name
    }

    /// The fused launch; false (nothing planned) when the shapes do not fit the kernel.
    private func fuse(_ c: AttentionChain) throws -> Bool {
        let softmax = model.steps[c.steps.first { model.steps[$0].op == "Softmax" }!]
        guard case .device(let q)? = values[c.q], case .device(let kt)? = values[c.kt], values[c.v] != nil,
            q.shape.count >= 2, q.shape.count == kt.shape.count
        else { return false }
        let rank = q.shape.count
        let lead = Array(q.shape.prefix(rank - 2))
        let L = q.shape[rank - 2]
        let d = q.shape[rank - 1]
        let Lk = kt.shape[rank - 1]
        let scores = lead + [L, Lk]
        let axis = softmax.int("axis", model.opset >= 13 ? -1 : 1)
        guard Array(kt.shape.prefix(rank - 2)) == lead, kt.shape[rank - 2] == d, Lk <= Self.maxKeys, Lk > 0,
            axis == -1 || axis == rank - 1
        else { return false }
        let n = model.steps[c.steps.last!]
        let v = try device(n, 1)
        guard v.shape.count == rank, Array(v.shape.prefix(rank - 2)) == lead, v.shape[rank - 2] == Lk else {
            return false
        }
        let dv = v.shape[rank - 1]
        let rows = lead.reduce(1, *) * L
        var maskArgs: [Launch.A] = []
        for name in c.masks {
            let addNode = model.steps[
                c.steps.first { model.steps[$0].op == "Add" && model.steps[$0].inputs.contains(name) }!]
            let m = try device(addNode, addNode.inputs[0] == name ? 0 : 1)
            guard ShapeRules.broadcastShape(m.shape, scores) == scores else { return false }
            let st = ShapeRules.broadcastStrides(m.shape, to: scores)
            var offsets = [Int](repeating: 0, count: rows)
            for r in 0..<rows {
                var g = r / L
                var off = (r % L) * st[rank - 2]
                for a in stride(from: rank - 3, through: 0, by: -1) {
                    off += (g % scores[a]) * st[a]
                    g /= scores[a]
                }
                offsets[r] = off
            }
            maskArgs += [arg(m), .arg(.buffer(try ints(offsets))), .arg(.uint(UInt32(st[rank - 1])))]
        }
        try checkIndexable(n, [q, kt, v])
        let y = try allocate(c.output, lead + [L, dv])
        let none = maskArgs.isEmpty ? [arg(q), .arg(.buffer(try ints([0]))), .arg(.uint(0))] : Array(maskArgs[0..<3])
        let masks = maskArgs + Array(repeating: none, count: 2 - c.masks.count).flatMap { $0 }
        launch(
            "nn_attention", "attention", global: rows * Self.attentionLocal, local: Self.attentionLocal,
            [arg(q), arg(kt), arg(v), arg(y)] + masks + [
                .arg(.uint(UInt32(c.masks.count))), .arg(.real(Double(c.scale))), .arg(.uint(c.divide ? 1 : 0)),
                .arg(.uint(UInt32(L))), .arg(.uint(UInt32(Lk))), .arg(.uint(UInt32(d))), .arg(.uint(UInt32(dv))),
            ])
        return true
    }
}
