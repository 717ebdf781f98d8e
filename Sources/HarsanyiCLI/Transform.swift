import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiOpenCL

struct Transform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a subset transform to a 2^n vector stored in a .npy file.",
        discussion: """
            Kinds: and (Möbius: Harsanyi dividends), or, zeta (inverse of and), or-inverse, mobius-superset
            (transpose of and), zeta-superset, or-transpose. The output keeps the input's precision (integers and
            bools become float64) unless --precision says otherwise. Beside OUT a JSON file (OUT with .json)
            records n, the kind, the backend and the index convention (bit i = player i).
            """)

    @Option(help: "Transform kind: \(SubsetTransform.allCases.map(\.rawValue).joined(separator: "|")).")
    var kind: SubsetTransform

    @Option(name: .customLong("in"), help: "Input .npy: a 1-D array of 2^n values.")
    var input: String

    @Option(name: .customLong("out"), help: "Output .npy (written atomically).")
    var output: String

    @Option(help: "float32 or float64 (default: the input's).")
    var precision: Precision?

    @Flag(help: "Print the time of each phase (read, select, transform, write) to stderr.")
    var timings = false

    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            var clock = PhaseClock(enabled: timings)
            let header = try NPY.parseHeader(try FileIO.readPrefix(input, bytes: 1 << 16), path: input)
            guard header.shape.count == 1 else {
                throw HarsanyiError.badFile(path: input, reason: "expected a 1-D array of 2^n values, got shape \(header.shape)")
            }
            guard let n = Subsets.playerCount(forLength: header.count) else {
                throw HarsanyiError.badFile(path: input, reason: "length \(header.count) is not a power of two (2^n values for n players)")
            }
            let p = precision ?? (header.type == .float32 ? .float32 : .float64)
            let backend: String
            switch p {
            case .float32: backend = try run(Float.self, count: header.count, n: n, &clock)
            case .float64: backend = try run(Double.self, count: header.count, n: n, &clock)
            }
            let meta: [String: Any] = [
                "n": n, "kind": kind.rawValue, "precision": p.rawValue, "backend": backend,
                "input": input, "convention": "index S holds subset S; bit i of S is player i (least significant bit = player 0)",
            ]
            let json = try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(Array(json) + [10], to: Self.sidecar(output))
        }
    }

    /// Selects the backend, reads the file straight into a backend buffer (mapped: zero-copy on CPU devices),
    /// checks it, transforms it in place and writes it straight from the buffer; returns the backend's description.
    private func run<T: HarsanyiReal>(_: T.Type, count: Int, n: Int, _ clock: inout PhaseClock) throws -> String {
        let backend = try options.select(requirement: BackendRequirement(count: count, precision: T.precision)).backend
        let buffer = try backend.makeBuffer(count: count, precision: T.precision)
        clock.lap("select backend")
        try backend.withHostAccess(buffer) { raw in
            try NPY.readData(input, as: T.self, into: raw)
            let values = raw.bindMemory(to: T.self)
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw HarsanyiError.badFile(path: self.input, reason: "value \(values[i]) at index \(i) is not finite")
            }
        }
        clock.lap("read and check")
        try backend.transform(kind, buffer, n: n)
        try backend.finish()
        clock.lap("transform")
        try backend.withHostAccess(buffer) { raw in
            try AtomicFile.write(to: output, header: NPY.header(shape: [count], type: T.precision == .float32 ? .float32 : .float64),
                                 data: UnsafeRawBufferPointer(raw))
        }
        clock.lap("write")
        return backend.deviceDescription
    }

    static func sidecar(_ path: String) -> String {
        (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ".json"
    }
}
