// swift-tools-version: 6.1
//
// slotsim: an allocator that matches vaccination registrants to capacity-limited
// slots under an age-group policy, and a discrete-event simulator to compare and
// tune that policy. Module boundaries and the direction of dependencies are set
// in ARCHITECTURE.md (shared with the team); each module arrives with its issue.
import PackageDescription

let package = Package(
    name: "slotsim",
    products: [
        .library(name: "SlotAllocation", targets: ["SlotAllocation"]),
        .library(name: "DemandSimulation", targets: ["DemandSimulation"]),
        .library(name: "Scenarios", targets: ["Scenarios"]),
        .library(name: "SimulationReports", targets: ["SimulationReports"]),
        .library(name: "PolicyTuning", targets: ["PolicyTuning"]),
        .library(name: "BookingService", targets: ["BookingService"]),
        .executable(name: "slotsim", targets: ["slotsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "SlotAllocation",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "DemandSimulation",
            dependencies: ["SlotAllocation"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "Scenarios",
            dependencies: ["DemandSimulation", "SlotAllocation", .product(name: "Yams", package: "Yams")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "PolicyTuning",
            dependencies: ["DemandSimulation", "COpenBLAS"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "BookingService",
            dependencies: ["SlotAllocation", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "HashTreeCollections", package: "swift-collections")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "SimulationReports",
            dependencies: ["DemandSimulation", "PolicyTuning"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "slotsim",
            dependencies: ["Scenarios", "DemandSimulation", "SimulationReports", "PolicyTuning", "BookingService",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "BookingServiceTests",
            dependencies: ["BookingService", "SlotAllocation", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "HashTreeCollections", package: "swift-collections")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "PolicyTuningTests",
            dependencies: ["PolicyTuning"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SlotAllocationTests",
            dependencies: ["SlotAllocation"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "ScenariosTests",
            dependencies: ["Scenarios"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SimulationReportsTests",
            dependencies: ["SimulationReports", "DemandSimulation", "PolicyTuning", "SlotAllocation"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SlotsimTests",
            dependencies: ["slotsim"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "DemandSimulationTests",
            dependencies: ["DemandSimulation"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
