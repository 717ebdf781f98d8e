// AND (Möbius) transform, float32, on the Swift CPU backend and (when one exists) the preferred OpenCL
// device, with a plain device-to-device copy of the same buffer as the floor each pass is measured against.
//
//   cd Benchmarks && swift package benchmark --no-progress
//   swift package benchmark --no-progress --filter ".*OpenCL.*"     # --filter is an anchored regex
//
// Buffers are made, written and warmed up (program build, JIT of every launch size) in each benchmark's
// setup. Before every iteration the input is written again, outside the measurement: the transform works in
// place, and repeating it on its own output would grow the values to inf and NaN within a dozen runs.
// Measured: `transform(.and, …)` + `finish()` (or `copy(from:to:)` + `finish()`), wall clock.
import Benchmark
import HarsanyiCore
import HarsanyiOpenCL

/// A backend, one buffer holding the input, a second buffer of the same size (the copy's destination), and
/// the host values written before each transform.
final class TransformFixture {
    let backend: ComputeBackend
    let n: Int
    let a: DeviceBuffer
    let b: DeviceBuffer
    let host: [Float]

    init(_ backend: ComputeBackend, n: Int) throws {
        self.backend = backend
        self.n = n
        let count = 1 << n
        // Small integers in -8...8 (deterministic): exact in float32, like `harsanyi bench transform`.
        host = (0..<count).map { i in Float(Int((UInt32(truncatingIfNeeded: i) &* 2_654_435_761) >> 20) % 17 - 8) }
        a = try backend.makeBuffer(count: count, precision: .float32)
        b = try backend.makeBuffer(count: count, precision: .float32)
        try backend.write(host, to: a)
        // Warm-up outside the measurement: builds programs and JIT-compiles each launch size on OpenCL.
        try backend.transform(.and, a, n: n)
        try backend.copy(from: a, to: b)
        try backend.finish()
        try backend.write(host, to: a)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(2),
        maxIterations: 1_000)

    var backends: [(label: String, make: () throws -> ComputeBackend)] = [("CPU", { CPUBackend() })]
    if let device = OpenCL.discover().preferred {
        backends.append(("OpenCL", { try OpenCLBackend.shared(for: device) }))
    }

    for (label, make) in backends {
        for n in [20, 24] {
            Benchmark("AND float32 n=\(n) \(label)") { benchmark, f in
                try f.backend.write(f.host, to: f.a)  // blocking on both backends; not measured
                benchmark.startMeasurement()
                try f.backend.transform(.and, f.a, n: f.n)
                try f.backend.finish()
                benchmark.stopMeasurement()
            } setup: {
                try TransformFixture(try make(), n: n)
            }

            Benchmark("copy float32 n=\(n) \(label)") { benchmark, f in
                benchmark.startMeasurement()
                try f.backend.copy(from: f.a, to: f.b)
                try f.backend.finish()
                benchmark.stopMeasurement()
            } setup: {
                try TransformFixture(try make(), n: n)
            }
        }
    }
}
