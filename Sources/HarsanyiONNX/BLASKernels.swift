import CBLAS
import Foundation

/// Which OpenBLAS kernels the CPU path's matrix products run on.
///
/// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU model when the library loads. It does not
/// know recent Xeons (Sapphire Rapids and later report an unknown model) and then falls back to its generic
/// "Prescott" SSE3 kernels, which run sgemm 3–5× slower than its AVX-512 ("SkylakeX") kernels on the same CPU
/// (26 vs 76 GFLOP/s for a 16 × 4096 × 72 product here). The documented override is the environment variable
/// OPENBLAS_CORETYPE, read only at load time, so the CLI re-executes itself once with it set (`selectKernels`).
public enum BLASKernels {
    /// OpenBLAS's name for the kernels in use (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The kernel family this CPU supports best, from /proc/cpuinfo's flags: SkylakeX (AVX-512F/BW/VL/DQ), Haswell
    /// (AVX2 + FMA), or nil when neither (or the flags cannot be read).
    public static var bestCoreType: String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Kernel families by vector width: generic SSE3 (Prescott and others) < AVX2 (Haswell, Zen) < AVX-512 (SkylakeX,
    /// Cooperlake). AMD's Zen 4 has AVX-512 but OpenBLAS 0.3.21 gives it the Zen (Haswell) kernels; SkylakeX's run
    /// its convolutions 1.4× faster there (ResNet-18 masked forwards, 268 vs 372 samples/s on one core).
    static func rank(_ name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 2
        case "haswell", "zen": return 1
        default: return 0
        }
    }

    /// When OpenBLAS's kernels are narrower than the CPU supports (generic kernels on an unknown model, AVX2 kernels
    /// on an AVX-512 CPU) and the user did not choose
    /// (OPENBLAS_CORETYPE unset), re-executes this program with OPENBLAS_CORETYPE set to the best family; returns
    /// only when nothing needs doing or the re-exec failed (the program then goes on with the generic kernels).
    /// HARSANYI_BLAS_AUTO=0 turns this off.
    public static func selectKernels(arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["HARSANYI_BLAS_AUTO"] != "0" else { return }
        guard let best = bestCoreType, rank(best) > rank(coreName) else { return }
        setenv("OPENBLAS_CORETYPE", best, 1)
        execv("/proc/self/exe", arguments)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: carry on as we are
    }
}
