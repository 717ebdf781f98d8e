import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// Backends shared by all tests, so each OpenCL program is built once per process.
enum TestBackends {
    static let discovery = OpenCL.discover()
    static let cpu = CPUBackend()
    /// The OpenCL device under test (PoCL's CPU device in CI), or nil when none is visible.
    static let device: OpenCLDevice? = discovery.preferred
    static let skipReason: Comment = "no OpenCL device: \(discovery.problem ?? "none")"
    static var hasOpenCL: Bool { device != nil }

    /// The OpenCL backend with each kernel form, whatever the device type, so both forms are tested.
    static let openCLByStyle: [TransformStyle: OpenCLBackend] = {
        guard let device else { return [:] }
        var out: [TransformStyle: OpenCLBackend] = [:]
        for style in TransformStyle.allCases {
            guard let b = try? OpenCLBackend(device: device) else { continue }
            b.style = style
            out[style] = b
        }
        return out
    }()

    static func opencl(_ style: TransformStyle) -> OpenCLBackend { openCLByStyle[style]! }
}

/// A seed per test case, printed with every failure so the case can be replayed.
func seed(_ parts: Int...) -> UInt64 {
    parts.reduce(UInt64(0x4841_5253_414E_5949)) { ($0 &* 1_000_003) ^ UInt64(bitPattern: Int64($1)) }
}

/// Asserts |a[i] − b[i]| ≤ tolerance for all i, reporting the worst index.
func expectClose<T: BinaryFloatingPoint>(
    _ a: [T], _ b: [Double], tolerance: Double, _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.count == b.count, "\(context): length \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    var worst = 0.0, at = 0
    for i in 0..<min(a.count, b.count) {
        let e = abs(Double(a[i]) - b[i])
        if !(e <= worst) { worst = e; at = i }
    }
    #expect(worst <= tolerance, "\(context): max error \(worst) at index \(at) (got \(a.isEmpty ? 0 : Double(a[at])), want \(b.isEmpty ? 0 : b[at])) > tolerance \(tolerance)", sourceLocation: sourceLocation)
}

/// Tolerance for the fast transforms on uniform inputs in [−1, 1): each of the n butterfly stages adds at most
/// one rounding of a partial sum, and partial sums of 2^k random-sign unit terms have magnitude about 2^(k/2);
/// a factor 8 covers the spread of the worst entry over 2^n entries.
func transformTolerance(n: Int, epsilon: Double) -> Double {
    8 * Double(max(n, 1)) * epsilon * pow(2, Double(n) / 2)
}

/// Tests that use or measure much memory run one at a time, across suites: the fuzz tests' peak-memory checks read
/// the whole process's peak (getrusage), which a concurrently running n = 24 or 26 transform case (up to 3 GiB)
/// would raise. `.serialized` orders tests within one suite only; this lock orders these few across suites.
enum MemoryHeavy {
    private static let lock = NSLock()
    static func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
