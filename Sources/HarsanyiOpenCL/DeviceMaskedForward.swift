import COpenCL
import HarsanyiCore
import HarsanyiONNX

/// The 2^n masked forward passes on the device: masked batches made from subset indices by a kernel
/// (`Kernels/masking.cl`), run through the model's OpenCL suffix, reduced to v by a reward kernel that writes
/// straight into a device buffer the sparsifier then uses. The host never holds the masked inputs; it reads v
/// once at the end, for the report. Used for the plain path (the linearity shortcut works on the host).
public final class DeviceMaskedForward {
    public let backend: OpenCLBackend
    let runner: OpenCLModel
    let size: Int
    let n: Int
    let batch: Int
    let maskBackground: Bool
    let sample: OpenCLBuffer, baseline: OpenCLBuffer, owner: OpenCLBuffer, inputs: OpenCLBuffer

    /// - Parameters:
    ///   - plan: the model's suffix after the mask point (see `SuffixPlan`).
    ///   - players: element lists into one sample of the mask point; batch: masked inputs per launch.
    ///   - runner: an executor already built for `plan` on `backend` (its weights are on the device); nil makes one.
    public init(plan: SuffixPlan, players: [[Int]], baseline: [Float], maskBackground: Bool, batch: Int, backend: OpenCLBackend,
                runner: OpenCLModel? = nil) throws {
        self.backend = backend
        self.runner = try runner ?? OpenCLModel(suffix: plan, backend: backend)
        size = plan.sampleValue.count
        n = players.count
        self.batch = max(1, min(batch, 1 << n))
        self.maskBackground = maskBackground
        var owners = [Int32](repeating: -1, count: size)
        for (k, p) in players.enumerated() { for e in p { owners[e] = Int32(k) } }
        sample = try backend.cl(try backend.makeBuffer(count: size, precision: .float32))
        self.baseline = try backend.cl(try backend.makeBuffer(count: size, precision: .float32))
        owner = try backend.cl(try backend.makeBuffer(count: size, precision: .float32))  // 4-byte elements, holds Int32
        inputs = try backend.cl(try backend.makeBuffer(count: self.batch * size, precision: .float32))
        try backend.write(plan.sampleValue, to: sample)
        try backend.write(baseline, to: self.baseline)
        try backend.write(owners.map { Float(bitPattern: UInt32(bitPattern: $0)) }, to: owner)
    }

    /// v(S) for all 2^n subsets into a new device buffer of the engine's precision.
    public func rewards(kind: RewardKind, target: Int, precision: Precision, progress: ((Int) -> Void)? = nil) throws -> DeviceBuffer {
        let total = 1 << n
        let v = try backend.cl(try backend.makeBuffer(count: total, precision: precision))
        let kindCode: UInt32 = [RewardKind.logOdds: 0, .logit: 1, .logProbability: 2, .probability: 3, .binary: 4][kind]!
        var start = 0
        while start < total {
            let count = min(batch, total - start)
            let x = count == batch ? inputs : try backend.cl(try backend.makeBuffer(count: count * size, precision: .float32))
            try backend.locked {
                try backend.launch("masking", "mask_batch", precision: .float32, global: count * size,
                                   [.buffer(sample), .buffer(baseline), .buffer(owner), .uint(UInt32(size)), .ulong(UInt64(start)),
                                    .uint(maskBackground ? 1 : 0), .buffer(x)])
            }
            let y = try backend.cl(try runner.run(device: x, batch: count))
            let classes = y.count / count
            guard kind == .binary || target < classes else {
                throw HarsanyiError.invalidArgument("target class \(target) but the model has \(classes) outputs")
            }
            try backend.locked {
                try backend.launch("masking", "reward", precision: precision, global: count,
                                   [.buffer(y), .uint(UInt32(classes)), .uint(UInt32(target)), .uint(kindCode), .buffer(v), .ulong(UInt64(start))])
            }
            start += count
            progress?(start)
        }
        return v
    }
}
