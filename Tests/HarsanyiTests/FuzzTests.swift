import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiTestSupport
import ONNXProto
import Testing

/// A seeded mutation fuzzer for the `.npy` and `.onnx` readers, run for a bounded time in every suite run, and
/// the regression test of the crashers it found (`Tests/Fixtures/fuzz/crashers`, see the README there).
///
/// Seeds are committed fixtures (plus a few `.npy` files made here for the dtypes, versions and orders no fixture
/// has). Each iteration mutates one seed (bit flips, interesting bytes and little-endian integers, truncation,
/// inserted, deleted and duplicated runs, splices of two seeds; for `.npy` edits of the header dict and its length
/// field; for `.onnx` edits of the decoded `Onnx_ModelProto`: dims, raw_data, data types, attribute types and
/// values, node inputs and operators, declared input shapes, opsets, then re-serialised, sometimes with a byte
/// mutation on top) and sends it through the public reading path: `NPY.decode`, `NPY.read`, `NPY.readValues`,
/// `NPY.readData` and the `NPYArray` accessors; `Graph.load`, `ONNXModel(path:)` (also for a random intermediate
/// output) and, for a model that loads, `run`, `outputShape(forInput:)` and the compiled CPU program behind
/// `MaskedForward` on a small matching input. A thrown `HarsanyiError` is the expected outcome of a bad input; a
/// trap kills the test process, so before every iteration the input is written to
/// `$TMPDIR/harsanyi-fuzz-<pid>/current.{npy,onnx}` (with `current-<ext>.txt` naming seed and iteration): after a crash
/// that file is the crasher (minimise it, add it to the crashers folder, fix the reader).
///
/// Budget: `iterationsPerSeed` iterations per seed file, stopped early after `seconds` of wall-clock time (the
/// iterations run are reported). To fuzz longer or with another seed, e.g. ten minutes on the release build:
///
///     swift build -c release --build-tests
///     HARSANYI_FUZZ_SECONDS=600 HARSANYI_FUZZ_SEED=12345 swift test -c release --skip-build --filter Fuzz
///
/// With `HARSANYI_FUZZ_SECONDS` set the per-seed iteration cap is lifted and the loop cycles over the seeds until
/// the time is spent (half for each reader).
enum Fuzz {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let crashers = fixtures.appendingPathComponent("fuzz/crashers")
    static let environment = ProcessInfo.processInfo.environment

    /// The base seed (HARSANYI_FUZZ_SEED, decimal or 0x hex); every iteration's generator derives from it.
    static let seed: UInt64 = {
        guard let text = environment["HARSANYI_FUZZ_SEED"] else { return 0x15_F022 }
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) ?? 0 : UInt64(text) ?? 0
    }()
    /// The wall-clock budget of one reader's loop in seconds (HARSANYI_FUZZ_SECONDS halves between the readers).
    static let seconds: Double = {
        if let text = environment["HARSANYI_FUZZ_SECONDS"], let s = Double(text) { return s / 2 }
        return optimisedBuild ? 8 : 6
    }()
    /// Iterations per seed file (unbounded when HARSANYI_FUZZ_SECONDS is set).
    static func iterationsPerSeed(_ reader: String) -> Int {
        if environment["HARSANYI_FUZZ_SECONDS"] != nil { return .max }
        return reader == "npy" ? (optimisedBuild ? 1500 : 400) : (optimisedBuild ? 150 : 40)
    }

    /// The scratch folder holding the input under test.
    static let scratch: String = {
        let dir = NSTemporaryDirectory() + "harsanyi-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// One iteration's generator: a function of the base seed, the reader, the seed file and the iteration.
    static func generator(_ reader: String, seedIndex: Int, iteration: Int) -> SplitMix64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in reader.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        var g = SplitMix64(seed: seed ^ h ^ UInt64(seedIndex) << 40 ^ UInt64(iteration))
        _ = g.next()
        return g
    }

    /// Writes the input under test where a crash leaves it, with a note naming how to reproduce it.
    static func stage(_ bytes: [UInt8], ext: String, note: String) throws -> String {
        let path = "\(scratch)/current.\(ext)"
        try AtomicFile.write(bytes, to: path)
        try AtomicFile.write(note + "\n", to: "\(scratch)/current-\(ext).txt")
        return path
    }

    /// Runs `body` over every seed, `iterationsPerSeed` times each (round robin), until the budget is spent.
    /// Returns the iterations run; `body` gets the seed index, the iteration and its generator.
    static func loop(
        _ reader: String, seeds: Int, body: (Int, Int, inout SplitMix64) throws -> Void
    ) rethrows -> Int {
        let start = Date()
        let cap = iterationsPerSeed(reader)
        var done = 0
        var iteration = 0
        while iteration < cap, Date().timeIntervalSince(start) < seconds {
            for s in 0..<seeds {
                // HARSANYI_FUZZ_ONLY=FILE:ITERATION replays one iteration (as a crash note names it), nothing else.
                if let only = ProcessInfo.processInfo.environment["HARSANYI_FUZZ_ONLY"], only != "\(s):\(iteration)" { continue }
                // HARSANYI_FUZZ_FROM=ITERATION skips the iterations before it (to bisect a crash that follows state).
                if let from = ProcessInfo.processInfo.environment["HARSANYI_FUZZ_FROM"].flatMap(Int.init), iteration < from { continue }
                var g = generator(reader, seedIndex: s, iteration: iteration)
                let t0 = Date()
                try body(s, iteration, &g)
                let took = Date().timeIntervalSince(t0)
                #expect(
                    took < 10, "\(reader) fuzz seed \(seed) file \(s) iteration \(iteration): one input took \(took) s")
                done += 1
            }
            iteration += 1
        }
        return done
    }

    /// Peak resident memory of the process in bytes (Linux reports kilobytes).
    static func peakResident() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_maxrss * 1024
    }

    // MARK: generic byte mutations

    static let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    static let interestingBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x30, 0x39]
    static let interestingInts: [UInt64] = [
        0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 40, UInt64(Int64.max),
        UInt64(bitPattern: Int64.min), UInt64.max, UInt64.max - 1,
    ]

    static func int(_ range: Range<Int>, _ g: inout SplitMix64) -> Int { Int.random(in: range, using: &g) }

    /// One random byte-level mutation of `b` (`other` is a second seed for splicing).
    static func mutateBytes(_ b: [UInt8], other: [UInt8], _ g: inout SplitMix64) -> [UInt8] {
        var b = b
        if b.isEmpty { return [UInt8(truncatingIfNeeded: g.next())] }
        switch int(0..<9, &g) {
        case 0:  // bit flips
            for _ in 0..<int(1..<9, &g) { b[int(0..<b.count, &g)] ^= 1 << UInt8(int(0..<8, &g)) }
        case 1:  // interesting bytes
            for _ in 0..<int(1..<4, &g) { b[int(0..<b.count, &g)] = interestingBytes.randomElement(using: &g)! }
        case 2:  // an interesting little-endian integer of 2, 4 or 8 bytes
            let width = [2, 4, 8].randomElement(using: &g)!
            let at = int(0..<b.count, &g)
            let v = interestingInts.randomElement(using: &g)!
            for k in 0..<width where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 3:  // truncation
            b.removeLast(int(1..<(b.count + 1), &g))
        case 4:  // inserted run (random bytes or one repeated byte)
            let n = int(1..<65, &g)
            let byte = UInt8(truncatingIfNeeded: g.next())
            let run =
                int(0..<2, &g) == 0
                ? [UInt8](repeating: byte, count: n) : (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            b.insert(contentsOf: run, at: int(0..<(b.count + 1), &g))
        case 5:  // deleted run
            let at = int(0..<b.count, &g)
            b.removeSubrange(at..<min(b.count, at + int(1..<65, &g)))
        case 6:  // duplicated run
            let at = int(0..<b.count, &g)
            let run = Array(b[at..<min(b.count, at + int(1..<129, &g))])
            b.insert(contentsOf: run, at: int(0..<(b.count + 1), &g))
        case 7:  // splice: a prefix of this seed and a suffix of another
            guard !other.isEmpty else { break }
            b = Array(b[..<int(0..<(b.count + 1), &g)]) + Array(other[int(0..<other.count, &g)...])
        default:  // a varint made large: a byte replaced by a long varint
            let at = int(0..<b.count, &g)
            var v = interestingInts.randomElement(using: &g)! | UInt64(int(0..<256, &g))
            var varint: [UInt8] = []
            repeat {
                varint.append(UInt8(v & 0x7F) | (v > 0x7F ? 0x80 : 0))
                v >>= 7
            } while v != 0
            b.replaceSubrange(at..<(at + 1), with: varint)
        }
        return b
    }
}

// MARK: - .npy

extension Fuzz {
    /// Seeds: fixtures of several dtypes and shapes, plus made-up files for bool, int32, an empty array, a
    /// version 2.0 header and a Fortran-order header (no fixture has those).
    static func npySeeds() throws -> [[UInt8]] {
        let files = [
            "onnx/ops/conv2d_basic.input.npy",  // float32 (1, 2, 7, 7) or similar 4-D
            "onnx/ops/clip_min_max_graph_inputs.input.max.npy",  // float32 scalar, shape ()
            "onnx/lenet_digits.labels.npy",  // int64 (8,)
            "sparsifier/n3_gaussian_pq/rewards.npy",  // float64 (8,)
            "onnx/mlp_breast_cancer.logits.npy",  // float32 2-D
        ]
        var seeds = try files.map { try FileIO.read(fixtures.appendingPathComponent($0).path) }
        seeds.append(NPY.encode(NPYArray([true, false, true, true, false, false], shape: [2, 3])))
        seeds.append(NPY.encode(NPYArray([Int32](arrayLiteral: 1, -2, 3, 4), shape: [2, 2])))
        seeds.append(NPY.encode(NPYArray([Float](), shape: [0, 3])))
        let v2 = NPY.header(shape: [3], type: .float64)
        let dict = Array(v2[10...])
        seeds.append(
            npyMagic + [2, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8), 0, 0] + dict
                + [Double](arrayLiteral: 1, 2, 3).withUnsafeBytes { Array($0) })
        let fortran =
            Array(
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }".padding(
                    toLength: 117, withPad: " ", startingAt: 0
                )
                .utf8) + [0x0A]
        seeds.append(npyMagic + [1, 0, UInt8(fortran.count), 0] + fortran + [UInt8](repeating: 0, count: 16))
        return seeds
    }

    static let descrs = [
        "<f4", "<f8", "<i8", "<i4", "|b1", "<b1", "=f4", "<f2", ">f8", ">i1", "<c16", "O", "|u1", "|V8", "<U3", "",
        "'", "<f4'", "<i8\"", "\u{00e9}",
    ]
    static let dimTexts = [
        "0", "1", "2", "3", "-1", "-0", "+4", "1L", "1099511627776", "4611686018427387904", "9223372036854775807",
        "9223372036854775808", "99999999999999999999", "", " ", "1.5", "0x10", "2e3", "None", "(", ")",
    ]

    /// A random header dict: shape numbers huge, negative, zero or not numbers; descr odd; keys dropped.
    static func randomDict(_ g: inout SplitMix64) -> String {
        var fields: [String] = []
        if int(0..<12, &g) > 0 { fields.append("'descr': '\(descrs.randomElement(using: &g)!)'") }
        if int(0..<12, &g) > 0 {
            fields.append("'fortran_order': \(["False", "True", "0", "", "False False"].randomElement(using: &g)!)")
        }
        if int(0..<12, &g) > 0 {
            let dims = (0..<int(0..<6, &g)).map { _ in
                int(0..<3, &g) == 0 ? dimTexts.randomElement(using: &g)! : String(int(0..<5, &g))
            }
            let open = ["(", "[", "", "(("].randomElement(using: &g)!
            let close = [")", "]", "", ",)"].randomElement(using: &g)!
            fields.append("'shape': \(open)\(dims.joined(separator: ", "))\(close)")
        }
        fields.shuffle(using: &g)
        return "{" + fields.joined(separator: ", ") + ", }"
    }

    /// One `.npy` mutation: a byte mutation, a header edit, or a whole new header over the old data.
    static func mutateNPY(_ b: [UInt8], other: [UInt8], _ g: inout SplitMix64) -> [UInt8] {
        var b = b
        let headerEnd = b.count >= 10 ? min(b.count, 10 + (Int(b[8]) | Int(b[9]) << 8)) : b.count
        switch int(0..<8, &g) {
        case 0, 1:  // a new dict, over the old data or with the data resized to a random length
            var dict = Array(randomDict(&g).utf8)
            if int(0..<4, &g) > 0 {
                dict += [UInt8](repeating: 0x20, count: (64 - (dict.count + 11) % 64) % 64) + [0x0A]
            }
            var data = Array(b[headerEnd...])
            if int(0..<3, &g) == 0 {
                data = [UInt8](repeating: 0x3F, count: [0, 1, 4, 8, 24, 48].randomElement(using: &g)!)
            }
            let version = UInt8([1, 1, 1, 2, 3].randomElement(using: &g)!)
            let length =
                version == 1
                ? [UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)]
                : [UInt8(dict.count & 0xFF), UInt8(dict.count >> 8), 0, 0]
            b = npyMagic + [version, 0] + length + dict + data
        case 2:  // the header length field corrupted
            guard b.count >= 10 else { break }
            let v = interestingInts.randomElement(using: &g)! &+ UInt64(bitPattern: Int64(int(-3..<4, &g)))
            b[8] = UInt8(truncatingIfNeeded: v)
            b[9] = UInt8(truncatingIfNeeded: v >> 8)
        case 3:  // the version byte
            guard b.count >= 10 else { break }
            b[6] = [0, 1, 2, 3, 4, 0xFF].randomElement(using: &g)!
        case 4:  // a byte mutation inside the header text
            guard headerEnd > 10 else { break }
            let at = int(10..<headerEnd, &g)
            b[at] = [0x27, 0x22, 0x2C, 0x28, 0x29, 0x3A, 0x2D, 0x39, 0x7D, 0xFF, 0x00, 0xC3].randomElement(using: &g)!
        default:
            b = mutateBytes(b, other: other, &g)
        }
        return int(0..<4, &g) == 0 ? mutateBytes(b, other: other, &g) : b
    }

    /// Sends one `.npy` input through every public reading path. Errors are the accepted outcome.
    static func exerciseNPY(_ bytes: [UInt8], path: String) -> [Error] {
        var errors: [Error] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { errors.append(error) }
        }
        attempt {
            let a = try NPY.decode(bytes, path: path)
            _ = (a.count, a.doubles().count, a.floats().count, a.bools().count, a.values(as: Double.self).count)
            _ = NPY.encode(a)
        }
        attempt { _ = try NPY.read(path).floats() }
        attempt { _ = try NPY.readValues(path, as: Float.self) }
        attempt { _ = try NPY.readValues(path, as: Double.self) }
        attempt {
            let h = try NPY.parseHeader(Array(bytes.prefix(1 << 16)), path: path)
            if h.dataBytes <= 1 << 24 {  // a header that passes but declares more is the reader's to refuse above
                let out = UnsafeMutableRawBufferPointer.allocate(byteCount: h.count * 4, alignment: 16)
                defer { out.deallocate() }
                try NPY.readData(path, as: Float.self, into: out)
            }
        }
        return errors
    }
}

// MARK: - .onnx

extension Fuzz {
    static func onnxSeedFiles() -> [String] {
        let ops = [
            "conv2d_pads_strides", "conv2d_groups", "gemm_transa_alpha_beta", "maxpool_ceil_mode",
            "averagepool_pads_count_include_pad_1",
            "reshape_zero_minus1", "reshape_constant_node", "transpose_perm_0231", "squeeze_axes_input",
            "unsqueeze_axes_input",
            "concat_axis_neg1_initializer", "softmax_axis_neg2", "reducesum_axes_input_keepdims0",
            "batchnorm_inference_small_var",
            "flatten_axis2", "clip_min_max_graph_inputs", "matmul_batched", "add_bcast_both_sides",
            "conv1d_dilation_groups",
            "globalaveragepool",
        ].map { "onnx/ops/\($0).onnx" }
        return ["onnx/mlp_breast_cancer.onnx", "onnx/lenet_digits_opset17.onnx", "onnx/resnet_digits.onnx"] + ops
    }

    static let hugeDims: [Int64] = [0, 1, 2, 3, -1, -2, 1 << 20, 1 << 31, 1 << 40, 1 << 62, Int64.max, Int64.min]
    static let attributeInts: [Int64] = [0, 1, 2, 3, -1, -2, -5, 100, 1 << 31, 1 << 40, Int64.max, Int64.min]

    static func mutateTensor(_ t: inout Onnx_TensorProto, _ g: inout SplitMix64) {
        switch int(0..<7, &g) {
        case 0:  // a dim huge, negative or zero
            if t.dims.isEmpty {
                t.dims = [hugeDims.randomElement(using: &g)!]
            } else {
                t.dims[int(0..<t.dims.count, &g)] = hugeDims.randomElement(using: &g)!
            }
        case 1:  // dims added or removed (same data)
            if int(0..<2, &g) == 0 || t.dims.isEmpty {
                t.dims.insert(Int64(int(0..<3, &g)), at: 0)
            } else {
                t.dims.removeLast()
            }
        case 2:  // raw_data shortened or lengthened
            if t.rawData.isEmpty {
                t.floatData.removeLast(min(t.floatData.count, int(1..<5, &g)))
            } else if int(0..<2, &g) == 0 {
                t.rawData.removeLast(min(t.rawData.count, int(1..<9, &g)))
            } else {
                t.rawData.append(contentsOf: [UInt8](repeating: 0x40, count: int(1..<9, &g)))
            }
        case 3:  // data type changed
            t.dataType = Int32([0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 16, 17, 99, -1].randomElement(using: &g)!)
        case 4:  // raw data moved into the typed fields or dropped
            if int(0..<2, &g) == 0 {
                t.rawData = Data()
            } else {
                t.int64Data = [1, 2, 3]
                t.rawData = Data()
            }
        case 5:  // dims swapped for a product-preserving lie with negative entries
            let product = t.dims.reduce(Int64(1), &*)
            t.dims = [-1, product > 0 ? -product : -1]
        default:  // external data location
            t.dataLocation = .external
        }
    }

    static func mutateAttribute(_ a: inout Onnx_AttributeProto, _ g: inout SplitMix64) {
        switch int(0..<6, &g) {
        case 0:  // type swapped
            a.type = Onnx_AttributeProto.AttributeType(rawValue: int(0..<15, &g)) ?? .undefined
        case 1:  // an int entry made extreme
            if a.ints.isEmpty {
                a.i = attributeInts.randomElement(using: &g)!
            } else {
                a.ints[int(0..<a.ints.count, &g)] = attributeInts.randomElement(using: &g)!
            }
        case 2:  // ints lengthened or shortened
            if int(0..<2, &g) == 0 {
                a.ints.append(attributeInts.randomElement(using: &g)!)
            } else if !a.ints.isEmpty {
                a.ints.removeLast()
            }
        case 3:  // float oddities
            a.f = [Float.nan, .infinity, -1, 0, 1e30].randomElement(using: &g)!
            a.floats = a.floats.map { _ in [Float.nan, 0, -1].randomElement(using: &g)! }
        case 4:  // string oddities
            a.s = Data(["SAME_UPPER", "VALID", "", "NOTSET", "\u{ff}"].randomElement(using: &g)!.utf8)
        default:
            if a.hasT {
                mutateTensor(&a.t, &g)
            } else {
                a.name = ["axis", "axes", "perm", "pads", "group", "kernel_shape"].randomElement(using: &g)!
            }
        }
    }

    /// One structured mutation of a decoded model.
    static func mutateModel(_ m: inout Onnx_ModelProto, _ g: inout SplitMix64) {
        var graph = m.graph
        let names = graph.node.flatMap { $0.input + $0.output } + graph.initializer.map(\.name) + ["", "missing"]
        switch int(0..<11, &g) {
        case 0, 1:  // an initializer tensor
            if !graph.initializer.isEmpty { mutateTensor(&graph.initializer[int(0..<graph.initializer.count, &g)], &g) }
        case 2, 3:  // an attribute (Constant values included)
            let withAttrs = graph.node.indices.filter { !graph.node[$0].attribute.isEmpty }
            if let i = withAttrs.randomElement(using: &g) {
                mutateAttribute(&graph.node[i].attribute[int(0..<graph.node[i].attribute.count, &g)], &g)
            } else if !graph.node.isEmpty {
                var a = Onnx_AttributeProto()
                a.name = ["axis", "axes", "perm", "group", "pads", "strides"].randomElement(using: &g)!
                a.type = .int
                a.i = attributeInts.randomElement(using: &g)!
                graph.node[int(0..<graph.node.count, &g)].attribute.append(a)
            }
        case 4:  // a node input referencing a missing or another name, or removed, or added
            guard !graph.node.isEmpty else { break }
            let i = int(0..<graph.node.count, &g)
            if graph.node[i].input.isEmpty || int(0..<4, &g) == 0 {
                graph.node[i].input.append(names.randomElement(using: &g)!)
            } else if int(0..<3, &g) == 0 {
                graph.node[i].input.removeLast()
            } else {
                graph.node[i].input[int(0..<graph.node[i].input.count, &g)] = names.randomElement(using: &g)!
            }
        case 5:  // an operator swapped for another supported one
            guard !graph.node.isEmpty else { break }
            graph.node[int(0..<graph.node.count, &g)].opType = Graph.supportedOps.sorted().randomElement(using: &g)!
        case 6:  // nodes removed, duplicated or reordered
            guard !graph.node.isEmpty else { break }
            let i = int(0..<graph.node.count, &g)
            switch int(0..<3, &g) {
            case 0: graph.node.remove(at: i)
            case 1: graph.node.append(graph.node[i])
            default: graph.node.swapAt(i, int(0..<graph.node.count, &g))
            }
        case 7:  // declared input shape
            guard !graph.input.isEmpty else { break }
            let i = int(0..<graph.input.count, &g)
            var dims = graph.input[i].type.tensorType.shape.dim
            if dims.isEmpty || int(0..<4, &g) == 0 {
                dims.append(Onnx_TensorShapeProto.Dimension())
            } else {
                dims[int(0..<dims.count, &g)].dimValue = hugeDims.randomElement(using: &g)!
            }
            graph.input[i].type.tensorType.shape.dim = dims
        case 8:  // an output name changed, or the outputs dropped
            if graph.output.isEmpty || int(0..<3, &g) == 0 {
                graph.output = []
            } else {
                graph.output[0].name = names.randomElement(using: &g)!
            }
        case 9:  // opset
            if m.opsetImport.isEmpty { m.opsetImport = [Onnx_OperatorSetIdProto()] }
            m.opsetImport[0].version = [0, 10, 11, 12, 13, 17, 18, 21, 22, -1].randomElement(using: &g)!
        default:  // an initializer made a graph input or a graph input dropped
            if int(0..<2, &g) == 0, let t = graph.initializer.randomElement(using: &g) {
                var v = Onnx_ValueInfoProto()
                v.name = t.name
                graph.input.append(v)
                graph.initializer.removeAll { $0.name == t.name }
            } else if !graph.input.isEmpty {
                graph.input.removeLast()
            }
        }
        m.graph = graph
    }

    /// One `.onnx` mutation: mostly structured (one to three edits, re-serialised), sometimes bytes only.
    static func mutateONNX(_ model: Onnx_ModelProto, bytes: [UInt8], other: [UInt8], _ g: inout SplitMix64) -> [UInt8] {
        if int(0..<5, &g) == 0 { return mutateBytes(bytes, other: other, &g) }
        var m = model
        for _ in 0..<int(1..<4, &g) { mutateModel(&m, &g) }
        let out = (try? m.serializedBytes() as [UInt8]) ?? bytes
        return int(0..<6, &g) == 0 ? mutateBytes(out, other: other, &g) : out
    }

    /// The input a loaded model gets: its declared shape with batch and symbolic dimensions 1; nil when that shape
    /// is unknown, negative or large.
    static func smallInput(_ model: ONNXModel, _ g: inout SplitMix64) -> Tensor? {
        let declared = model.input.shape
        guard !declared.isEmpty else { return nil }
        let shape = declared.map { $0 ?? 1 }
        guard shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 12 }) else { return nil }
        var count = 1
        for d in shape {
            count = count.multipliedReportingOverflow(by: d).overflow ? .max : count * d
            if count > 1 << 16 { return nil }
        }
        return Tensor(shape: shape, floats: (0..<count).map { _ in Float.random(in: -2..<2, using: &g) })
    }

    /// Sends one `.onnx` file through loading and, if it loads, one run of each CPU executor.
    static func exerciseONNX(_ path: String, _ g: inout SplitMix64) -> [Error] {
        var errors: [Error] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { errors.append(error) }
        }
        attempt {
            let graph = try Graph.load(path)
            if let name = graph.nodes.flatMap(\.outputs).filter({ !$0.isEmpty }).randomElement(using: &g) {
                let m = try ONNXModel(path: path, output: name)
                if let x = smallInput(m, &g) { _ = try m.run(x) }
            }
        }
        attempt {
            let model = try ONNXModel(path: path)
            if let x = smallInput(model, &g) {  // models with no small concrete input are only loaded
                _ = try model.run(x)
                _ = try model.outputShape(forInput: x.shape)
                let n = min(2, x.count)
                let forward = try MaskedForward(
                    model: model, sample: x, players: (0..<n).map { [$0] },
                    baseline: [Float](repeating: 0, count: x.count), batchSize: 4,
                    useLinearity: int(0..<2, &g) == 0)
                _ = try forward.outputs(from: 0, count: 1 << n)
            }
        }
        return errors
    }
}

// MARK: - tests

@Suite("Fuzzing the .npy and .onnx readers", .serialized)
struct FuzzTests {
    /// Errors other than HarsanyiError (a raw protobuf or Foundation error) would reach the CLI unexplained.
    static func check(_ errors: [Error], _ context: @autoclosure () -> String) {
        for e in errors where !(e is HarsanyiError) {
            Issue.record("\(context()): a \(type(of: e)) escaped instead of a HarsanyiError: \(e)")
        }
    }

    @Test("mutated .npy files are read or refused with a HarsanyiError, never a trap")
    func npy() throws { try MemoryHeavy.exclusive { try npyFuzz() } }

    func npyFuzz() throws {
        let seeds = try Fuzz.npySeeds()
        let rss = Fuzz.peakResident()
        var refused = 0
        let ran = try Fuzz.loop("npy", seeds: seeds.count) { s, i, g in
            let other = seeds.randomElement(using: &g)!
            let bytes = Fuzz.mutateNPY(seeds[s], other: other, &g)
            let note = "npy fuzz seed \(Fuzz.seed) file \(s) iteration \(i)"
            let path = try Fuzz.stage(bytes, ext: "npy", note: note)
            let errors = Fuzz.exerciseNPY(bytes, path: path)
            refused += errors.isEmpty ? 0 : 1
            Self.check(errors, note)
        }
        let grown = Fuzz.peakResident() - rss
        print("npy fuzz: seed \(Fuzz.seed), \(ran) iterations over \(seeds.count) seeds, \(refused) refused")
        #expect(ran >= seeds.count, "npy fuzz seed \(Fuzz.seed): too few iterations ran (\(ran))")
        #expect(grown < 1 << 30, "npy fuzz seed \(Fuzz.seed): peak memory grew by \(grown >> 20) MiB")
    }

    /// Replays one saved input (HARSANYI_FUZZ_REPLAY=path/to/current.onnx) under 64 generator states, for minimising
    /// a crasher; reported as skipped unless the variable is set.
    @Test(
        "replay of a saved .onnx input",
        .enabled(if: ProcessInfo.processInfo.environment["HARSANYI_FUZZ_REPLAY"] != nil, "HARSANYI_FUZZ_REPLAY is not set"))
    func replay() throws {
        let path = try #require(ProcessInfo.processInfo.environment["HARSANYI_FUZZ_REPLAY"])
        for state in 0..<64 {
            var g = SplitMix64(seed: UInt64(state))
            print("replay state \(state)")
            _ = Fuzz.exerciseONNX(path, &g)
        }
    }

    @Test("mutated .onnx models load, run or are refused with a HarsanyiError, never a trap")
    func onnx() throws { try MemoryHeavy.exclusive { try onnxFuzz() } }

    func onnxFuzz() throws {
        let files = Fuzz.onnxSeedFiles()
        let seeds = try files.map { try FileIO.read(Fuzz.fixtures.appendingPathComponent($0).path) }
        let models = try seeds.map { try Onnx_ModelProto(serializedBytes: $0) }
        let rss = Fuzz.peakResident()
        var refused = 0
        let ran = try Fuzz.loop("onnx", seeds: seeds.count) { s, i, g in
            let other = seeds.randomElement(using: &g)!
            let bytes = Fuzz.mutateONNX(models[s], bytes: seeds[s], other: other, &g)
            let note = "onnx fuzz seed \(Fuzz.seed) file \(s) (\(files[s])) iteration \(i)"
            let path = try Fuzz.stage(bytes, ext: "onnx", note: note)
            let errors = Fuzz.exerciseONNX(path, &g)
            refused += errors.isEmpty ? 0 : 1
            Self.check(errors, note)
        }
        let grown = Fuzz.peakResident() - rss
        print("onnx fuzz: seed \(Fuzz.seed), \(ran) iterations over \(seeds.count) seeds, \(refused) refused")
        #expect(ran >= seeds.count, "onnx fuzz seed \(Fuzz.seed): too few iterations ran (\(ran))")
        #expect(grown < 1 << 30, "onnx fuzz seed \(Fuzz.seed): peak memory grew by \(grown >> 20) MiB")
    }

    @Test("every file in Tests/Fixtures/fuzz/crashers is refused with one HarsanyiError line, never a trap")
    func crashers() throws {
        let dir = Fuzz.crashers.path
        var isDir: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue, "missing \(dir)")
        #expect(FileManager.default.fileExists(atPath: dir + "/README.md"), "the crashers folder lacks its README.md")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0 != "README.md" && $0 != "make_crashers.py"
        }.sorted()
        for name in files {
            let path = dir + "/" + name
            if name.hasSuffix(".runs.onnx") {
                // A valid model that used to trap: it must now run (to an empty output where a dim is 0).
                let model = try ONNXModel(path: path)
                let shape = model.input.shape.map { $0 ?? 1 }
                let y = try model.run(Tensor(shape: shape, floats: [Float](repeating: 1, count: shape.reduce(1, *))))
                #expect(y.floats.count == y.count, "\(name): output shape \(y.shape) with \(y.floats.count) values")
                continue
            }
            var g = SplitMix64(seed: 1)
            let errors: [Error]
            if name.hasSuffix(".npy") {
                errors = Fuzz.exerciseNPY(try FileIO.read(path), path: path)
            } else if name.hasSuffix(".onnx") {
                errors = Fuzz.exerciseONNX(path, &g)
            } else {
                Issue.record("\(name): crashers are .npy or .onnx files")
                continue
            }
            #expect(!errors.isEmpty, "\(name) was accepted; a crasher must be refused")
            Self.check(errors, name)
            for e in errors {
                let line = "\(e)"
                #expect(!line.isEmpty && !line.contains("\n"), "\(name): the error is not one line: \(line)")
            }
        }
    }

    /// The Gemm crasher is also refused by a batch of one (the crashers test would pass on batch 4's broadcast
    /// error alone; batch 1 is where C broadcast to a 0-sized [0, N] and sgemm wrote past the empty array, which
    /// is Swift's shared empty-array storage: it overwrote the empty Dictionary singleton after it).
    @Test("a Gemm C that does not broadcast to exactly [M, N] is refused at batch 1 and 4 and by the masked CPU path")
    func gemmBias() throws {
        let model = try ONNXModel(path: Fuzz.crashers.appendingPathComponent("onnx-gemm-bias-empty-broadcast.onnx").path)
        for batch in [1, 4] {
            let x = Tensor(shape: [batch, 4], floats: [Float](repeating: 1, count: 4 * batch))
            #expect(throws: HarsanyiError.self) { _ = try model.run(x) }
            do {
                _ = try model.run(x)
            } catch {
                #expect("\(error)".contains("Gemm C of shape [0, 3]"), "batch \(batch): \(error)")
            }
        }
        let one = Tensor(shape: [1, 4], floats: [Float](repeating: 1, count: 4))
        #expect(throws: HarsanyiError.self) {
            let forward = try MaskedForward(
                model: model, sample: one, players: [[0], [1]], baseline: [Float](repeating: 0, count: 4), batchSize: 1,
                useLinearity: false)
            _ = try forward.outputs(from: 0, count: 4)
        }
    }

    /// The CLI on a bad file: one error line on stderr, exit status 1, nothing on stdout.
    @Test("harsanyi forward and transform print one error line and exit 1 on fuzz crashers and bad .npy files")
    func cli() throws {
        try #require(CLI.available, "the harsanyi binary is not built (run swift build first)")
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write([Float](repeating: 0.5, count: 16), shape: [1, 1, 4, 4], to: dir + "/x.npy")
        try NPY.write([Float](repeating: 0.5, count: 4), shape: [1, 4], to: dir + "/x4.npy")
        // A header declaring 2^40 elements over 8 bytes of data, and one with a corrupted header length.
        let huge = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }".utf8) + [0x0A]
        try AtomicFile.write(
            Fuzz.npyMagic + [1, 0, UInt8(huge.count), 0] + huge + [UInt8](repeating: 0, count: 8), to: dir + "/huge.npy"
        )
        var badLength = NPY.encode(NPYArray([1.0, 2.0, 3.0, 4.0] as [Double]))
        badLength[8] = 0xFF
        badLength[9] = 0x7F
        try AtomicFile.write(badLength, to: dir + "/length.npy")
        let crashers = Fuzz.crashers.path
        let runs: [[String]] = [
            ["forward", "--model", crashers + "/onnx-averagepool-huge-pads.onnx", "--input", dir + "/x.npy"],
            ["forward", "--model", crashers + "/onnx-initializer-dims-overflow.onnx", "--input", dir + "/x4.npy"],
            ["forward", "--model", crashers + "/onnx-initializer-negative-dims.onnx", "--input", dir + "/x4.npy"],
            ["transform", "--kind", "and", "--in", dir + "/huge.npy", "--out", dir + "/o.npy"],
            ["transform", "--kind", "and", "--in", dir + "/length.npy", "--out", dir + "/o.npy"],
        ]
        for args in runs {
            let r = try CLI.run(args + (args[0] == "forward" ? ["--out", dir + "/y.npy"] : []))
            let lines = r.stderr.split(separator: "\n")
            #expect(r.status == 1, "\(args): exit \(r.status), stderr \(r.stderr)")
            #expect(lines.count == 1, "\(args): want one error line, got \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args): stdout \(r.stdout)")
        }
        #expect(
            !FileManager.default.fileExists(atPath: dir + "/o.npy")
                && !FileManager.default.fileExists(atPath: dir + "/y.npy"))
    }
}
