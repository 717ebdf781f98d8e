import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

/// Where a model's masked forwards run: the one place that decides, for every command and library user.
///
/// On an OpenCL backend the suffix plan runs on the device (`OpenCLModel`: device kernels, index copies, host steps
/// for operators without a kernel) and, through `devicePath`, the masked inputs and v are made on the device too.
/// When the device plan cannot be made (a tensor of 2^31 elements, an integer tensor a kernel would need on the
/// host, ...) the job falls back to the CPU path and `note` gets the reason. Any other backend runs the CPU path.
public enum ModelExecution {
    /// The default batch on OpenCL: large enough to amortise each launch's fixed cost (on PoCL, 2 cores, the digits
    /// models reach their plateau from 4096 to 8192), small enough for any device (LeNet-sized models need a few KiB
    /// of intermediate buffers per sample); `DeviceMaskedForward` shrinks it to what fits the device.
    public static let openCLBatch = 8192

    /// The masked-forward driver. `batch` nil: the CPU path picks per model, OpenCL takes `openCLBatch`; a fallback
    /// from OpenCL to the CPU path gets the CPU path's choice.
    public static func maskedForward(
        backend: ComputeBackend, model: ONNXModel, sample: Tensor, maskAt: String?, players: [[Int]], baseline: [Float],
        maskBackground: Bool, batch: Int?, linearity: Bool, note: (String) -> Void
    ) throws -> MaskedForward {
        func cpu() throws -> MaskedForward {
            try MaskedForward(
                model: model, sample: sample, maskAt: maskAt, players: players, baseline: baseline,
                maskBackground: maskBackground, batchSize: batch ?? 0, useLinearity: linearity,
                executor: "cpu (OpenBLAS)")
        }
        guard let cl = backend as? OpenCLBackend else { return try cpu() }
        do {
            return try MaskedForward(
                model: model, sample: sample, maskAt: maskAt, players: players, baseline: baseline,
                maskBackground: maskBackground, batchSize: batch ?? openCLBatch, useLinearity: linearity,
                executor: "OpenCL \(cl.device.address)"
            ) { try OpenCLModel(suffix: $0, backend: cl) }
        } catch let e as HarsanyiError {
            note("masked forwards fall back to the CPU path: \(e)")
            return try cpu()
        }
    }

    /// A runner for batches of one suffix plan (no masking driver: a caller that builds its own rows, such as
    /// the baseline learner), on the device when `backend` is OpenCL and the plan can be made there.
    public static func runner(
        for plan: SuffixPlan, backend: ComputeBackend, note: (String) -> Void
    ) -> (runner: BatchRunner, executor: String) {
        guard let cl = backend as? OpenCLBackend else { return (CPUSuffixRunner(plan), "cpu (OpenBLAS)") }
        do {
            return (try OpenCLModel(suffix: plan, backend: cl), "OpenCL \(cl.device.address)")
        } catch {
            note("batches fall back to the CPU path: \(error)")
            return (CPUSuffixRunner(plan), "cpu (OpenBLAS)")
        }
    }

    /// The device path of a driver that runs on OpenCL (masked inputs or the shortcut's rows made on the device, v
    /// left there); nil when the driver runs on the CPU path.
    public static func devicePath(_ f: MaskedForward, backend: ComputeBackend) throws -> DeviceMaskedForward? {
        guard let cl = backend as? OpenCLBackend, f.runner is OpenCLModel else { return nil }
        return try DeviceMaskedForward(f, batch: f.batchSize, backend: cl)
    }
}
