import Foundation

/// The element types we read and write in NumPy `.npy` files (little-endian, C order).
public enum NPYType: String, Sendable {
    case float32 = "<f4", float64 = "<f8", int64 = "<i8", int32 = "<i4", bool = "|b1"

    public var itemSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        }
    }
}

/// An n-dimensional array as stored in a `.npy` file: shape, element type and the raw little-endian bytes.
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var type: NPYType
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    public init(shape: [Int], type: NPYType, bytes: [UInt8]) {
        self.shape = shape
        self.type = type
        self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]? = nil) { self.init(values, .float32, shape ?? [values.count]) }
    public init(_ values: [Double], shape: [Int]? = nil) { self.init(values, .float64, shape ?? [values.count]) }
    public init(_ values: [Int64], shape: [Int]? = nil) { self.init(values, .int64, shape ?? [values.count]) }
    public init(_ values: [Int32], shape: [Int]? = nil) { self.init(values, .int32, shape ?? [values.count]) }
    public init(_ values: [Bool], shape: [Int]? = nil) {
        self.init(shape: shape ?? [values.count], type: .bool, bytes: values.map { $0 ? 1 : 0 })
    }

    private init<T>(_ values: [T], _ type: NPYType, _ shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        self.shape = shape
        self.type = type
        bytes = values.withUnsafeBytes { Array($0) }  // x86-64 and arm64 are little-endian
    }

    /// The values converted to Double (float32, float64, int64, int32, bool all convert).
    public func doubles() -> [Double] {
        bytes.withUnsafeBytes { raw in
            switch type {
            case .float32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)) }
            case .float64: return (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
            case .int64: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .int32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .bool: return raw.map { $0 != 0 ? 1 : 0 }
            }
        }
    }

    /// The values as Float; float64 and integers are rounded to the nearest Float.
    public func floats() -> [Float] {
        if type == .float32 {
            return bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        }
        return doubles().map { Float($0) }
    }

    /// The values as `T`.
    public func values<T: HarsanyiReal>(as _: T.Type) -> [T] {
        T.self == Float.self ? floats() as! [T] : doubles().map { T($0) }
    }

    public func bools() -> [Bool] { type == .bool ? bytes.map { $0 != 0 } : doubles().map { $0 != 0 } }
}

/// Reading and writing NumPy `.npy` files, format versions 1.0, 2.0 and 3.0.
///
/// Accepted: little-endian (`<` or `=`; `|` for one-byte types) float32, float64, int64, int32 and bool in C
/// order. Everything else (Fortran order, big-endian, other types, bad or truncated files) is a
/// `HarsanyiError.badFile` naming the problem. Writes go to a temporary file that is renamed into place.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    public static func read(_ path: String) throws -> NPYArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarsanyiError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file")
        }
        return try decode([UInt8](data), path: path)
    }

    public static func decode(_ b: [UInt8], path: String = "<memory>") throws -> NPYArray {
        func bad(_ why: String) -> HarsanyiError { .badFile(path: path, reason: "not a valid .npy file: \(why)") }
        guard b.count >= 10, Array(b[0..<6]) == magic else { throw bad("missing the \\x93NUMPY magic") }
        let major = b[6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(b[8]) | Int(b[9]) << 8
            start = 10
        case 2, 3:
            guard b.count >= 12 else { throw bad("truncated header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            start = 12
        default: throw bad("unknown format version \(major)")
        }
        guard b.count >= start + headerLength else { throw bad("truncated header") }
        guard let header = String(bytes: b[start..<(start + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw bad("header is not text")
        }
        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)

        guard fortran == "False" else {
            throw HarsanyiError.badFile(path: path, reason: "Fortran-order arrays are not supported (save with np.ascontiguousarray)")
        }
        var code = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        if code.hasPrefix(">") && !code.hasSuffix("1") {
            throw HarsanyiError.badFile(path: path, reason: "big-endian data (\(code)) is not supported (use .astype('<f4') etc.)")
        }
        if code.hasPrefix("=") { code = "<" + code.dropFirst() }
        if code == "<b1" || code == "=b1" { code = "|b1" }
        guard let type = NPYType(rawValue: code) else {
            throw HarsanyiError.badFile(path: path, reason: "dtype \(code) is not supported (float32, float64, int64, int32 or bool)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()[] "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw bad("bad shape \(shapeText)") }
            shape.append(d)
        }
        var count = 1
        for d in shape {
            let (m, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw bad("shape \(shapeText) is too large") }
            count = m
        }
        let dataStart = start + headerLength
        let (expected, o) = count.multipliedReportingOverflow(by: type.itemSize)
        guard !o, b.count - dataStart >= expected else {
            throw HarsanyiError.badFile(
                path: path, reason: "truncated data: shape \(shape) needs \(expected) bytes, file has \(b.count - dataStart)")
        }
        guard b.count - dataStart == expected else {
            throw HarsanyiError.badFile(path: path, reason: "\(b.count - dataStart - expected) unexpected bytes after the data")
        }
        return NPYArray(shape: shape, type: type, bytes: Array(b[dataStart...]))
    }

    /// The value text of `'key': value` in a header dict literal.
    private static func field(_ key: String, in header: String, path: String) throws -> String {
        guard let k = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
            let colon = header[k.upperBound...].firstIndex(of: ":")
        else { throw HarsanyiError.badFile(path: path, reason: "not a valid .npy file: header lacks '\(key)'") }
        var rest = header[header.index(after: colon)...].drop { $0 == " " }
        if rest.first == "(" || rest.first == "[" {
            guard let close = rest.firstIndex(where: { $0 == ")" || $0 == "]" }) else {
                throw HarsanyiError.badFile(path: path, reason: "not a valid .npy file: unterminated shape")
            }
            return String(rest[...close])
        }
        if let q = rest.first, q == "'" || q == "\"" {
            rest = rest.dropFirst()
            guard let end = rest.firstIndex(of: q) else {
                throw HarsanyiError.badFile(path: path, reason: "not a valid .npy file: unterminated '\(key)'")
            }
            return String(rest[..<end])
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }

    /// The bytes of a version 1.0 `.npy` file holding `array`.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(array.type.rawValue)', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = magic + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out += array.bytes
        return out
    }

    /// Writes `array` to `path` atomically (temporary file in the same folder, then rename).
    public static func write(_ array: NPYArray, to path: String) throws {
        try AtomicFile.write(encode(array), to: path)
    }
}

/// Whole-file writes that never leave a partial file behind.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes)) else {
            throw HarsanyiError.io(path: path, reason: "cannot write (folder missing or not writable)")
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw HarsanyiError.io(path: path, reason: "cannot rename into place: \(why)")
        }
    }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }
}
