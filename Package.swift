// swift-tools-version: 6.1
//
// Harsanyi: AND-OR interaction primitives of neural networks, with OpenCL kernels on device memory
// and a Swift CPU path when no OpenCL device exists.
//
// Layers (one module each):
//   HarsanyiCore        pure Swift: subset transforms (CPU), the Backend protocol, NPY I/O, errors.
//   COpenCL             system library over <CL/cl.h> (ocl-icd loader), CL_TARGET_OPENCL_VERSION 120.
//   Kernels             the top-level Kernels/ folder; its *.cl files are embedded by the EmbedKernels plugin.
//   HarsanyiOpenCL      OpenCL runtime (devices, program cache, buffers) and the OpenCL backend,
//                       plus backend selection (GPU > accelerator > OpenCL CPU > Swift CPU). No model code.
//   HarsanyiOpenCLExecutor  ONNX models on OpenCL: the planner over the operator table's device kernels, host
//                       steps for the rest, and the masked-forward driver on device memory.
//   ONNXProto           onnx.proto as Swift (swift-protobuf), generated once and committed.
//   CClp                system library over COIN-OR CLP's C interface (coinor-libclp-dev).
//   HarsanyiSolvers     the certified decomposition: null players, the exact LP optimum (CLP, row and column
//                       generation) and the dispatch over every optimiser (the one place that picks one).
//   HarsanyiONNX        ONNX import: graph, constant folding, shape inference, operators on the CPU (OpenBLAS).
//   HarsanyiAnalysis    studies across samples: dataset-run indices, order statistics, generalisation metrics.
//   HarsanyiPlot        SVG figures (scales, ticks, axes, legends, bars, lines, images): pure Swift, no dependencies.
//   HarsanyiCLI         the `harsanyi` command (swift-argument-parser).
//   HarsanyiTestSupport naive Double references and seeded generators, for tests only (not public API).
//
// Benchmarks live in their own package (Benchmarks/) so `swift test` here never builds their dependencies.
import PackageDescription

let package = Package(
    name: "Harsanyi",
    products: [
        .library(name: "HarsanyiCore", targets: ["HarsanyiCore"]),
        .library(name: "HarsanyiOpenCL", targets: ["HarsanyiOpenCL"]),
        .library(name: "HarsanyiSolvers", targets: ["HarsanyiSolvers"]),
        .library(name: "HarsanyiONNX", targets: ["HarsanyiONNX"]),
        .library(name: "HarsanyiOpenCLExecutor", targets: ["HarsanyiOpenCLExecutor"]),
        .executable(name: "harsanyi", targets: ["HarsanyiCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenCL", pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers", "pocl-opencl-icd"])]),
        .executableTarget(name: "embed-kernels", path: "Sources/embed-kernels"),
        .plugin(
            name: "EmbedKernels", capability: .buildTool(), dependencies: ["embed-kernels"],
            path: "Sources/EmbedKernelsPlugin"),
        // Top-level Kernels/ is itself a target: its *.cl files are embedded as Swift strings.
        .target(name: "Kernels", path: "Kernels", plugins: ["EmbedKernels"]),
        .target(name: "HarsanyiCore"),
        .target(name: "HarsanyiOpenCL", dependencies: ["HarsanyiCore", "COpenCL", "Kernels"]),
        .target(
            name: "HarsanyiOpenCLExecutor",
            dependencies: ["HarsanyiCore", "HarsanyiOpenCL", "HarsanyiONNX", "COpenCL"]),
        .systemLibrary(name: "CClp", pkgConfig: "clp", providers: [.apt(["coinor-libclp-dev"])]),
        .target(name: "HarsanyiSolvers", dependencies: ["HarsanyiCore", "CClp", "CBLAS"]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Generated once from onnx.proto (regenerate.sh beside it) and committed: no protoc in normal builds.
        .target(
            name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["regenerate.sh"]),
        .target(name: "HarsanyiONNX", dependencies: ["HarsanyiCore", "ONNXProto", "CBLAS"]),
        .target(name: "HarsanyiAnalysis", dependencies: ["HarsanyiCore"]),
        .target(name: "HarsanyiPlot"),
        .executableTarget(
            name: "HarsanyiCLI",
            dependencies: [
                "HarsanyiCore", "HarsanyiOpenCL", "HarsanyiOpenCLExecutor", "HarsanyiONNX", "HarsanyiSolvers",
                "HarsanyiAnalysis", "HarsanyiPlot",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "HarsanyiTestSupport", dependencies: ["HarsanyiCore"]),
        .testTarget(
            name: "HarsanyiTests",
            dependencies: [
                "HarsanyiCore", "HarsanyiOpenCL", "HarsanyiOpenCLExecutor", "HarsanyiONNX", "HarsanyiSolvers",
                "ONNXProto", "HarsanyiTestSupport",
                "HarsanyiPlot",
                "HarsanyiAnalysis",
            ]),
    ]
)
