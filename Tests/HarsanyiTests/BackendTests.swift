import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Kernels
import Testing

@Suite("Backend selection, errors and kernels")
struct BackendTests {
    static let noPlatform = OpenCLDiscovery(devices: [], problem: "no OpenCL platform (clGetPlatformIDs: -1001 CL_PLATFORM_NOT_FOUND_KHR)")

    @Test("auto falls back to the CPU path and says why; opencl fails instead")
    func fallback() throws {
        let s = try Backends.select(.auto, discovery: Self.noPlatform)
        #expect(s.backend.kind == .cpu && s.fellBack)
        #expect(s.reason.contains("-1001") && s.reason.contains("CPU path"))
        #expect(throws: HarsanyiError.openCLUnavailable(Self.noPlatform.problem!)) {
            try Backends.select(.opencl, discovery: Self.noPlatform)
        }
        let cpu = try Backends.select(.cpu, discovery: Self.noPlatform)
        #expect(cpu.backend.kind == .cpu && !cpu.fellBack)
    }

    @Test("device addresses: malformed and unknown")
    func deviceAddresses() {
        #expect(throws: HarsanyiError.self) { try Backends.select(.auto, device: "zero", discovery: Self.noPlatform) }
        do {
            _ = try Backends.select(.auto, device: "7:3", discovery: TestBackends.discovery)
            Issue.record("device 7:3 was accepted")
        } catch let e as HarsanyiError {
            guard case .noSuitableDevice = e else { Issue.record("wrong error \(e)"); return }
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test("environment variables, and options win over them")
    func environment() throws {
        let env = ["HARSANYI_BACKEND": "cpu", "HARSANYI_DEVICE": "0:1"]
        #expect(try Backends.resolve(choice: nil, device: nil, environment: env) == (.cpu, "0:1"))
        #expect(try Backends.resolve(choice: .opencl, device: "0:0", environment: env) == (.opencl, "0:0"))
        #expect(try Backends.resolve(choice: nil, device: nil, environment: [:]) == (.auto, nil))
        #expect(throws: HarsanyiError.self) { try Backends.resolve(choice: nil, device: nil, environment: ["HARSANYI_BACKEND": "gpu"]) }
    }

    @Test("a problem that does not fit memory is refused, or falls back")
    func tooLarge() throws {
        let cpu = TestBackends.cpu
        #expect(throws: HarsanyiError.self) { try cpu.requireFits(count: 1 << 40, precision: .float64) }
        let req = BackendRequirement(count: 1 << 36, precision: .float32)
        #expect(throws: HarsanyiError.self) { try Backends.select(.cpu, requirement: req) }
        if let device = TestBackends.device {
            let small = BackendRequirement(count: device.maxAllocationBytes / 4 + 1024, precision: .float32)
            let s = try? Backends.select(.auto, requirement: small, discovery: TestBackends.discovery)
            #expect(s?.backend.kind != .opencl, "a buffer above the device's max allocation must not run on it")
            #expect(throws: HarsanyiError.self) { try Backends.select(.opencl, requirement: small, discovery: TestBackends.discovery) }
        }
    }

    @Test("bad lengths and foreign buffers are invalid arguments")
    func invalidArguments() throws {
        #expect(throws: HarsanyiError.self) { try TestBackends.cpu.transform(.and, [Float](repeating: 0, count: 6)) }
        #expect(throws: HarsanyiError.self) { try TestBackends.cpu.transform(.and, [Double]()) }
        let b = try TestBackends.cpu.makeBuffer(count: 8, precision: .float32)
        #expect(throws: HarsanyiError.self) { try TestBackends.cpu.transform(.and, b, n: 4) }
        #expect(throws: HarsanyiError.self) { try TestBackends.cpu.read(b, as: Double.self) }
        if let cl = TestBackends.openCLByStyle[.cpuStyle] {
            #expect(throws: HarsanyiError.self) { try cl.transform(.and, b, n: 3) }
        }
    }

    @Test("embedded kernels are the files in Kernels/, and each compiles on its own in both precisions",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func kernelsCompile() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Kernels")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cl") }
        #expect(Set(files.map { String($0.dropLast(3)) }) == Set(EmbeddedKernels.all.keys))
        let backend = TestBackends.opencl(.cpuStyle)
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            #expect(EmbeddedKernels.all[String(file.dropLast(3))] == text, "\(file) differs from its embedded copy")
            try backend.checkBuild(name: String(file.dropLast(3)), source: text, precision: .float32)
            if backend.supports(.float64) { try backend.checkBuild(name: String(file.dropLast(3)), source: text, precision: .float64) }
        }
    }

    @Test("a kernel that does not compile gives buildFailed with the compiler's log",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func buildFailure() throws {
        do {
            try TestBackends.opencl(.cpuStyle).checkBuild(name: "broken", source: "__kernel void k(__global float *a) { syntax error }")
            Issue.record("a broken kernel compiled")
        } catch let e as HarsanyiError {
            guard case .buildFailed(let program, _, let log) = e else { Issue.record("wrong error \(e)"); return }
            #expect(program == "broken.cl")
            #expect(log.contains("error"))
            #expect(!"\(e)".contains("\n"))
        }
    }

    @Test("kernel time from event profiling is positive and no longer than wall time",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func profiling() throws {
        let cl = TestBackends.opencl(.cpuStyle)
        let buffer = try cl.makeBuffer(count: 1 << 18, precision: .float32)
        try cl.write([Float](repeating: 1, count: 1 << 18), to: buffer)
        let start = Date()
        let seconds = try cl.measureKernelTime { try cl.transform(.and, buffer, n: 18) }
        #expect(seconds > 0 && seconds <= Date().timeIntervalSince(start) + 1e-3)
    }
}
