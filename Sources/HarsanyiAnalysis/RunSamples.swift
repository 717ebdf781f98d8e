import Foundation
import HarsanyiCore

/// The interactions of a dataset run's done samples, loaded for an analysis. Several runs can be pooled when they
/// share the model, the input variables (players) and n; anything else is an error naming the difference.
public struct RunSamples {
    public struct Sample {
        public let run: String
        public let index: Int
        public let target: Int?
        /// v over the 2^n subsets (as written: v(∅) subtracted unless the run kept it).
        public let v: [Double]
        public let iand: [Double]
        public let ior: [Double]
        /// v(N) − v(∅).
        public var spread: Double { v[v.count - 1] - v[0] }
    }

    public let n: Int
    public let runs: [String]
    public let identity: [String: Any]
    public let samples: [Sample]

    /// Keys two pooled runs must agree on.
    public static let sharedKeys = ["model_fingerprint", "n", "players", "mask_at"]

    public init(runs paths: [String]) throws {
        guard !paths.isEmpty else { throw HarsanyiError.invalidArgument("no run folder given") }
        var samples: [Sample] = []
        var identity: [String: Any]? = nil
        var n = 0
        for path in paths {
            let index = try RunIndex.read(path)
            if let first = identity {
                for key in Self.sharedKeys
                where RunIndex.canonical(first[key] ?? "") != RunIndex.canonical(index.identity[key] ?? "") {
                    throw HarsanyiError.invalidArgument(
                        "\(path) and \(paths[0]) cannot be pooled: their \(key) differs")
                }
            } else {
                identity = index.identity
                n = index.identity["n"] as? Int ?? 0
            }
            for i in index.done {
                let dir = path + "/" + RunIndex.folder(i)
                let v = try NPY.read(dir + "/rewards.npy").doubles()
                let iand = try NPY.read(dir + "/Iand.npy").doubles()
                let ior = try NPY.read(dir + "/Ior.npy").doubles()
                guard v.count == 1 << n, iand.count == v.count, ior.count == v.count else {
                    throw HarsanyiError.badFile(path: dir, reason: "arrays are not 2^\(n) long")
                }
                samples.append(
                    Sample(run: path, index: i, target: index.samples[i]?["target"] as? Int, v: v, iand: iand, ior: ior)
                )
            }
        }
        guard !samples.isEmpty else {
            throw HarsanyiError.invalidArgument("\(paths.joined(separator: ", ")): no done sample to analyse")
        }
        self.n = n
        self.runs = paths
        self.identity = identity ?? [:]
        self.samples = samples
    }
}
