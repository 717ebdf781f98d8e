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
    /// Words of a text: token positions per word from a JSON file (`WordPlayers`); player k is every element at
    /// the positions of word k (the first axis of the sample, e.g. the embedding output [L, H]).
    case words(String)

    /// Parses `grid:RxC`, `features:i,j,...`, `positions:p,q,...`, `groups:FILE.json` or `words:FILE.json`.
    public static func parse(_ text: String) throws -> PlayerSpec {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw HarsanyiError.invalidArgument(
                "--players '\(text)': expected grid:RxC, features:..., positions:..., groups:FILE or words:FILE")
        }
        func list(_ s: String) throws -> [Int] {
            try s.split(separator: ",").map {
                guard let i = Int($0.trimmingCharacters(in: .whitespaces)), i >= 0 else {
                    throw HarsanyiError.invalidArgument("--players: '\($0)' is not an index")
                }
                return i
            }
        }
        switch parts[0] {
        case "grid":
            let rc = parts[1].lowercased().split(separator: "x").compactMap { Int($0) }
            guard rc.count == 2, rc[0] > 0, rc[1] > 0 else {
                throw HarsanyiError.invalidArgument("--players grid:\(parts[1]): expected RxC, e.g. grid:4x4")
            }
            return .grid(rows: rc[0], columns: rc[1])
        case "features": return .features(try list(parts[1]))
        case "positions": return .positions(try list(parts[1]))
        case "groups": return .groups(parts[1])
        case "words": return .words(parts[1])
        default:
            throw HarsanyiError.invalidArgument(
                "--players kind '\(parts[0])': expected grid, features, positions, groups or words")
        }
    }

    /// The element lists for a sample of `shape` (without the batch dimension).
    /// `sample`: which sample of a words file that lists words per sample ("samples").
    public func resolve(sampleShape shape: [Int], sample: Int = 0) throws -> [[Int]] {
        let count = shape.reduce(1, *)
        let players: [[Int]]
        switch self {
        case .grid(let R, let C):
            guard shape.count >= 2 else {
                throw HarsanyiError.invalidArgument(
                    "grid players need an image input (…, H, W), got sample shape \(shape)")
            }
            let H = shape[shape.count - 2]
            let W = shape[shape.count - 1]
            let channels = count / (H * W)
            guard R <= H, C <= W else {
                throw HarsanyiError.invalidArgument("grid \(R)x\(C) is finer than the \(H)x\(W) image")
            }
            players = (0..<(R * C)).map { p in
                let r = p / C
                let c = p % C
                var idx: [Int] = []
                for ch in 0..<channels {
                    for y in (r * H / R)..<((r + 1) * H / R) {
                        for x in (c * W / C)..<((c + 1) * W / C) { idx.append((ch * H + y) * W + x) }
                    }
                }
                return idx
            }
        case .features(let f):
            players = f.map { [$0] }
        case .positions(let ps):
            players = try Self.positions(ps.map { [$0] }, shape: shape)
        case .words(let file):
            players = try Self.positions(WordPlayers(file: file, sample: sample).words, shape: shape)
        case .groups(let file):
            guard let data = FileManager.default.contents(atPath: file) else {
                throw HarsanyiError.io(path: file, reason: "cannot read the players file")
            }
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let raw = json["players"] as? [[Int]]
            else {
                throw HarsanyiError.badFile(path: file, reason: "expected {\"players\": [[element indices], ...]}")
            }
            players = raw
        }
        guard !players.isEmpty else { throw HarsanyiError.invalidArgument("no players") }
        guard players.count <= Sparsifier.maxPlayers else {
            throw HarsanyiError.unsupported("\(players.count) players: at most \(Sparsifier.maxPlayers)")
        }
        var seen = Set<Int>()
        for (k, p) in players.enumerated() {
            guard !p.isEmpty else { throw HarsanyiError.invalidArgument("player \(k) has no elements") }
            for i in p {
                guard i >= 0, i < count else {
                    throw HarsanyiError.invalidArgument(
                        "player \(k): element \(i) is outside the sample (\(count) elements)")
                }
                guard seen.insert(i).inserted else {
                    throw HarsanyiError.invalidArgument("element \(i) belongs to two players")
                }
            }
        }
        return players
    }

    /// Element lists of position groups along the sample's first axis (every element of each position).
    static func positions(_ groups: [[Int]], shape: [Int]) throws -> [[Int]] {
        guard let length = shape.first else {
            throw HarsanyiError.invalidArgument("positions need a sequence input, got a scalar sample")
        }
        let per = shape.dropFirst().reduce(1, *)
        return try groups.map { g in
            try g.flatMap { p -> Range<Int> in
                guard p >= 0, p < length else {
                    throw HarsanyiError.invalidArgument("position \(p) is beyond the sequence length \(length)")
                }
                return (p * per)..<((p + 1) * per)
            }
        }
    }
}

/// What masked elements are replaced with.
public enum Baseline: Sendable, Equatable {
    case zero
    case value(Float)
    /// Per-element mean over data, from a .npy of the sample's shape.
    case mean(String)
    /// An explicit baseline sample, from a .npy of the sample's shape, or of its last axis (one vector for every
    /// position: a learned baseline embedding).
    case tensor(String)
    /// A token's embedding (text models masked at the embedding output): row ID of the embedding table at every
    /// masked position, e.g. the [MASK] token.
    case token(Int)

    public static func parse(_ text: String) throws -> Baseline {
        if text == "zero" { return .zero }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw HarsanyiError.invalidArgument(
                "--baseline '\(text)': expected zero, value:X, mean:FILE.npy, tensor:FILE.npy or token:ID")
        }
        switch parts[0] {
        case "value":
            guard let x = Float(parts[1]), x.isFinite else {
                throw HarsanyiError.invalidArgument("--baseline value:\(parts[1]) is not a number")
            }
            return .value(x)
        case "mean": return .mean(parts[1])
        case "tensor": return .tensor(parts[1])
        case "token":
            guard let id = Int(parts[1]), id >= 0 else {
                throw HarsanyiError.invalidArgument("--baseline token:\(parts[1]) is not a token id")
            }
            return .token(id)
        default:
            throw HarsanyiError.invalidArgument(
                "--baseline kind '\(parts[0])': expected zero, value, mean, tensor or token")
        }
    }

    /// The baseline for a masked tensor of `count` elements.
    public func resolve(count: Int) throws -> [Float] { try resolve(shape: [count]) }

    /// The baseline for a masked tensor of `shape` (per sample). A .npy of the full shape is taken as it is; one of
    /// the last axis's length is repeated at every position. `token:ID` needs the model's `embedding`.
    public func resolve(shape: [Int], embedding: TokenEmbedding? = nil) throws -> [Float] {
        let count = shape.reduce(1, *)
        let width = shape.last ?? 1
        switch self {
        case .zero: return [Float](repeating: 0, count: count)
        case .value(let x): return [Float](repeating: x, count: count)
        case .mean(let f), .tensor(let f):
            let a = try NPY.read(f)
            guard a.count == count || (shape.count > 1 && a.count == width) else {
                throw HarsanyiError.badFile(
                    path: f,
                    reason: "baseline has \(a.count) elements; the sample has \(count)"
                        + (shape.count > 1 ? " (or one vector of \(width))" : ""))
            }
            let v = a.floats()
            guard v.allSatisfy(\.isFinite) else {
                throw HarsanyiError.badFile(path: f, reason: "baseline has NaN or infinite values")
            }
            return v.count == count ? v : Array([[Float]](repeating: v, count: count / width).joined())
        case .token(let id):
            guard let embedding else {
                throw HarsanyiError.invalidArgument(
                    "--baseline token:\(id) needs a text model masked at its word embeddings (token ids as input)")
            }
            guard width == embedding.width, count % width == 0 else {
                throw HarsanyiError.invalidArgument(
                    "--baseline token:\(id): the masked tensor \(shape) is not made of "
                        + "\(embedding.width)-wide embeddings")
            }
            return Array([[Float]](repeating: try embedding.row(id), count: count / width).joined())
        }
    }
}
