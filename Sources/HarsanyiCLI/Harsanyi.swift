import ArgumentParser
import HarsanyiONNX

@main
struct Harsanyi: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harsanyi",
        abstract: "Explain neural networks by their AND-OR interaction primitives (Harsanyi dividends).",
        discussion: """
            Subsets of the n players are indexed by bitmasks: bit i of an index is player i (LSB = player 0).
            Backends: OpenCL (GPU > accelerator > CPU device) with a Swift CPU fallback. Environment:
            HARSANYI_BACKEND=auto|opencl|cpu, HARSANYI_DEVICE=P:D, HARSANYI_KERNEL_DIR=<dir>; options win.
            """,
        subcommands: [
            Extract.self, Interactions.self, Forward.self, Analyze.self, BaselineCommand.self, Devices.self, Transform.self,
            Bench.self,
        ])

    /// Picks OpenBLAS's kernels for this CPU first (it may re-execute the program once; see `BLASKernels`).
    static func main() {
        BLASKernels.selectKernels(arguments: CommandLine.unsafeArgv)
        main(nil)
    }
}
