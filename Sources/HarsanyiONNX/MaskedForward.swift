import Foundation
import HarsanyiCore

/// Who the players are: lists of element indices into one flattened input sample.
public enum PlayerSpec: Sendable, Equatable {
    /// An image's H × W split into R × C cells (all channels of a cell together); player r·C + c.
    case grid(rows: Int, columns: Int)
    /// Tabular columns: player k is feature i_k.
    case features([Int])
    /// Sequence positions: player k is every element at position p_k (the first axis of the sample).
    case positions([Int])
    /// Explicit element lists from a JSON file: {"players": [[i, j, ...], ...]}.
    case groups(String)

    /// Parses `grid:RxC`, `features:i,j,...`, `positions:p,q,...` or `groups:FILE.json`.
    public static func parse(_ text: String) throws -> PlayerSpec {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw HarsanyiError.invalidArgument("--players '\(text)': expected grid:RxC, features:..., positions:... or groups:FILE") }
        func list(_ s: String) throws -> [Int] {
            try s.split(separator: ",").map {
                guard let i = Int($0.trimmingCharacters(in: .whitespaces)), i >= 0 else { throw HarsanyiError.invalidArgument("--players: '\($0)' is not an index") }
                return i
            }
        }
        switch parts[0] {
        case "grid":
            let rc = parts[1].lowercased().split(separator: "x").compactMap { Int($0) }
            guard rc.count == 2, rc[0] > 0, rc[1] > 0 else { throw HarsanyiError.invalidArgument("--players grid:\(parts[1]): expected RxC, e.g. grid:4x4") }
            return .grid(rows: rc[0], columns: rc[1])
        case "features": return .features(try list(parts[1]))
        case "positions": return .positions(try list(parts[1]))
        case "groups": return .groups(parts[1])
        default: throw HarsanyiError.invalidArgument("--players kind '\(parts[0])': expected grid, features, positions or groups")
        }
    }

    /// The element lists for a sample of `shape` (without the batch dimension).
    public func resolve(sampleShape shape: [Int]) throws -> [[Int]] {
        let count = shape.reduce(1, *)
        let players: [[Int]]
        switch self {
        case .grid(let R, let C):
            guard shape.count >= 2 else { throw HarsanyiError.invalidArgument("grid players need an image input (…, H, W), got sample shape \(shape)") }
            let H = shape[shape.count - 2], W = shape[shape.count - 1], channels = count / (H * W)
            guard R <= H, C <= W else { throw HarsanyiError.invalidArgument("grid \(R)x\(C) is finer than the \(H)x\(W) image") }
            players = (0..<(R * C)).map { p in
                let r = p / C, c = p % C
                var idx: [Int] = []
                for ch in 0..<channels {
                    for y in (r * H / R)..<((r + 1) * H / R) { for x in (c * W / C)..<((c + 1) * W / C) { idx.append((ch * H + y) * W + x) } }
                }
                return idx
            }
        case .features(let f):
            players = f.map { [$0] }
        case .positions(let ps):
            guard let T = shape.first else { throw HarsanyiError.invalidArgument("positions need a sequence input, got a scalar sample") }
            let per = count / max(T, 1)
            players = try ps.map { p in
                guard p < T else { throw HarsanyiError.invalidArgument("position \(p) is beyond the sequence length \(T)") }
                return Array((p * per)..<((p + 1) * per))
            }
        case .groups(let file):
            guard let data = FileManager.default.contents(atPath: file) else { throw HarsanyiError.io(path: file, reason: "cannot read the players file") }
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let raw = json["players"] as? [[Int]] else {
                throw HarsanyiError.badFile(path: file, reason: "expected {\"players\": [[element indices], ...]}")
            }
            players = raw
        }
        guard !players.isEmpty else { throw HarsanyiError.invalidArgument("no players") }
        guard players.count <= Sparsifier.maxPlayers else { throw HarsanyiError.unsupported("\(players.count) players: at most \(Sparsifier.maxPlayers)") }
        var seen = Set<Int>()
        for (k, p) in players.enumerated() {
            guard !p.isEmpty else { throw HarsanyiError.invalidArgument("player \(k) has no elements") }
            for i in p {
                guard i >= 0, i < count else { throw HarsanyiError.invalidArgument("player \(k): element \(i) is outside the sample (\(count) elements)") }
                guard seen.insert(i).inserted else { throw HarsanyiError.invalidArgument("element \(i) belongs to two players") }
            }
        }
        return players
    }
}

/// What masked elements are replaced with.
public enum Baseline: Sendable, Equatable {
    case zero
    case value(Float)
    /// Per-element mean over data, from a .npy of the sample's shape.
    case mean(String)
    /// An explicit baseline sample, from a .npy of the sample's shape.
    case tensor(String)

    public static func parse(_ text: String) throws -> Baseline {
        if text == "zero" { return .zero }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw HarsanyiError.invalidArgument("--baseline '\(text)': expected zero, value:X, mean:FILE.npy or tensor:FILE.npy") }
        switch parts[0] {
        case "value":
            guard let x = Float(parts[1]), x.isFinite else { throw HarsanyiError.invalidArgument("--baseline value:\(parts[1]) is not a number") }
            return .value(x)
        case "mean": return .mean(parts[1])
        case "tensor": return .tensor(parts[1])
        default: throw HarsanyiError.invalidArgument("--baseline kind '\(parts[0])': expected zero, value, mean or tensor")
        }
    }

    public func resolve(count: Int) throws -> [Float] {
        switch self {
        case .zero: return [Float](repeating: 0, count: count)
        case .value(let x): return [Float](repeating: x, count: count)
        case .mean(let f), .tensor(let f):
            let a = try NPY.read(f)
            guard a.count == count else { throw HarsanyiError.badFile(path: f, reason: "baseline has \(a.count) elements; the sample has \(count)") }
            let v = a.floats()
            guard v.allSatisfy(\.isFinite) else { throw HarsanyiError.badFile(path: f, reason: "baseline has NaN or infinite values") }
            return v
        }
    }
}

/// The scalar v(x) taken from the model's output row z (spec §2).
public enum RewardKind: String, Sendable, CaseIterable {
    /// log p_y / (1 − p_y) = z_y − logsumexp_{c≠y} z_c (stable form; the default of the papers).
    case logOdds = "log-odds"
    /// z_y.
    case logit
    /// log p_y = z_y − logsumexp_c z_c.
    case logProbability = "log-prob"
    /// p_y.
    case probability = "prob"
    /// A single-logit binary model: v = z if y = 1 else −z (the log-odds of a sigmoid).
    case binary

    public func value(_ z: ArraySlice<Float>, target y: Int) -> Double {
        let zs = z.map(Double.init)
        func lse(_ xs: [Double]) -> Double {
            guard let m = xs.max(), m.isFinite else { return xs.max() ?? -.infinity }
            return m + log(xs.reduce(0) { $0 + exp($1 - m) })
        }
        switch self {
        case .logOdds:
            var others = zs
            others.remove(at: y)
            return zs[y] - lse(others)
        case .logit: return zs[y]
        case .logProbability: return zs[y] - lse(zs)
        case .probability: return exp(zs[y] - lse(zs))
        case .binary: return y == 1 ? zs[0] : -zs[0]
        }
    }
}

/// The 2^n masked forward passes of one sample, in batches, on the CPU path.
public struct MaskedForward {
    public var model: ONNXModel
    /// The sample, flattened, and its shape without the batch dimension.
    public var sample: [Float]
    public var sampleShape: [Int]
    public var players: [[Int]]
    public var baseline: [Float]
    /// Elements in no player: present (false) or always masked (true).
    public var maskBackground: Bool
    public var batchSize: Int

    public init(model: ONNXModel, sample: [Float], sampleShape: [Int], players: [[Int]], baseline: [Float], maskBackground: Bool = false,
                batchSize: Int = 256) throws {
        guard baseline.count == sample.count else { throw HarsanyiError.invalidArgument("baseline and sample sizes differ") }
        self.model = model
        self.sample = sample
        self.sampleShape = sampleShape
        self.players = players
        self.baseline = baseline
        self.maskBackground = maskBackground
        self.batchSize = max(1, batchSize)
    }

    public var n: Int { players.count }

    /// The masked sample x_S: players in S keep their values, the others take the baseline.
    public func masked(_ s: Int, into out: UnsafeMutableBufferPointer<Float>) {
        if maskBackground { _ = out.update(fromContentsOf: baseline) } else { _ = out.update(fromContentsOf: sample) }
        for (k, p) in players.enumerated() {
            let keep = s & (1 << k) != 0
            if keep == !maskBackground { continue }  // already right
            for i in p { out[i] = keep ? sample[i] : baseline[i] }
        }
    }

    /// Model outputs for subsets [start, start + count): [count, C] logits.
    public func outputs(from start: Int, count: Int) throws -> Tensor {
        let size = sample.count
        var batch = [Float](repeating: 0, count: count * size)
        batch.withUnsafeMutableBufferPointer { b in
            for j in 0..<count { masked(start + j, into: UnsafeMutableBufferPointer(rebasing: b[(j * size)..<((j + 1) * size)])) }
        }
        return try model.run(Tensor(shape: [count] + sampleShape, floats: batch))
    }

    /// v(S) for all 2^n subsets. `progress` gets the number of subsets done after each batch.
    public func rewards(kind: RewardKind, target: Int, progress: ((Int) -> Void)? = nil) throws -> [Double] {
        let total = 1 << n
        var v = [Double](repeating: 0, count: total)
        var start = 0
        while start < total {
            let count = min(batchSize, total - start)
            let y = try outputs(from: start, count: count)
            let classes = y.count / count
            guard target < classes || kind == .binary else {
                throw HarsanyiError.invalidArgument("target class \(target) but the model has \(classes) outputs")
            }
            let f = y.floats
            for j in 0..<count {
                let row = f[(j * classes)..<((j + 1) * classes)]
                guard row.allSatisfy(\.isFinite) else {
                    throw HarsanyiError.invalidArgument("the model output for subset \(start + j) has NaN or infinite values")
                }
                v[start + j] = kind.value(row, target: target)
            }
            start += count
            progress?(start)
        }
        return v
    }
}
