import Foundation
import HarsanyiCore
import ONNXProto

/// Decoding of ONNX TensorProto: every numeric element type, inline (typed fields or little-endian raw_data) or
/// in an external file.
///
/// Element types map to the two representations executors use: FLOAT, DOUBLE, FLOAT16 and BFLOAT16 become float32
/// (DOUBLE rounded once); BOOL and every integer type become int64. External data (`data_location = EXTERNAL`,
/// entries `location`, `offset`, `length`) is read only from inside the model's folder: an absolute location, one
/// that leaves the folder (`..`, or a symbolic link pointing out), a missing file or one shorter than
/// offset + length are errors naming the tensor; nothing outside the folder is ever opened.
enum TensorDecoding {
    /// Decodes `t`. `folder` is the model's folder (nil where external data cannot occur, e.g. attributes of a
    /// model read from memory); `context` names the tensor in errors.
    static func decode(_ t: Onnx_TensorProto, folder: String?, context: String) throws -> Tensor {
        let shape = t.dims.map { Int($0) }
        // Dims are checked before anything is sized by them: none negative, the product without overflow (the data
        // must then hold exactly that many values, which bounds it by the file size).
        var count = 1
        for d in shape {
            let (m, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else {
                throw HarsanyiError.invalidArgument("\(context): bad tensor shape \(shape)")
            }
            count = m
        }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)), let size = elementSize(type) else {
            throw HarsanyiError.unsupported(
                "\(context): tensor data type \(t.dataType) (numeric and bool types are supported)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw HarsanyiError.invalidArgument("\(context): bad tensor shape \(shape)") }
        var raw: [UInt8]? = t.rawData.isEmpty ? nil : Array(t.rawData)
        if t.dataLocation == .external {
            raw = try external(t, folder: folder, context: context, expected: bytes)
        }
        if let raw {
            guard raw.count == bytes else {
                throw HarsanyiError.invalidArgument(
                    "\(context): \(raw.count) bytes of data for shape \(shape) of \(type)")
            }
            return try fromRaw(raw, type: type, shape: shape, count: count)
        }
        return try fromTyped(t, type: type, shape: shape, count: count, context: context)
    }

    /// Bytes per element of the supported types.
    static func elementSize(_ type: Onnx_TensorProto.DataType) -> Int? {
        switch type {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float: return 4
        case .int64, .uint64, .double: return 8
        default: return nil
        }
    }

    static func fromRaw(_ b: [UInt8], type: Onnx_TensorProto.DataType, shape: [Int], count: Int) throws -> Tensor {
        func load<T>(_: T.Type) -> [T] {
            b.withUnsafeBytes { p in
                (0..<count).map { p.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
            }
        }
        switch type {
        case .float: return Tensor(shape: shape, floats: load(Float.self))
        case .double: return Tensor(shape: shape, floats: load(Double.self).map { Float($0) })
        case .float16: return Tensor(shape: shape, floats: load(UInt16.self).map(half))
        case .bfloat16:
            return Tensor(shape: shape, floats: load(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })
        case .bool: return Tensor(shape: shape, ints: b.map { $0 != 0 ? 1 : 0 })
        case .int8: return Tensor(shape: shape, ints: load(Int8.self).map { Int64($0) })
        case .uint8: return Tensor(shape: shape, ints: b.map { Int64($0) })
        case .int16: return Tensor(shape: shape, ints: load(Int16.self).map { Int64($0) })
        case .uint16: return Tensor(shape: shape, ints: load(UInt16.self).map { Int64($0) })
        case .int32: return Tensor(shape: shape, ints: load(Int32.self).map { Int64($0) })
        case .uint32: return Tensor(shape: shape, ints: load(UInt32.self).map { Int64($0) })
        case .int64: return Tensor(shape: shape, ints: load(Int64.self))
        case .uint64: return Tensor(shape: shape, ints: load(UInt64.self).map { Int64(bitPattern: $0) })
        default: throw HarsanyiError.unsupported("tensor data type \(type)")
        }
    }

    /// The typed fields: float_data, double_data, int64_data, uint64_data, and int32_data, which carries every
    /// type of 32 bits or fewer (float16 and bfloat16 as their bit patterns).
    static func fromTyped(
        _ t: Onnx_TensorProto, type: Onnx_TensorProto.DataType, shape: [Int], count: Int, context: String
    ) throws -> Tensor {
        let out: Tensor
        switch type {
        case .float: out = Tensor(shape: shape, floats: t.floatData)
        case .double: out = Tensor(shape: shape, floats: t.doubleData.map { Float($0) })
        case .float16: out = Tensor(shape: shape, floats: t.int32Data.map { half(UInt16(truncatingIfNeeded: $0)) })
        case .bfloat16:
            out = Tensor(
                shape: shape,
                floats: t.int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) })
        case .int64: out = Tensor(shape: shape, ints: t.int64Data)
        case .uint32, .uint64: out = Tensor(shape: shape, ints: t.uint64Data.map { Int64(bitPattern: $0) })
        case .bool: out = Tensor(shape: shape, ints: t.int32Data.map { $0 != 0 ? 1 : 0 })
        default: out = Tensor(shape: shape, ints: t.int32Data.map { Int64($0) })
        }
        let n = out.dtype == .float32 ? out.floats.count : out.ints.count
        guard n == count else { throw HarsanyiError.invalidArgument("\(context): \(n) values for shape \(shape)") }
        return out
    }

    /// IEEE binary16 bits to Float (exact: every half is a float).
    static func half(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// Reads the bytes of an external tensor, inside `folder` only.
    static func external(_ t: Onnx_TensorProto, folder: String?, context: String, expected: Int) throws -> [UInt8] {
        var entries: [String: String] = [:]
        for e in t.externalData { entries[e.key] = e.value }
        guard let folder else { throw HarsanyiError.unsupported("\(context): external data outside a model file") }
        guard let location = entries["location"], !location.isEmpty else {
            throw HarsanyiError.invalidArgument("\(context): external data without a location")
        }
        guard let offset = Int(entries["offset"] ?? "0"), offset >= 0 else {
            throw HarsanyiError.invalidArgument("\(context): external data offset '\(entries["offset"] ?? "")'")
        }
        let length = entries["length"].flatMap { Int($0) } ?? expected
        guard length >= 0, entries["length"] == nil || Int(entries["length"]!) != nil else {
            throw HarsanyiError.invalidArgument("\(context): external data length '\(entries["length"] ?? "")'")
        }
        let path = try resolve(location, in: folder, context: context)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw HarsanyiError.io(
                path: path, reason: "\(context): external data file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw HarsanyiError.io(path: path, reason: "\(context): external data is not a regular file")
        }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= Int(st.st_size) else {
            throw HarsanyiError.badFile(
                path: path,
                reason:
                    "\(context): external data [\(offset), \(offset)+\(length)) beyond the file's \(st.st_size) bytes")
        }
        guard length == expected else {
            throw HarsanyiError.invalidArgument(
                "\(context): external data length \(length), the shape needs \(expected) bytes")
        }
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let r = out.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, length - done, off_t(offset + done))
            }
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { throw HarsanyiError.io(path: path, reason: "\(context): external data read failed") }
            done += r
        }
        return out
    }

    /// `location` as a path inside `folder`: relative, no component leaving the folder, and (symbolic links
    /// resolved) still inside it.
    static func resolve(_ location: String, in folder: String, context: String) throws -> String {
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw HarsanyiError.unsupported(
                "\(context): external data location '\(location)' is outside the model's folder")
        }
        let base = URL(fileURLWithPath: folder).resolvingSymlinksInPath().standardizedFileURL.path
        let full = URL(fileURLWithPath: folder).appendingPathComponent(location).resolvingSymlinksInPath()
            .standardizedFileURL.path
        guard full.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw HarsanyiError.unsupported(
                "\(context): external data location '\(location)' is outside the model's folder")
        }
        return full
    }
}
