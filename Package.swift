// swift-tools-version: 6.0
//
// The architecture, bottom to top (dependencies point down only):
//
//   marketplace-usersd (daemon; picks the store)         marketplace-users (CLI)
//          |                    \                               |
//   MarketplaceServer (NIO server,   MarketplaceSQLite,   MarketplaceClient (async client)
//     executor, services)            MarketplacePostgres         |
//          |                    /                                |
//        MarketplaceDomain  -------------------------------------+
//                   |
//        MarketplaceRPC (frames, envelope, status codes, router)
//                   |
//        MarketplaceProtos (generated Swift messages + protobuf-c bridge)
//                   |
//        CMarketplaceProtos (protoc-c output)  ->  CProtobufC (system libprotobuf-c)
//
// The client depends on neither server nor storage; the CLI only on the client.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "marketplace-users",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MarketplaceClient", targets: ["MarketplaceClient"]),
        .library(name: "MarketplaceServer", targets: ["MarketplaceServer"]),
        .executable(name: "marketplace-usersd", targets: ["marketplace-usersd"]),
        .executable(name: "marketplace-users", targets: ["marketplace-users"]),
        .executable(name: "marketplace-bench", targets: ["marketplace-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // C at the bottom: system libraries and the protoc-c output.
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "CMarketplaceProtos", dependencies: ["CProtobufC"]),

        // Swift value types for every message, bridged to protobuf-c (generated).
        .target(name: "MarketplaceProtos", dependencies: ["CMarketplaceProtos"], swiftSettings: strict),

        // The wire layer: ttrpc frames, envelope, status codes, router.
        .target(
            name: "MarketplaceRPC",
            dependencies: [
                "MarketplaceProtos",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The product's rules: entities, states, validation, secrets, and the
        // operations, written against the narrow `Store` interface.
        .target(
            name: "MarketplaceDomain",
            dependencies: [
                "CSodium", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),

        // The embedded SQLite backend of `Store` (system libsqlite3 through GRDB).
        .target(
            name: "MarketplaceSQLite",
            dependencies: [
                "MarketplaceDomain", .product(name: "GRDB", package: "GRDB.swift"),
                // The C API itself, for the hottest read (AccountUserStatements).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),

        // The PostgreSQL backend of `Store` (postgres-nio), for a fleet of daemons on one database.
        .target(
            name: "MarketplacePostgres",
            dependencies: [
                "MarketplaceDomain", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),

        // The server: NIO on a Unix socket, call executor, service handlers.
        .target(
            name: "MarketplaceServer",
            dependencies: [
                "MarketplaceRPC", "MarketplaceProtos", "MarketplaceDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),

        // The client library other services use.
        .target(
            name: "MarketplaceClient",
            dependencies: [
                "MarketplaceRPC", "MarketplaceProtos",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // Thin executables.
        .executableTarget(
            name: "marketplace-usersd",
            dependencies: [
                "MarketplaceServer", "MarketplaceDomain", "MarketplaceSQLite", "MarketplacePostgres", "MarketplaceProtos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "marketplace-users",
            dependencies: [
                "MarketplaceClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Benchmarks (Scripts/bench, BENCHMARKS.md): seeds a database through the
        // store layer and drives load through the client library. Not shipped.
        .executableTarget(
            name: "marketplace-bench",
            dependencies: ["MarketplaceClient", "MarketplaceDomain", "MarketplaceSQLite"],
            swiftSettings: strict),

        // Test support: temporary sockets, a started server, a connected client.
        .target(
            name: "MarketplaceTestSupport",
            dependencies: [
                "MarketplaceServer", "MarketplaceClient", "MarketplaceDomain", "MarketplaceSQLite", "MarketplacePostgres",
            ],
            swiftSettings: strict),

        .testTarget(
            name: "MarketplaceRPCTests",
            dependencies: [
                "MarketplaceRPC", "MarketplaceProtos",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "MarketplaceDomainTests",
            dependencies: [
                "MarketplaceDomain", "MarketplaceSQLite", "MarketplaceTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "MarketplaceCLITests",
            dependencies: ["MarketplaceTestSupport", "MarketplaceServer", "MarketplaceClient"],
            swiftSettings: strict),
        .testTarget(
            name: "MarketplacePostgresTests",
            dependencies: [
                "MarketplacePostgres", "MarketplaceSQLite", "MarketplaceTestSupport", "MarketplaceServer",
                "MarketplaceClient", "MarketplaceDomain",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "MarketplaceServerTests",
            dependencies: ["MarketplaceTestSupport", "MarketplaceServer", "MarketplaceClient"],
            swiftSettings: strict),
    ]
)
