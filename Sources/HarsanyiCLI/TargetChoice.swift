import Foundation
import HarsanyiCore

/// Which class v explains: `label:K` (or `token:ID`, a causal LM's next token), `predicted`, or `auto` (the ground-truth label from `--labels` when given,
/// else the predicted class). The one place that decides it; the rule is printed and kept in summary.json.
enum TargetChoice {
    /// Returns (class, rule in words). `predicted` is evaluated only when needed.
    static func resolve(_ target: String, labels: String?, index: Int, classes: Int, predicted: () -> Int) throws -> (
        Int, String
    ) {
        let y: Int
        let rule: String
        switch target {
        case "auto" where labels != nil, "label":
            y = try label(labels, index: index)
            rule = "the ground-truth label of sample \(index) in \(labels ?? "")"
        case "auto":
            y = predicted()
            rule = "the predicted class (no --labels given)"
        case "predicted":
            y = predicted()
            rule = "the predicted class"
        case _ where target.hasPrefix("label:") || target.hasPrefix("token:"):
            // token:ID names the target next token of a causal LM (a class of its vocabulary-sized output).
            guard let k = Int(target.split(separator: ":", maxSplits: 1)[1]), k >= 0 else {
                throw HarsanyiError.invalidArgument("--target \(target): needs a class or token number >= 0")
            }
            y = k
            rule = "given (--target \(target))"
        default:
            throw HarsanyiError.invalidArgument("--target must be auto, predicted, label:K or token:ID, got \(target)")
        }
        guard y < classes else {
            throw HarsanyiError.invalidArgument("target class \(y) is out of range: the model has \(classes) classes")
        }
        return (y, rule)
    }

    /// Label `index` of a 1-D .npy of class numbers.
    static func label(_ path: String?, index: Int) throws -> Int {
        guard let path else { throw HarsanyiError.invalidArgument("--target label needs --labels FILE.npy") }
        let array = try NPY.read(path)
        guard array.shape.count == 1 else {
            throw HarsanyiError.badFile(path: path, reason: "labels must be a 1-D array, got shape \(array.shape)")
        }
        let values = array.doubles()
        guard index >= 0, index < values.count else {
            throw HarsanyiError.badFile(path: path, reason: "has \(values.count) labels; sample \(index) has none")
        }
        let y = values[index]
        guard y.isFinite, y >= 0, y == y.rounded() else {
            throw HarsanyiError.badFile(path: path, reason: "label \(index) is \(y), not a class number")
        }
        return Int(y)
    }
}
