import Foundation
import HarsanyiCore
import HarsanyiTestSupport
import Testing

@Suite("NumPy .npy reading and writing")
struct NPYTests {
    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "harsanyi-npy-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("round trip of every supported type and shape")
    func roundTrip() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let arrays: [NPYArray] = [
            NPYArray([Float](arrayLiteral: 1.5, -2, 0), shape: [3]),
            NPYArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3]),
            NPYArray([Int64](arrayLiteral: -1, 2, 1 << 40)),
            NPYArray([Int32](arrayLiteral: 7, -8)),
            NPYArray([true, false, true, true], shape: [2, 2]),
            NPYArray([Double](), shape: [0]),
            NPYArray([42.0], shape: []),
        ]
        for (i, a) in arrays.enumerated() {
            let path = "\(dir)/a\(i).npy"
            try NPY.write(a, to: path)
            #expect(try NPY.read(path) == a, "array \(i)")
        }
        #expect((try NPY.read("\(dir)/a1.npy")).doubles() == [1, 2, 3, 4, 5, 6])
        let typed = try NPY.readValues("\(dir)/a0.npy", as: Float.self)
        #expect(typed.values == [1.5, -2, 0] && typed.shape == [3])
        let converted = try NPY.readValues("\(dir)/a2.npy", as: Double.self)
        #expect(converted.values == [-1, 2, Double(1 << 40)])
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { $0.hasSuffix(".npy") && !$0.hasPrefix(".") })
    }

    @Test("header is padded to 64 bytes and readable by numpy's rules")
    func headerLayout() {
        let bytes = NPY.encode(NPYArray([Float](repeating: 0, count: 5)))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes[10 + headerLength - 1] == 0x0A)
    }

    /// A header for hand-made bad files.
    static func file(_ dict: String, data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        var h = dict
        h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8) + data
    }

    @Test("each malformed file maps to a clear error", arguments: [
        ("bad magic", Array("NOTNUMPY".utf8) + [UInt8](repeating: 0, count: 8), "magic"),
        ("fortran", file("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data: [UInt8](repeating: 0, count: 8)), "Fortran"),
        ("big-endian", file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: [UInt8](repeating: 0, count: 8)), "big-endian"),
        ("complex", file("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", data: [UInt8](repeating: 0, count: 16)), "dtype"),
        ("truncated data", file("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", data: [UInt8](repeating: 0, count: 20)), "truncated data"),
        ("trailing bytes", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)), "unexpected bytes"),
        ("no shape", file("{'descr': '<f4', 'fortran_order': False, }", data: []), "shape"),
        ("bad version", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0], major: 9), "version"),
        ("truncated header", Array(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: []).prefix(30)), "truncated header"),
    ])
    func malformed(name: String, bytes: [UInt8], message: String) {
        do {
            _ = try NPY.decode(bytes, path: name)
            Issue.record("\(name): decoded without error")
        } catch let e as HarsanyiError {
            guard case .badFile = e else { Issue.record("\(name): wrong error \(e)"); return }
            #expect("\(e)".contains(message), "\(name): message '\(e)' lacks '\(message)'")
            #expect(!"\(e)".contains("\n"), "\(name): error is not one line")
        } catch {
            Issue.record("\(name): unexpected error \(error)")
        }
    }

    @Test("missing files and folders are io errors; a failed write leaves nothing")
    func ioErrors() {
        #expect(throws: HarsanyiError.self) { try NPY.read("/nonexistent/x.npy") }
        #expect(throws: HarsanyiError.self) { try NPY.write(NPYArray([1.0]), to: "/nonexistent-dir/x.npy") }
    }
}
