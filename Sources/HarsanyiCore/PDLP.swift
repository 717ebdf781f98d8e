import Foundation

/// Restarted primal-dual hybrid gradient in the PDLP style on the decomposition LP (spec §5.5).
public enum PDLP {
    public struct Result: Sendable {
        public var iand: [Double]
        public var ior: [Double]?
        public var optimality: Optimality
    }

    public static func run(lp: DecompositionLP, settings: InteractionSettings, backend: some SparsifierOps, progressEvery: Int,
                           progress: Sparsifier.Progress?) throws -> Result {
        throw HarsanyiError.unsupported("pdlp: not yet")
    }
}
