import ArgumentParser
import Foundation
import HarsanyiCore
import HarsanyiOpenCL

extension BackendChoice: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension SubsetTransform: ExpressibleByArgument {}

/// `--backend` and `--device`, shared by every command that computes.
struct BackendOptions: ParsableArguments {
    @Option(help: "auto (best OpenCL device, else the CPU path), opencl (fail without OpenCL) or cpu. Default: $HARSANYI_BACKEND or auto.")
    var backend: BackendChoice?

    @Option(help: "OpenCL device as PLATFORM:DEVICE (see `harsanyi devices`). Default: $HARSANYI_DEVICE.")
    var device: String?

    /// Selects the backend and prints one line to stderr saying which and why.
    func select(requirement: BackendRequirement?, quiet: Bool = false) throws -> BackendSelection {
        let (choice, address) = try Backends.resolve(choice: backend, device: device)
        let selection = try Backends.select(choice, device: address, requirement: requirement)
        if !quiet || selection.fellBack { Console.note(selection.reason) }
        return selection
    }
}

enum Console {
    /// One line to stderr, prefixed with the tool's name.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data("harsanyi: \(line)\n".utf8))
    }
}

/// Runs `body`, turning a `HarsanyiError` into one line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as HarsanyiError {
        FileHandle.standardError.write(Data("harsanyi: error: \(e)\n".utf8))
        throw ExitCode(1)
    }
}

/// Wall-clock laps printed to stderr when enabled.
struct PhaseClock {
    let enabled: Bool
    private var last = DispatchTime.now().uptimeNanoseconds

    init(enabled: Bool) { self.enabled = enabled }

    mutating func lap(_ what: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        Console.note(String(format: "%@: %.1f ms", what, Double(now - last) * 1e-6))
        last = now
    }
}
