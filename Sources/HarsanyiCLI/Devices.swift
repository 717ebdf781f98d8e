import ArgumentParser
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List OpenCL platforms and devices, and say which backend `auto` picks and why.")

    @OptionGroup var options: BackendOptions

    func run() throws {
        try reportingErrors {
            let found = OpenCL.discover()
            if found.devices.isEmpty { print("OpenCL: \(found.problem ?? "no device")") }
            for d in found.devices {
                print("\(d.address)  \(d.name)")
                print("      platform \(d.platformName); vendor \(d.vendor); type \(d.type); \(d.version); driver \(d.driverVersion)")
                print("      compute units \(d.computeUnits); global memory \(d.globalMemoryBytes >> 20) MiB; "
                    + "max allocation \(d.maxAllocationBytes >> 20) MiB; local memory \(d.localMemoryBytes >> 10) KiB; "
                    + "max work-group \(d.maxWorkGroupSize); fp64 \(d.supportsFloat64 ? "yes" : "no")")
            }
            let selection = try options.select(requirement: nil, quiet: true)
            print("backend: \(selection.backend.kind) (\(selection.reason))")
            print("CPU path matrix products: OpenBLAS, \(BLASKernels.coreName) kernels")
        }
    }
}
