import Foundation
import HarsanyiCore

/// The index of a dataset run, `RUN/run.json`: what the run is (its identity: model, input, players, baseline,
/// settings, each with a fingerprint where it is a file) and every sample's status ("done", "skipped: why",
/// "failed: why"), plus the target and predicted class of each done sample. It holds no timings, so the index of a
/// resumed run is byte-identical to an uninterrupted one's. Written atomically (temporary file, then rename).
public struct RunIndex {
    public static let fileName = "run.json"
    public static let format = "harsanyi dataset run 1"

    public let path: String
    public let identity: [String: Any]
    /// Per sample index: status, and for done samples "target" and "predicted".
    public private(set) var samples: [Int: [String: Any]]

    /// The folder of sample `i`, relative to the run folder.
    public static func folder(_ i: Int) -> String { "samples/" + String(format: "%06d", i) }

    /// Opens the run folder `path` for writing: creates it, or resumes it when its identity matches (every key
    /// equal), or replaces it with `force`. Removes temporary folders a killed run left behind.
    public static func open(_ path: String, identity: [String: Any], force: Bool) throws -> RunIndex {
        let fm = FileManager.default
        let file = path + "/" + fileName
        if fm.fileExists(atPath: path) {
            if force {
                try? fm.removeItem(atPath: path)
            } else if fm.fileExists(atPath: file) {
                let existing = try read(path)
                if let key = differingKey(existing.identity, identity) {
                    throw HarsanyiError.invalidArgument(
                        "\(path) is a run with other settings (\(key) differs): use another --out, "
                            + "or --force to replace it"
                    )
                }
                try removeTemporaries(path)
                return RunIndex(path: path, identity: identity, samples: existing.samples)
            } else if (try? fm.contentsOfDirectory(atPath: path))?.isEmpty == false {
                throw HarsanyiError.io(path: path, reason: "exists and is not a dataset run (no run.json): use --force")
            }
        }
        do {
            try fm.createDirectory(atPath: path + "/samples", withIntermediateDirectories: true)
        } catch {
            throw HarsanyiError.io(path: path, reason: "cannot create the run folder")
        }
        return RunIndex(path: path, identity: identity, samples: [:])
    }

    /// Reads a run folder's index.
    public static func read(_ path: String) throws -> RunIndex {
        let file = path + "/" + fileName
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HarsanyiError.io(path: path, reason: "not a dataset run (no readable run.json)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            json["format"] as? String == format, let identity = json["identity"] as? [String: Any],
            let list = json["samples"] as? [[String: Any]]
        else { throw HarsanyiError.badFile(path: file, reason: "not a \(format) index") }
        var samples: [Int: [String: Any]] = [:]
        for entry in list {
            guard let i = entry["index"] as? Int else {
                throw HarsanyiError.badFile(path: file, reason: "a sample without an index")
            }
            samples[i] = entry
        }
        return RunIndex(path: path, identity: identity, samples: samples)
    }

    public mutating func set(_ i: Int, status: String, target: Int? = nil, predicted: Int? = nil) {
        var entry: [String: Any] = ["index": i, "status": status]
        if status == "done" { entry["folder"] = Self.folder(i) }
        if let target { entry["target"] = target } else if let old = samples[i]?["target"] { entry["target"] = old }
        if let predicted {
            entry["predicted"] = predicted
        } else if let old = samples[i]?["predicted"] {
            entry["predicted"] = old
        }
        samples[i] = entry
    }

    /// The indices of the samples whose status is "done", in increasing order.
    public var done: [Int] { samples.keys.filter { samples[$0]?["status"] as? String == "done" }.sorted() }

    /// Writes run.json atomically.
    public func save() throws {
        let list = samples.keys.sorted().map { samples[$0]! }
        let counts = Dictionary(grouping: list) {
            ($0["status"] as? String ?? "").split(separator: ":").first.map(String.init) ?? ""
        }
        .mapValues(\.count)
        let json: [String: Any] = ["format": Self.format, "identity": identity, "samples": list, "counts": counts]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(data) + [10], to: path + "/" + Self.fileName)
    }

    /// The first key whose value differs between two identities (compared as JSON), or nil.
    static func differingKey(_ a: [String: Any], _ b: [String: Any]) -> String? {
        for key in Set(a.keys).union(b.keys).sorted() {
            let x = a[key].map { canonical($0) }
            let y = b[key].map { canonical($0) }
            if x != y { return key }
        }
        return nil
    }

    public static func canonical(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
            let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Removes `samples/*.tmp-*` and `samples/*.old-*` folders (a sample being written when a run was killed).
    static func removeTemporaries(_ path: String) throws {
        let dir = path + "/samples"
        let fm = FileManager.default
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        where name.contains(".tmp-") || name.contains(".old-") {
            try? fm.removeItem(atPath: dir + "/" + name)
        }
    }
}
