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

    /// A shape that does not match the number of values is replaced by the 1-D shape [count] (callers in this
    /// package always pass matching shapes; the fallback keeps the file consistent instead of trapping).
    private init<T>(_ values: [T], _ type: NPYType, _ shape: [Int]) {
        self.shape = shape.reduce(1, *) == values.count ? shape : [values.count]
        self.type = type
        bytes = values.withUnsafeBytes { Array($0) }  // x86-64 and arm64 are little-endian
    }

    /// The values converted to Double (float32, float64, int64, int32, bool all convert).
    public func doubles() -> [Double] {
        bytes.withUnsafeBytes { raw in
            switch type {
            case .float32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)) }
            case .float64: return copied(Double.self)
            case .int64: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .int32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .bool: return raw.map { $0 != 0 ? 1 : 0 }
            }
        }
    }

    /// The values as Float; float64 and integers are rounded to the nearest Float.
    public func floats() -> [Float] {
        if type == .float32 { return copied(Float.self) }
        return doubles().map { Float($0) }
    }

    /// The bytes reinterpreted as `T` with one memcpy (the file's type must be T's).
    private func copied<T>(_: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                if let base = buffer.baseAddress, let src = raw.baseAddress { UnsafeMutableRawPointer(base).copyMemory(from: src, byteCount: count * MemoryLayout<T>.size) }
            }
            initialized = count
        }
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
        try decode(try FileIO.read(path), path: path)
    }

    /// The parsed header of a `.npy` file: shape, element type and the byte offset where the data starts.
    public struct Header: Sendable, Equatable {
        public var shape: [Int]
        public var type: NPYType
        public var dataOffset: Int
        public var count: Int { shape.reduce(1, *) }
        public var dataBytes: Int { count * type.itemSize }
    }

    /// Parses the header at the start of `b` (which may hold only the first bytes of the file).
    public static func parseHeader(_ b: [UInt8], path: String = "<memory>") throws -> Header {
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
        var count = type.itemSize
        for d in shape {
            let (m, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw bad("shape \(shapeText) is too large") }
            count = m
        }
        return Header(shape: shape, type: type, dataOffset: start + headerLength)
    }

    /// Checks that `available` data bytes match what the header needs.
    static func checkDataSize(_ h: Header, available: Int, path: String) throws {
        guard available >= h.dataBytes else {
            throw HarsanyiError.badFile(
                path: path, reason: "truncated data: shape \(h.shape) needs \(h.dataBytes) bytes, file has \(available)")
        }
        guard available == h.dataBytes else {
            throw HarsanyiError.badFile(path: path, reason: "\(available - h.dataBytes) unexpected bytes after the data")
        }
    }

    public static func decode(_ b: [UInt8], path: String = "<memory>") throws -> NPYArray {
        let h = try parseHeader(b, path: path)
        try checkDataSize(h, available: b.count - h.dataOffset, path: path)
        var data = b
        data.removeFirst(h.dataOffset)  // an in-place move, no second buffer
        return NPYArray(shape: h.shape, type: h.type, bytes: data)
    }

    /// Reads the data of a `.npy` file holding `T` straight into `destination` (exactly its size), with pread:
    /// one copy from the page cache. Use `parseHeader` first to size the destination.
    public static func readData<T: HarsanyiReal>(_ path: String, as _: T.Type, into destination: UnsafeMutableRawBufferPointer) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HarsanyiError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw HarsanyiError.io(path: path, reason: "cannot stat") }
        var head = [UInt8](repeating: 0, count: min(Int(st.st_size), 1 << 16))
        guard head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, $0.count, 0) }) == head.count else {
            throw HarsanyiError.io(path: path, reason: "read failed")
        }
        let h = try parseHeader(head, path: path)
        try checkDataSize(h, available: Int(st.st_size) - h.dataOffset, path: path)
        guard h.type == (T.precision == .float32 ? .float32 : .float64), h.dataBytes == destination.count else {
            let values = try readValues(path, as: T.self).values
            guard values.count * MemoryLayout<T>.size == destination.count else {
                throw HarsanyiError.invalidArgument("\(path) holds \(values.count) values, the destination \(destination.count / MemoryLayout<T>.size)")
            }
            values.withUnsafeBytes { destination.copyMemory(from: $0) }
            return
        }
        var done = 0
        while done < destination.count {
            let r = pread(fd, destination.baseAddress! + done, destination.count - done, off_t(h.dataOffset + done))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { throw HarsanyiError.io(path: path, reason: "read failed") }
            done += r
        }
    }

    /// Reads a float array straight into `[T]` when the file holds T (one copy from the page cache into
    /// memory advised for huge pages), else through `read` and a conversion.
    public static func readValues<T: HarsanyiReal>(_ path: String, as _: T.Type) throws -> (shape: [Int], values: [T]) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HarsanyiError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw HarsanyiError.io(path: path, reason: "not a regular file") }
        var head = [UInt8](repeating: 0, count: min(Int(st.st_size), 1 << 16))
        let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got == head.count else { throw HarsanyiError.io(path: path, reason: "read failed") }
        let h = try parseHeader(head, path: path)
        try checkDataSize(h, available: Int(st.st_size) - h.dataOffset, path: path)
        let expected: NPYType = T.precision == .float32 ? .float32 : .float64
        guard h.type == expected else {
            let a = try read(path)
            return (a.shape, a.values(as: T.self))
        }
        var failed = false
        let values = [T](unsafeUninitializedCapacity: h.count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            Memory.adviseHugePages(raw)
            var done = 0
            while done < raw.count {
                let r = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(h.dataOffset + done))
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { failed = true; break }
                done += r
            }
            initialized = failed ? 0 : h.count
        }
        guard !failed else { throw HarsanyiError.io(path: path, reason: "read failed") }
        return (h.shape, values)
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

    /// The header of a version 1.0 `.npy` file (magic, version, length, dict padded to 64 bytes).
    public static func header(shape: [Int], type: NPYType) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(type.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = dict.utf8.count
        return magic + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(dict.utf8)
    }

    /// The bytes of a version 1.0 `.npy` file holding `array`.
    public static func encode(_ array: NPYArray) -> [UInt8] { header(shape: array.shape, type: array.type) + array.bytes }

    /// Writes `array` to `path` atomically (temporary file in the same folder, then rename).
    public static func write(_ array: NPYArray, to path: String) throws {
        try array.bytes.withUnsafeBytes { data in
            try AtomicFile.write(to: path, header: header(shape: array.shape, type: array.type), data: data)
        }
    }

    /// Writes `values` (Float or Double) with `shape` to `path` atomically, straight from the array's memory.
    public static func write<T: HarsanyiReal>(_ values: [T], shape: [Int]? = nil, to path: String) throws {
        let type: NPYType = T.precision == .float32 ? .float32 : .float64
        try values.withUnsafeBytes { data in
            try AtomicFile.write(to: path, header: header(shape: shape ?? [values.count], type: type), data: data)
        }
    }
}

/// Whole-file reads and writes with POSIX calls: no intermediate copies, and writes that never leave a
/// partial file behind (temporary file beside the target, then rename).
public enum FileIO {
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HarsanyiError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw HarsanyiError.io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let r = Foundation.read(fd, buffer.baseAddress! + done, size - done)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { failure = r < 0 ? errno : EIO; break }
                done += r
            }
            initialized = done
        }
        guard failure == 0, bytes.count == size else { throw HarsanyiError.io(path: path, reason: "read failed: \(String(cString: strerror(failure)))") }
        return bytes
    }

    /// The first `bytes` bytes of a file (fewer if it is shorter).
    public static func readPrefix(_ path: String, bytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HarsanyiError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: bytes)
        let got = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got >= 0 else { throw HarsanyiError.io(path: path, reason: String(cString: strerror(errno))) }
        out.removeLast(bytes - got)
        return out
    }
}

/// Whole-file writes that never leave a partial file behind.
public enum AtomicFile {
    /// Writes `header` then `data` to a temporary file beside `path`, then renames it over `path`.
    public static func write(to path: String, header: [UInt8], data: UnsafeRawBufferPointer) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw HarsanyiError.io(path: path, reason: "cannot write: \(String(cString: strerror(errno)))") }
        func put(_ p: UnsafeRawPointer?, _ count: Int) -> Bool {
            guard let p else { return count == 0 }
            var done = 0
            while done < count {
                let w = Foundation.write(fd, p + done, count - done)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { return false }
                done += w
            }
            return true
        }
        let ok = header.withUnsafeBytes { put($0.baseAddress, $0.count) } && put(data.baseAddress, data.count)
        let why = ok ? "" : String(cString: strerror(errno))
        guard close(fd) == 0, ok else {
            unlink(tmp)
            throw HarsanyiError.io(path: path, reason: "write failed: \(why)")
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw HarsanyiError.io(path: path, reason: "cannot rename into place: \(why)")
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(to: path, header: [], data: $0) }
    }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }
}

/// Memory helpers for large buffers.
public enum Memory {
    /// Asks the kernel to back the 2 MiB-aligned interior of `buffer` with transparent huge pages (where THP is
    /// set to `madvise`), so that first touching a large array costs a few faults instead of one per 4 KiB page.
    public static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count >= 4 << 20 else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, 14 /* MADV_HUGEPAGE */)
    }
}
