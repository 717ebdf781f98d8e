import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// The n swept by the validation suite: 0, odd sizes, one work group, several passes over memory.
let sweptN = [0, 1, 2, 3, 5, 8, 13, 16, 20]
/// The full O(3^n)/O(4^n) definitions are affordable up to here in a debug build.
let definitionLimit = [SubsetTransform.orInverse: 10, .orTranspose: 10]
/// At n = 20 the debug-build CPU path is slow, so only these kinds run there; the rest stop at 16.
let kindsAt20: Set<SubsetTransform> = [.and, .or, .zetaSuperset]

/// Checks `backend` against the references for one kind and n, in float32 (bit-exact on small integers,
/// tolerance on random floats) and, where supported, float64.
func checkTransform(_ backend: ComputeBackend, _ kind: SubsetTransform, n: Int, label: String) throws {
    if n == 20 && !kindsAt20.contains(kind) { return }
    let s = seed(n, kind.rawValue.count, kind.rawValue.unicodeScalars.first!.hashValue & 0xFF)
    var rng = SplitMix64(seed: s)
    let context = "\(label) \(kind) n=\(n) seed=\(s)"
    let count = 1 << n

    // Small integers: every intermediate value is an integer below 2^24, so float32 must be exact.
    let ints = rng.smallIntegers(count)
    let exact = try backend.transform(kind, ints.map { Float($0) })
    if n <= (definitionLimit[kind] ?? 13) {
        let want = Reference.transform(kind, ints)
        #expect(exact == want.map { Float($0) }, "\(context): not bit-exact on small integers")
    } else {
        try checkLarge(backend, kind, input: ints, output: exact.map { Double($0) }, tolerance: 0, context: context + " (integers)", rng: &rng)
    }

    // Random floats: within the named tolerance of the Double reference.
    let floats = rng.uniform(count)
    for precision in Precision.allCases where backend.supports(precision) && (precision == .float32 || n <= 16) {
        let eps = precision == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let tol = transformTolerance(n: n, epsilon: eps)
        let got: [Double] =
            precision == .float32
            ? try backend.transform(kind, floats.map { Float($0) }).map { Double($0) } : try backend.transform(kind, floats)
        let input = precision == .float32 ? floats.map { Double(Float($0)) } : floats
        if n <= (definitionLimit[kind] ?? 13) {
            expectClose(got, Reference.transform(kind, input), tolerance: tol, "\(context) \(precision)")
        } else {
            try checkLarge(backend, kind, input: input, output: got, tolerance: tol, context: "\(context) \(precision)", rng: &rng)
        }
    }
}

/// For n beyond the definitions: butterflies against the textbook per-bit loop in Double; the OR family by
/// sampled entries of the definition, the round trip through the inverse, and the adjoint identity.
func checkLarge(
    _ backend: ComputeBackend, _ kind: SubsetTransform, input: [Double], output: [Double], tolerance: Double, context: String,
    rng: inout SplitMix64
) throws {
    let n = input.count.trailingZeroBitCount
    if kind.steps.count == 1, case .butterfly(let b) = kind.steps[0] {
        expectClose(output, Reference.butterfly(b, input), tolerance: tolerance, context)
    } else {
        // Entries S with at most 12 players keep the O(2^|S|) definition cheap.
        let lowMask = (1 << n) - 1
        for _ in 0..<40 {
            let s = Int.random(in: 0...lowMask, using: &rng) & Int.random(in: 0...lowMask, using: &rng) & 0xFFF0F
            let want: Double
            switch kind {
            case .or: want = Reference.orEntry(input, s)
            case .orInverse:  // v(S) = I(∅) + total − Σ_{T⊆N∖S} I(T): check on S = N∖small
                let small = s, full = lowMask
                var acc = input.reduce(0, +)
                Reference.forEachSubset(of: small) { acc -= input[$0] }
                want = input[0] + acc
                #expect(abs(output[full ^ small] - want) <= tolerance + 1e-9 * Double(input.count), "\(context): entry \(full ^ small)")
                continue
            default: continue
            }
            #expect(abs(output[s] - want) <= tolerance, "\(context): entry \(s) is \(output[s]), want \(want)")
        }
        if kind == .orTranspose {  // ⟨M_or x, y⟩ = ⟨x, M_orᵀ y⟩ with x random, y = input
            let x = rng.uniform(input.count)
            let mx = try backend.transform(.or, x)
            let lhs = Reference.dot(mx, input), rhs = Reference.dot(x, output)
            #expect(abs(lhs - rhs) <= 1e-6 * max(1, abs(lhs)) * Double(n + 1), "\(context): adjoint \(lhs) vs \(rhs)")
        }
    }
}

@Suite("Subset transforms against the Double references")
struct TransformReferenceTests {
    @Test("CPU path", arguments: SubsetTransform.allCases, sweptN)
    func cpu(kind: SubsetTransform, n: Int) throws {
        try checkTransform(TestBackends.cpu, kind, n: n, label: "cpu")
    }

    @Test("OpenCL, CPU-style kernels", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: SubsetTransform.allCases, sweptN)
    func openclCPUStyle(kind: SubsetTransform, n: Int) throws {
        try checkTransform(TestBackends.opencl(.cpuStyle), kind, n: n, label: "opencl/cpu-style")
    }

    @Test("OpenCL, GPU-style kernels", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: SubsetTransform.allCases, sweptN)
    func openclGPUStyle(kind: SubsetTransform, n: Int) throws {
        try checkTransform(TestBackends.opencl(.gpuStyle), kind, n: n, label: "opencl/gpu-style")
    }

    @Test("OR matrices match their definitions entry by entry", arguments: [1, 2, 4, 6])
    func orMatrix(n: Int) throws {
        // Column L of M_or is M_or applied to the unit vector e_L.
        for l in 0..<(1 << n) {
            var e = [Double](repeating: 0, count: 1 << n)
            e[l] = 1
            let column = try TestBackends.cpu.transform(.or, e)
            let transposedRow = try TestBackends.cpu.transform(.orTranspose, e)
            for s in 0..<(1 << n) {
                #expect(column[s] == Reference.orMatrixEntry(row: s, column: l, n: n), "M_or[\(s), \(l)], n=\(n)")
                #expect(transposedRow[s] == Reference.orMatrixEntry(row: l, column: s, n: n), "M_orᵀ[\(s), \(l)], n=\(n)")
            }
        }
    }
}

@Suite("OpenCL and CPU paths agree")
struct CrossBackendTests {
    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: SubsetTransform.allCases, [4, 11, 17, 18])
    func bitIdenticalAcrossBackends(kind: SubsetTransform, n: Int) throws {
        // Each butterfly is one exact add or subtract and the bits commute, so every path gives the same bits.
        var rng = SplitMix64(seed: seed(n, 7))
        let v = rng.uniform(1 << n).map { Float($0) }
        let cpu = try TestBackends.cpu.transform(kind, v)
        for style in TransformStyle.allCases {
            let cl = try TestBackends.opencl(style).transform(kind, v)
            #expect(cl == cpu, "\(kind) n=\(n) \(style) differs from the CPU path (seed \(seed(n, 7)))")
        }
    }
}
