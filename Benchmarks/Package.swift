// swift-tools-version: 6.1
//
// slotsim's benchmarks, in a package of their own so that library users never build
// benchmark dependencies. Run them in release mode:
//   swift package --package-path Benchmarks benchmark          (ordo-one/benchmark)
//   bash Benchmarks/peers/compare.sh                           (peers side by side)
// Results, commands, dates and the machine: Benchmarks/RESULTS.md.
import Foundation
import PackageDescription

// A path dependency's identity is the name of its folder, which is whatever the
// clone was called; derive it rather than hard-code it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent

let package = Package(
    name: "slotsim-benchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .target(
            name: "BenchmarkInstances",
            dependencies: [.product(name: "SlotAllocation", package: rootIdentity)],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "AllocatorBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SlotAllocation", package: rootIdentity),
                "BenchmarkInstances",
            ],
            path: "Benchmarks/AllocatorBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DemandSimulation", package: rootIdentity),
            ],
            path: "Benchmarks/SimulationBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "sim-peer",
            dependencies: [.product(name: "DemandSimulation", package: rootIdentity)],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "hello-peer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "tuning-peer",
            dependencies: [.product(name: "PolicyTuning", package: rootIdentity)],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "batch-peer",
            dependencies: [.product(name: "SlotAllocation", package: rootIdentity), "BenchmarkInstances"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
