import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// The n swept in every build: 0, odd sizes, one work group, several passes over memory.
let sweptN = [0, 1, 2, 3, 5, 8, 13, 16]
/// n = 20 and the headline sizes of the README's figures (2^24 and 2^26 entries: 64 MiB and 256 MiB in float32),
/// every kind: in the optimised build only (run-tests.sh), where they take seconds; a debug build reports them as
/// skipped, since its CPU path is ~15× slower.
let largeN = [20, 24, 26]
let largeSkip: Comment = "n = 20, 24, 26 run in the release build (run-tests.sh); the debug CPU path is ~15× slower"
/// The full O(3^n)/O(4^n) definitions are affordable up to here; beyond, `LargeReference`'s independent checks.
let definitionLimit = [SubsetTransform.orInverse: 10, .orTranspose: 10]
/// float64 is checked up to here on every backend that has it (float32 at every n).
let float64Limit = 20
/// Whether this test binary was built optimised (`swift build -c release`, as run-tests.sh does).
let optimisedBuild: Bool = {
    #if DEBUG
        return false
    #else
        return true
    #endif
}()

/// Random floats are checked up to here; above, small integers only (bit-exact, a stronger check than a tolerance,
/// and a quarter of the memory and time at n = 26).
let floatLimit = 24

/// A backend under test and its label in failure messages.
typealias LabelledBackend = (label: String, backend: ComputeBackend)

/// Checks `backends` against the references for one kind and n, in float32 (bit-exact on small integers, a
/// tolerance on random floats up to `floatLimit`) and, where supported and n ≤ `float64Limit`, float64. The
/// references are computed once for all backends.
func checkTransform(_ backends: [LabelledBackend], _ kind: SubsetTransform, n: Int) throws {
    let s = seed(n, kind.rawValue.count, Int(kind.rawValue.unicodeScalars.first!.value))
    var rng = SplitMix64(seed: s)
    let count = 1 << n
    let byDefinition = n <= (definitionLimit[kind] ?? 13)

    // Small integers in −3…3: every partial sum is an integer of magnitude about 3·2^(n/2) (a random walk, far below
    // 2^24 even at n = 26), so float32 must be exact; the comparison with the Double reference says if it is not.
    let ints = rng.smallIntegers(count)
    let ints32 = ints.map { Float($0) }
    let intReference = byDefinition ? Reference.transform(kind, ints) : nil
    let intLarge = byDefinition ? nil : try LargeReference(kind, input: ints, rng: &rng)
    for (label, backend) in backends {
        let context = "\(label) \(kind) n=\(n) seed=\(s)"
        let exact = try backend.transform(kind, ints32)
        if let intReference {
            #expect(exact == intReference.map { Float($0) }, "\(context): not bit-exact on small integers")
        } else {
            intLarge?.check(exact.map { Double($0) }, tolerance: 0, context: context + " (integers)")
        }
    }
    guard n <= floatLimit else { return }

    // Random floats: within the named tolerance of the Double reference.
    let floats = rng.uniform(count)
    for precision in Precision.allCases where precision == .float32 || n <= float64Limit {
        let eps = precision == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let tol = transformTolerance(n: n, epsilon: eps)
        let input = precision == .float32 ? floats.map { Double(Float($0)) } : floats
        let input32 = precision == .float32 ? floats.map { Float($0) } : []
        let reference = byDefinition ? Reference.transform(kind, input) : nil
        let large = byDefinition ? nil : try LargeReference(kind, input: input, rng: &rng)
        for (label, backend) in backends where backend.supports(precision) {
            let context = "\(label) \(kind) n=\(n) seed=\(s) \(precision)"
            let got: [Double] =
                precision == .float32
                ? try backend.transform(kind, input32).map { Double($0) } : try backend.transform(kind, floats)
            if let reference {
                expectClose(got, reference, tolerance: tol, context)
            } else {
                large?.check(got, tolerance: tol, context: context)
            }
        }
    }
}

/// For n beyond the definitions, computed once per input and checked against every backend's output: butterflies
/// against the textbook per-bit loop in Double; the OR family by sampled entries of the definition (S, or N∖S, with
/// at most 16 players keeps each O(2^|S|)) and, for the transpose, the adjoint identity ⟨M_or x, y⟩ = ⟨x, M_orᵀ y⟩.
struct LargeReference {
    var full: [Double]?
    var entries: [(index: Int, value: Double)] = []
    var adjoint: (x: [Double], lhs: Double)?

    init(_ kind: SubsetTransform, input: [Double], rng: inout SplitMix64) throws {
        if kind.steps.count == 1, case .butterfly(let b) = kind.steps[0] {
            full = Reference.butterfly(b, input)
            return
        }
        let all = input.count - 1
        var total = Reference.CompensatedSum()  // compensated: see `CompensatedSum`
        if kind == .orInverse { for x in input { total.add(x) } }
        for _ in 0..<40 {
            let small = Int.random(in: 0...all, using: &rng) & Int.random(in: 0...all, using: &rng) & 0xFFF0F
            switch kind {
            case .or: entries.append((small, Reference.orEntry(input, small)))
            case .orInverse:  // v(S) = I(∅) + total − Σ_{T⊆N∖S} I(T): checked on S = N∖small
                var acc = total
                acc.add(input[0])
                Reference.forEachSubset(of: small) { acc.add(-input[$0]) }
                entries.append((all ^ small, acc.value))
            case .orTranspose: entries.append((small, Reference.orTransposeEntry(input, small)))
            default: fatalError("\(kind) is a single butterfly")
            }
        }
        if kind == .orTranspose {  // x random, y = input; M_or x from the CPU path's .or (checked on its own)
            let x = rng.uniform(input.count)
            adjoint = (x, Reference.dot(try TestBackends.cpu.transform(.or, x), input))
        }
    }

    func check(_ output: [Double], tolerance: Double, context: String) {
        if let full { expectClose(output, full, tolerance: tolerance, context) }
        for (i, want) in entries {
            #expect(abs(output[i] - want) <= tolerance, "\(context): entry \(i) is \(output[i]), want \(want)")
        }
        if let (x, lhs) = adjoint {
            let rhs = Reference.dot(x, output)
            let n = output.count.trailingZeroBitCount
            #expect(abs(lhs - rhs) <= 1e-6 * max(1, abs(lhs)) * Double(n + 1), "\(context): adjoint \(lhs) vs \(rhs)")
        }
    }
}

/// Serialized: at n = 26 one case holds about 3 GiB (inputs, Double references, outputs), so cases run one at a time.
@Suite("Subset transforms against the Double references", .serialized)
struct TransformReferenceTests {
    @Test("CPU path", arguments: SubsetTransform.allCases, sweptN)
    func cpu(kind: SubsetTransform, n: Int) throws {
        try checkTransform([("cpu", TestBackends.cpu)], kind, n: n)
    }

    @Test(
        "OpenCL, CPU-style kernels", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason),
        arguments: SubsetTransform.allCases, sweptN)
    func openclCPUStyle(kind: SubsetTransform, n: Int) throws {
        try checkTransform([("opencl/cpu-style", TestBackends.opencl(.cpuStyle))], kind, n: n)
    }

    @Test(
        "OpenCL, GPU-style kernels", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason),
        arguments: SubsetTransform.allCases, sweptN)
    func openclGPUStyle(kind: SubsetTransform, n: Int) throws {
        try checkTransform([("opencl/gpu-style", TestBackends.opencl(.gpuStyle))], kind, n: n)
    }

    /// The large sizes share one set of references between the backends (they dominate the time), so the CPU path
    /// is checked here when no device is visible, and together with both OpenCL kernel forms when one is.
    @Test(
        "CPU path, large n (no OpenCL device visible)", .enabled(if: optimisedBuild, largeSkip),
        .enabled(if: !TestBackends.hasOpenCL, "an OpenCL device is visible: the CPU path is checked with it below"),
        arguments: SubsetTransform.allCases, largeN)
    func cpuLarge(kind: SubsetTransform, n: Int) throws {
        try MemoryHeavy.exclusive { try checkTransform([("cpu", TestBackends.cpu)], kind, n: n) }
    }

    @Test(
        "CPU path and OpenCL with both kernel forms, large n",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), .enabled(if: optimisedBuild, largeSkip),
        arguments: SubsetTransform.allCases, largeN)
    func allLarge(kind: SubsetTransform, n: Int) throws {
        try MemoryHeavy.exclusive {
            try checkTransform(
                [("cpu", TestBackends.cpu)] + TransformStyle.allCases.map { ("opencl/\($0)", TestBackends.opencl($0)) },
                kind, n: n)
        }
    }

    @Test(
        "OR matrices match their definitions entry by entry; so do the sampled-entry references",
        arguments: [1, 2, 4, 6])
    func orMatrix(n: Int) throws {
        // Column L of M_or is M_or applied to the unit vector e_L.
        for l in 0..<(1 << n) {
            var e = [Double](repeating: 0, count: 1 << n)
            e[l] = 1
            let column = try TestBackends.cpu.transform(.or, e)
            let transposedRow = try TestBackends.cpu.transform(.orTranspose, e)
            let y = (0..<(1 << n)).map { Double(($0 * 7 + l) % 5) - 2 }
            #expect(Reference.orEntry(y, l) == Reference.transform(.or, y)[l], "orEntry(\(l)), n=\(n)")
            #expect(
                Reference.orTransposeEntry(y, l) == Reference.transform(.orTranspose, y)[l],
                "orTransposeEntry(\(l)), n=\(n)")
            for s in 0..<(1 << n) {
                #expect(column[s] == Reference.orMatrixEntry(row: s, column: l, n: n), "M_or[\(s), \(l)], n=\(n)")
                #expect(
                    transposedRow[s] == Reference.orMatrixEntry(row: l, column: s, n: n), "M_orᵀ[\(s), \(l)], n=\(n)")
            }
        }
    }
}

@Suite("OpenCL and CPU paths agree", .serialized)
struct CrossBackendTests {
    @Test(
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: SubsetTransform.allCases,
        [4, 11, 17, 18])
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

    @Test(
        "bit-identical at n = 24", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason),
        .enabled(if: optimisedBuild, largeSkip), arguments: SubsetTransform.allCases)
    func bitIdenticalAt24(kind: SubsetTransform) throws {
        try MemoryHeavy.exclusive { try bitIdenticalAcrossBackends(kind: kind, n: 24) }
    }
}
