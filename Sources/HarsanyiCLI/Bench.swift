import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiOpenCL

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (wall clock and OpenCL event profiling; not part of the tests).",
        subcommands: [BenchTransform.self, BenchInteractions.self, BenchForward.self])
}

struct BenchTransform: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transform",
        abstract: "Time a subset transform on one backend: kernel time, end-to-end time, effective GB/s, and a plain copy of the same buffer.",
        discussion: """
            kernel: device time of the transform (OpenCL event profiling; wall time on the CPU path).
            end-to-end: upload + transform + download, wall time. GB/s: bytes read + written by one pass over
            the buffer (2 × 2^n × element size) / kernel time. copy: a device-to-device copy of the same buffer
            (clEnqueueCopyBuffer, or memcpy on the CPU path), the floor any in-place pass is measured against.
            Figures are medians over --repeat runs after one warm-up run.
            """)

    @Option(help: "Number of players: the buffer holds 2^n values.")
    var n: Int = 24

    @Option(help: "Transform kind.")
    var kind: SubsetTransform = .and

    @Option(help: "float32 or float64.")
    var precision: Precision = .float32

    @Option(help: "Timed runs (median reported).")
    var `repeat`: Int = 7

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            guard (0...Subsets.maxPlayers).contains(n) else { throw HarsanyiError.invalidArgument("--n must be in 0...\(Subsets.maxPlayers)") }
            guard self.repeat >= 1 else { throw HarsanyiError.invalidArgument("--repeat must be at least 1") }
            let count = 1 << n
            let selection = try options.select(requirement: BackendRequirement(count: count, precision: precision, buffers: 2), quiet: json)
            let backend = selection.backend
            switch precision {
            case .float32: try measure(backend, Float.self, count: count)
            case .float64: try measure(backend, Double.self, count: count)
            }
        }
    }

    private func measure<T: HarsanyiReal>(_ backend: ComputeBackend, _: T.Type, count: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let host = (0..<count).map { _ in T(Int.random(in: -8...8, using: &rng)) }
        let a = try backend.makeBuffer(count: count, precision: precision)
        let b = try backend.makeBuffer(count: count, precision: precision)
        try backend.write(host, to: a)

        func device(_ body: () throws -> Void) throws -> Double {
            if let cl = backend as? OpenCLBackend { return try cl.measureKernelTime(body) }
            return try wall { try body(); try backend.finish() }
        }
        let setupStart = Date()
        try backend.transform(kind, a, n: n)  // warm-up: builds programs, JIT-compiles each launch size
        try backend.finish()
        let firstRun = Date().timeIntervalSince(setupStart)
        var kernel: [Double] = [], copy: [Double] = [], endToEnd: [Double] = []
        for _ in 0..<self.repeat {
            kernel.append(try device { try backend.transform(kind, a, n: n) })
            copy.append(try device { try backend.copy(from: a, to: b) })
            endToEnd.append(try wall {
                try backend.write(host, to: a)
                try backend.transform(kind, a, n: n)
                _ = try backend.read(a, as: T.self)
            })
        }
        let bytes = Double(2 * count * precision.byteSize)
        let k = median(kernel), c = median(copy), e = median(endToEnd)
        if json {
            let obj: [String: Any] = [
                "n": n, "kind": kind.rawValue, "precision": precision.rawValue, "backend": backend.kind.rawValue,
                "device": backend.deviceDescription, "repeat": self.repeat, "first_run_ms": firstRun * 1e3,
                "kernel_ms": k * 1e3, "copy_ms": c * 1e3, "end_to_end_ms": e * 1e3,
                "kernel_gb_per_s": bytes / k / 1e9, "copy_gb_per_s": bytes / c / 1e9, "kernel_over_copy": k / c,
            ]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(kind) n=\(n) \(precision) on \(backend.deviceDescription)")
            print(String(format: "  kernel     %9.3f ms  %7.2f GB/s", k * 1e3, bytes / k / 1e9))
            print(String(format: "  copy       %9.3f ms  %7.2f GB/s  (kernel / copy = %.2f)", c * 1e3, bytes / c / 1e9, k / c))
            print(String(format: "  end-to-end %9.3f ms  (upload + transform + download)", e * 1e3))
            print(String(format: "  first run  %9.3f ms  (program build and JIT)", firstRun * 1e3))
        }
    }
}

func wall(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

struct BenchInteractions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactions",
        abstract: "Iterations per second of the AND-OR sparsifier on one backend (random v of 2^n log-odds-like values).",
        discussion: "One warm-up run of 10 iterations, then --repeat timed runs of --iterations; the median is reported.")

    @Option(help: "Number of players.")
    var n: Int = 12
    @Option(help: "Iterations per timed run.")
    var iterations: Int = 1000
    @Option(help: "Timed runs.")
    var `repeat`: Int = 3
    @Option(help: "sgd, adam or pdhg.")
    var optimizer: SparsifierOptimizer = .sgd
    @Option(help: "float32 or float64.")
    var precision: Precision = .float32
    @Flag(help: "Print one JSON object.")
    var json = false
    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            guard (0...Sparsifier.maxPlayers).contains(n), iterations >= 1, self.repeat >= 1 else {
                throw HarsanyiError.invalidArgument("need 0 <= n <= \(Sparsifier.maxPlayers), iterations >= 1, repeat >= 1")
            }
            let selection = try options.select(requirement: BackendRequirement(count: 1 << n, precision: precision, buffers: 11, sparsifier: true), quiet: json)
            guard let ops = selection.backend as? any SparsifierOps else { throw HarsanyiError.unsupported("no sparsifier on this backend") }
            var rng = SystemRandomNumberGenerator()
            let v = (0..<(1 << n)).map { _ in Double.random(in: -3...3, using: &rng) }
            var s = InteractionSettings()
            s.optimizer = optimizer
            s.precision = precision
            s.iterations = 10
            _ = try Sparsifier.run(v: v, settings: s, backend: ops)
            s.iterations = iterations
            var rates: [Double] = []
            for _ in 0..<self.repeat {
                let seconds = try wall { _ = try Sparsifier.run(v: v, settings: s, backend: ops) }
                rates.append(Double(iterations) / seconds)
            }
            let rate = median(rates)
            if json {
                let obj: [String: Any] = ["n": n, "iterations": iterations, "optimizer": optimizer.rawValue, "precision": precision.rawValue,
                                          "backend": ops.kind.rawValue, "device": ops.deviceDescription, "iterations_per_s": rate]
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(String(format: "sparsifier n=%d %@ %@ on %@: %.0f iterations/s (median of %d runs of %d)", n, optimizer.rawValue,
                             precision.rawValue, ops.deviceDescription, rate, self.repeat, iterations))
            }
        }
    }
}
