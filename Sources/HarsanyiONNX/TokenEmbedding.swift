import Foundation
import HarsanyiCore

/// The word-embedding lookup of a text model: the Gather E[ids] whose data E is a constant [V, H] table and whose
/// indices are the model's masked input (token ids, directly or through casts and reshapes). Its output [1, L, H]
/// is where words are masked (spec §3, text rows): a masked token's row is replaced by a baseline embedding, e.g.
/// E[[MASK]].
public struct TokenEmbedding: Sendable {
    /// The lookup's output tensor: the mask point.
    public let output: String
    /// The table's name in the model, and the table [V, H].
    public let tableName: String
    public let table: Tensor
    public var vocabulary: Int { table.shape[0] }
    public var width: Int { table.shape[1] }

    /// Finds the lookup in `model` (O(nodes)). Throws when the model has none, naming what to pass instead.
    public init(model: ONNXModel) throws {
        var ids: Set<String> = [model.input.name]
        // The ids as they reach the lookup: through casts and reshapes (GPT-2 views them as [−1, L]).
        let carry: Set<String> = ["Cast", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"]
        for n in model.steps where carry.contains(n.op) && !n.inputs.isEmpty && ids.contains(n.inputs[0]) {
            ids.formUnion(n.outputs)
        }
        let lookup = model.steps.first { n in
            n.op == "Gather" && n.inputs.count == 2 && ids.contains(n.inputs[1]) && n.int("axis", 0) == 0
                && model.constants[n.inputs[0]]?.rank == 2 && model.constants[n.inputs[0]]?.dtype == .float32
        }
        guard let lookup, let table = model.constants[lookup.inputs[0]] else {
            throw HarsanyiError.invalidArgument(
                "\(model.path): no word-embedding lookup (a Gather of a [V, H] table by '\(model.input.name)'); "
                    + "name the tensor to mask with --mask-at")
        }
        output = lookup.outputs[0]
        tableName = lookup.inputs[0]
        self.table = table
    }

    /// Row `id` of the table: the embedding of one token.
    public func row(_ id: Int) throws -> [Float] {
        guard id >= 0, id < vocabulary else {
            throw HarsanyiError.invalidArgument(
                "token \(id) is outside the vocabulary (\(vocabulary) rows in '\(tableName)')")
        }
        return Array(table.floats[(id * width)..<((id + 1) * width)])
    }

    /// Checks that every id of a [1, L] sample indexes the table (ONNX Gather would also take −V..−1; a tokenizer
    /// never writes those, so they are refused as the mistake they are).
    public func checkIDs(_ ids: [Int]) throws {
        for (p, id) in ids.enumerated() where id < 0 || id >= vocabulary {
            throw HarsanyiError.invalidArgument(
                "token id \(id) at position \(p) is outside the vocabulary (\(vocabulary) rows in '\(tableName)')")
        }
    }
}

/// Words as players (`--players words:FILE.json`): each word lists the token positions it spans, since a word may
/// be several sub-word tokens. File: {"words": [[p, ...], ...], "labels": ["word", ...], "special_ids": [id, ...]};
/// labels and special_ids are optional. For several sentences (a batch of ids), "samples": [{"words": ..., "labels":
/// ...}, ...] gives each its own words (sample i of the batch takes entry i). Tokens in no word stay present
/// (background); special tokens ([CLS], [SEP], BOS, [PAD]) are never players.
public struct WordPlayers: Sendable {
    public let words: [[Int]]
    public let labels: [String]?
    public let specialIDs: Set<Int>

    public init(file: String, sample: Int = 0) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HarsanyiError.io(path: file, reason: "cannot read the words file")
        }
        let shape = "expected {\"words\": [[token positions], ...], \"labels\": [...], \"special_ids\": [...]}"
        guard var json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarsanyiError.badFile(path: file, reason: shape)
        }
        if let samples = json["samples"] as? [[String: Any]] {
            guard sample >= 0, sample < samples.count else {
                throw HarsanyiError.badFile(
                    path: file, reason: "lists words for \(samples.count) samples, not for \(sample)")
            }
            let special = json["special_ids"]
            json = samples[sample]
            if json["special_ids"] == nil { json["special_ids"] = special }
        }
        guard let raw = json["words"] as? [[Int]] else { throw HarsanyiError.badFile(path: file, reason: shape) }
        let labels = json["labels"] as? [String]
        guard json["labels"] == nil || labels?.count == raw.count else {
            throw HarsanyiError.badFile(path: file, reason: "\"labels\" must name each of the \(raw.count) words")
        }
        guard json["special_ids"] == nil || json["special_ids"] is [Int] else {
            throw HarsanyiError.badFile(path: file, reason: "\"special_ids\" must be a list of token ids")
        }
        words = raw
        self.labels = labels
        specialIDs = Set(json["special_ids"] as? [Int] ?? [])
    }

    /// Checks the words against a sample: positions inside the sequence, each in one word, none a special token
    /// or padding (attention mask 0).
    public func check(ids: [Int], attentionMask: [Int]?) throws {
        var owner: [Int: Int] = [:]
        for (k, w) in words.enumerated() {
            let name = labels.map { "word \(k) ('\($0[k])')" } ?? "word \(k)"
            guard !w.isEmpty else { throw HarsanyiError.invalidArgument("\(name) lists no token positions") }
            for p in w {
                guard p >= 0, p < ids.count else {
                    throw HarsanyiError.invalidArgument(
                        "\(name): token position \(p) is beyond the sequence of \(ids.count) tokens")
                }
                if let other = owner.updateValue(k, forKey: p) {
                    throw HarsanyiError.invalidArgument("token position \(p) is in word \(other) and word \(k)")
                }
                guard !specialIDs.contains(ids[p]) else {
                    throw HarsanyiError.invalidArgument(
                        "\(name): position \(p) is the special token \(ids[p]) ([CLS], [SEP], BOS or [PAD] are "
                            + "never players)")
                }
                if let attentionMask, p < attentionMask.count, attentionMask[p] == 0 {
                    throw HarsanyiError.invalidArgument("\(name): position \(p) is padding (attention mask 0)")
                }
            }
        }
    }
}
