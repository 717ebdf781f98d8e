import Foundation
import HarsanyiCore
import Testing

/// The suite's guards against passing silently. Fixture-driven tests take their cases from manifests and folders;
/// if one vanished, its parameterized test would run zero cases and pass. These tests fail instead, naming what is
/// missing. And a run that is meant to test a device (run-tests.sh sets HARSANYI_REQUIRE_OPENCL=1 where an OpenCL
/// platform is installed) fails when none is visible, instead of reporting every device test as skipped.
@Suite("Fixtures and devices the suite depends on")
struct FixtureInventoryTests {
    /// The counts the fixtures were committed with; a fixture script that makes more is fine, fewer is a loss.
    static let minimumOperatorCases = 68
    static let minimumSparsifierCases = 8
    static let minimumOracleCases = 60

    @Test("ONNX per-operator manifest: present, with every case's files")
    func operatorCases() throws {
        let cases = OperatorCase.all
        #expect(cases.count >= Self.minimumOperatorCases, "Tests/Fixtures/onnx/ops/manifest.json: \(cases.count) cases")
        let dir = OperatorCase.dir.appendingPathComponent("ops")
        for c in cases {
            for file in ["\(c.name).onnx", c.output] + c.inputs.map(\.file) {
                #expect(
                    FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path),
                    "operator case \(c.name): \(file) missing")
            }
        }
    }

    @Test("sparsifier fixtures: present, each with its case and arrays")
    func sparsifierCases() throws {
        let cases = SparsifierFixture.all
        #expect(cases.count >= Self.minimumSparsifierCases, "Tests/Fixtures/sparsifier: \(cases.count) cases")
        for c in cases {
            _ = try c.settings()
            for file in ["rewards", "Iand", "Ior", "p", "q", "loss"] {
                #expect(try c.array(file).count > 0, "sparsifier case \(c.name): \(file).npy empty")
            }
        }
    }

    @Test("LP oracle fixture: present, with every vector it names")
    func oracleCases() throws {
        #expect(OracleCase.all.count >= Self.minimumOracleCases, "optima.json has \(OracleCase.all.count) cases")
        for c in OracleCase.all { #expect(try c.v.count > 0, "oracle case \(c.description): no vector") }
    }

    @Test("trained-model fixtures: models, inputs, logits and masked references present")
    func modelFixtures() {
        for model in ["mlp_breast_cancer", "lenet_digits", "resnet_digits"] {
            for suffix in [
                ".onnx", "_opset17.onnx", ".inputs.npy", ".labels.npy", ".logits.npy", ".masked_inputs_spec.json",
                ".masked_logits.npy", ".masked_logodds.npy",
            ] {
                let path = OperatorCase.dir.appendingPathComponent(model + suffix).path
                #expect(FileManager.default.fileExists(atPath: path), "\(model)\(suffix) missing")
            }
        }
    }

    @Test(
        "an OpenCL device is visible when the run requires one",
        .enabled(
            if: ProcessInfo.processInfo.environment["HARSANYI_REQUIRE_OPENCL"] == "1",
            "HARSANYI_REQUIRE_OPENCL is not 1 (run-tests.sh sets it for the OpenCL run where a platform is installed)"))
    func deviceRequired() {
        #expect(
            TestBackends.hasOpenCL,
            "HARSANYI_REQUIRE_OPENCL=1 but no OpenCL device: \(TestBackends.discovery.problem ?? "none")")
    }
}
