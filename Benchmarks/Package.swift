// swift-tools-version: 6.1
//
// Benchmarks for Harsanyi, kept out of the root package so `swift test` there never builds
// package-benchmark and its dependencies (see /work/shared/spec/toolchain.md section 10).
//
//   cd Benchmarks && swift package benchmark --no-progress
//   swift package --package-path Benchmarks benchmark --no-progress --filter ".*CPU.*"   # anchored regex
//
// The path dependency's package identity is the last component of its path, lowercased, not the
// package's name: the checkout folder (`main` here), not "Harsanyi". In a checkout folder of another
// name, set HARSANYI_PACKAGE_IDENTITY or rename the folder accordingly.
import Foundation
import PackageDescription

let rootIdentity: String = {
    if let id = ProcessInfo.processInfo.environment["HARSANYI_PACKAGE_IDENTITY"], !id.isEmpty { return id.lowercased() }
    // Context.packageDirectory is this Benchmarks/ folder; its parent is the root package.
    let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().standardizedFileURL
    return root.lastPathComponent.lowercased()
}()

let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        // RuntimeInterposer (a default trait) pulls in swift-runtime-interposer, which does not resolve on
        // Linux with Swift 6.3; MallocInterposer alone keeps the malloc metrics.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TransformBench",
            dependencies: [
                .product(name: "HarsanyiCore", package: rootIdentity),
                .product(name: "HarsanyiOpenCL", package: rootIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "TransformBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
