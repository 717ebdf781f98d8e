import Foundation

/// The result folder of one sample: `rewards.npy`, `masks.npy`, `Iand.npy`, `Ior.npy`, `p.npy`, `q.npy` and
/// `summary.json`. Everything is written into a temporary sibling folder that is renamed into place, so a
/// folder at `path` is always complete; an existing folder is replaced only with `force`.
public enum ResultDirectory {
    public static let version = "0.1.0"
    public static let convention = "index S holds subset S; bit i of S is player i (least significant bit = player 0)"

    /// Throws unless `path` can be written: it must not exist (or `force`), and its parent must exist.
    public static func checkWritable(_ path: String, force: Bool) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && !force {
            throw HarsanyiError.io(path: path, reason: "output folder exists (use --force to replace it)")
        }
        let parent = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if !parent.isEmpty && !(fm.fileExists(atPath: parent, isDirectory: &isDir) && isDir.boolValue) {
            throw HarsanyiError.io(path: path, reason: "parent folder \(parent) does not exist")
        }
    }

    /// The summary as a JSON-ready dictionary. `extra` adds keys (model and sample identity, ...).
    public static func summary(_ r: InteractionResult, _ a: InteractionAnalysis, extra: [String: Any] = [:]) -> [String: Any] {
        let s = r.settings
        let stride = max(1, r.lossTrace.count / 1000)
        var trace: [[Double]] = stride == 1 ? r.lossTrace.enumerated().map { [Double($0), $1] } : []
        if stride > 1 {
            for i in Swift.stride(from: 0, to: r.lossTrace.count, by: stride) { trace.append([Double(i), r.lossTrace[i]]) }
            if let last = r.lossTrace.indices.last, Int(trace.last![0]) != last { trace.append([Double(last), r.lossTrace[last]]) }
        }
        let count = r.v.count
        var out: [String: Any] = [
            "tool": "harsanyi \(version)",
            "n": r.n,
            "convention": convention,
            "v_N": r.v[count - 1], "v_empty": r.v[0],
            "settings": [
                "mode": s.mode.rawValue, "optimizer": s.optimizer.rawValue, "qthres": s.qthres, "lr": s.effectiveLearningRate,
                "returned_iterate": s.effectiveKeepBest ? "best (lowest loss)" : "last",
                "iterations": s.iterations, "recenter_q": s.recenterQ, "precision": s.precision.rawValue, "momentum": s.momentum,
                "q_bound": s.qthres * abs(r.v[count - 1] - r.v[0]), "lr_schedule": "logspace(lr, lr/10)",
            ] as [String: Any],
            "backend": r.backend,
            "seconds": r.seconds,
            "loss": [
                "initial": r.lossTrace.first ?? 0, "final": r.loss, "last_iteration": r.lossTrace.last ?? 0,
                "returned_iteration": r.returnedIteration, "trace": trace,
            ] as [String: Any],
            "matching_error": ["max_abs": a.matchingMaxAbs, "max_rel": a.matchingMaxRel],
            "efficiency": ["sum_Iand_plus_Ior": r.iand.reduce(0, +) + r.ior.reduce(0, +), "v_N_plus_q_N": r.v[count - 1] + r.q[count - 1]],
            "reorganized": r.reorganized
                ? "the |S| <= 1 OR interactions were moved into AND (exact); Ior is 0 there" : "not reorganized",
            "salient": [
                "rule": a.rule.description, "threshold": a.threshold, "count": a.primitives.count, "of": 2 * count,
            ] as [String: Any],
            "orders": a.orders.map {
                [
                    "order": $0.order, "salient_and": $0.salientAnd, "salient_or": $0.salientOr,
                    "salient_positive": $0.salientPositive, "salient_negative": $0.salientNegative,
                    "all_positive": $0.positive, "all_negative": $0.negative,
                ] as [String: Any]
            },
            "primitives": a.primitives.map {
                ["type": $0.type.rawValue, "players": $0.players, "order": $0.order, "value": $0.value, "subset": $0.subset] as [String: Any]
            },
        ]
        out["null_players"] = r.nullPlayers
        out["null_player_deviation"] = r.nullPlayerDeviation
        if let o = r.optimality {
            var opt: [String: Any] = [
                "solver": o.solver, "loss": o.loss, "status": o.status, "iterations": o.iterations,
                "solved_players": o.solvedPlayers, "lower_bound": o.lowerBound ?? NSNull(),
                "relative_gap": o.gap ?? NSNull(),
                "problem": "min sum|Iand| + sum|Ior| s.t. |v_and + v_or - v| <= q_bound (spec 5.4), on the v given",
            ]
            for (k, v) in o.details { opt[k] = v }
            out["optimality"] = opt
        }
        for (k, v) in extra { out[k] = v }
        return out
    }

    /// Writes the folder atomically (see the type's documentation).
    public static func write(_ r: InteractionResult, _ a: InteractionAnalysis, to path: String, force: Bool, extra: [String: Any] = [:]) throws {
        try checkWritable(path, force: force)
        let fm = FileManager.default
        let tmp = path + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        do {
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        } catch {
            throw HarsanyiError.io(path: path, reason: "cannot create the output folder")
        }
        do {
            try NPY.write(r.v, to: tmp + "/rewards.npy")
            try NPY.write(NPYArray(Subsets.membership(n: r.n), shape: [r.v.count, r.n]), to: tmp + "/masks.npy")
            try NPY.write(r.iand, to: tmp + "/Iand.npy")
            try NPY.write(r.ior, to: tmp + "/Ior.npy")
            try NPY.write(r.p, to: tmp + "/p.npy")
            try NPY.write(r.q, to: tmp + "/q.npy")
            let json = try JSONSerialization.data(withJSONObject: summary(r, a, extra: extra), options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(Array(json) + [10], to: tmp + "/summary.json")
            if fm.fileExists(atPath: path) {
                let old = path + ".old-\(getpid())"
                guard rename(path, old) == 0 else { throw HarsanyiError.io(path: path, reason: "cannot replace the existing folder") }
                try? fm.removeItem(atPath: old)
            }
            guard rename(tmp, path) == 0 else { throw HarsanyiError.io(path: path, reason: "cannot rename the result folder into place") }
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw error
        }
    }
}
