import Foundation
import HarsanyiCore

/// The checkpoints of a training run and its losses:
///
///     {"checkpoints": [{"epoch": 0, "model": "epoch_000.onnx"}, ...], "losses": "losses.csv"}
///
/// Paths are relative to the manifest's folder. The losses file (optional) is a CSV with a header row, an "epoch"
/// column and the loss columns `analyze dynamics` is told to read (train_loss and test_loss by default).
struct DynamicsManifest {
    struct Checkpoint {
        var epoch: Int
        var model: String
    }

    let checkpoints: [Checkpoint]
    let losses: String?

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarsanyiError.io(path: path, reason: "cannot read the checkpoint manifest")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = json["checkpoints"] as? [[String: Any]], !list.isEmpty
        else {
            throw HarsanyiError.badFile(path: path, reason: #"expected {"checkpoints": [{"epoch": E, "model": F}, ...]}"#)
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : folder + "/" + p }
        var out: [Checkpoint] = []
        for (k, entry) in list.enumerated() {
            guard let epoch = entry["epoch"] as? Int, let model = entry["model"] as? String else {
                throw HarsanyiError.badFile(path: path, reason: "checkpoint \(k) needs an integer epoch and a model")
            }
            let file = resolve(model)
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw HarsanyiError.badFile(path: path, reason: "checkpoint epoch \(epoch): \(file) does not exist")
            }
            out.append(Checkpoint(epoch: epoch, model: file))
        }
        let epochs = out.map(\.epoch)
        guard Set(epochs).count == epochs.count, epochs == epochs.sorted() else {
            throw HarsanyiError.badFile(path: path, reason: "the epochs must be distinct and increasing, got \(epochs)")
        }
        checkpoints = out
        if let l = json["losses"] as? String {
            let file = resolve(l)
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw HarsanyiError.badFile(path: path, reason: "the losses file \(file) does not exist")
            }
            losses = file
        } else {
            losses = nil
        }
    }

    /// The named columns of the losses CSV per epoch, for the manifest's epochs (each must be present).
    func lossColumns(_ names: [String]) throws -> [[Double]]? {
        guard let losses else { return nil }
        guard let text = try? String(contentsOfFile: losses, encoding: .utf8) else {
            throw HarsanyiError.io(path: losses, reason: "cannot read")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = lines.first, let e = header.firstIndex(of: "epoch") else {
            throw HarsanyiError.badFile(path: losses, reason: "needs a header row with an epoch column")
        }
        let columns = try names.map { name in
            guard let c = header.firstIndex(of: name) else {
                throw HarsanyiError.badFile(path: losses, reason: "no column \(name) (columns: \(header.joined(separator: ", ")))")
            }
            return c
        }
        var rows: [Int: [Double]] = [:]
        for (k, line) in lines.dropFirst().enumerated() {
            guard line.count == header.count, let epoch = Int(line[e]) else {
                throw HarsanyiError.badFile(path: losses, reason: "line \(k + 2) does not match the header")
            }
            let values = columns.map { Double(line[$0]) ?? .nan }
            guard values.allSatisfy(\.isFinite) else {
                throw HarsanyiError.badFile(path: losses, reason: "line \(k + 2): a loss is not a finite number")
            }
            rows[epoch] = values
        }
        return try names.indices.map { c in
            try checkpoints.map { cp in
                guard let row = rows[cp.epoch] else {
                    throw HarsanyiError.badFile(path: losses, reason: "no row for epoch \(cp.epoch)")
                }
                return row[c]
            }
        }
    }
}
