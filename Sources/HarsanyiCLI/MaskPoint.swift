import Foundation
import HarsanyiCore
import HarsanyiONNX

/// Where a sample is masked: the one place that decides it for `extract`, dataset runs and `bench forward`.
///
/// - `--mask-at NAME`: that tensor (the prefix before it runs once per sample).
/// - Token ids (an integer masked input) without `--mask-at`: the word-embedding lookup's output [1, L, H]
///   (`TokenEmbedding`), as the text papers mask words (spec §3); the ids are checked against the vocabulary and
///   `words:` players against the sequence, the special tokens and the attention mask.
/// - Otherwise the model input itself.
struct MaskPoint {
    /// The tensor masked; nil for the model input.
    let name: String?
    /// The word-embedding lookup, for token-id inputs.
    let embedding: TokenEmbedding?
    /// The masked tensor's shape per sample (without the batch axis).
    let shape: [Int]

    /// `index`: the sample's row in a batch (its words in a per-sample words file).
    init(model m: ONNXModel, sample: Tensor, maskAt: String?, players: String, sample index: Int = 0) throws {
        if sample.dtype == .int64 {
            let lookup = try TokenEmbedding(model: m)
            try lookup.checkIDs(sample.ints.map { Int($0) })
            embedding = lookup
            name = maskAt ?? lookup.output
        } else {
            embedding = nil
            name = maskAt
        }
        shape =
            try name.map { try SuffixPlan(model: m, start: $0, sample: sample).sampleShape }
            ?? Array(sample.shape.dropFirst())
        if case .words(let file)? = try? PlayerSpec.parse(players) {
            guard sample.dtype == .int64 else {
                throw HarsanyiError.invalidArgument(
                    "--players words: needs a text model whose masked input is token ids (an integer .npy)")
            }
            let mask = m.constants["attention_mask"].map { $0.asIntsOrEmpty }
            try WordPlayers(file: file, sample: index).check(ids: sample.ints.map { Int($0) }, attentionMask: mask)
        }
    }

    /// The players' element lists in the masked tensor.
    func players(_ spec: String, sample index: Int = 0) throws -> [[Int]] {
        try PlayerSpec.parse(spec).resolve(sampleShape: shape, sample: index)
    }

    /// The baseline values of the masked tensor (`token:ID` takes the embedding table's row).
    func baseline(_ spec: String) throws -> [Float] {
        try Baseline.parse(spec).resolve(shape: shape, embedding: embedding)
    }

    /// The words' labels, for figures (nil unless the players are words with labels).
    static func wordLabels(_ players: String) -> [String]? {
        guard case .words(let file)? = try? PlayerSpec.parse(players) else { return nil }
        return (try? WordPlayers(file: file))?.labels
    }
}

extension Tensor {
    /// The values as integers (an attention mask), empty when they are not integers.
    var asIntsOrEmpty: [Int] { dtype == .int64 ? ints.map { Int($0) } : [] }
}
