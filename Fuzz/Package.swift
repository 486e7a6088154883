// swift-tools-version: 6.0
//
// libFuzzer targets for everything that reads bytes from a peer. A package of
// its own so that the service's Package.swift is untouched and `swift build`
// at the root never sees these executables (they have no `main`: libFuzzer
// provides it). Build and run them with `Scripts/fuzz`, which passes
// `-sanitize=fuzzer,address`; see docs/testing.md.
import Foundation
import PackageDescription

// The service package, by its path; its identity is its directory's name,
// whatever the checkout is called.
let rootDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let service = rootDirectory.lastPathComponent.lowercased()

let fuzzTarget: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "marketplace-users-fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Seed inputs built from real messages and frames, shared by the targets.
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "MarketplaceClient", package: service),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Bytes -> FrameDecoder (in arbitrary chunks) -> ttrpc Request / Response envelope.
        .executableTarget(name: "FuzzFrames", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
        // First byte picks a message type of `allMessageTypes`; the rest is its payload.
        .executableTarget(name: "FuzzPayloads", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
    ]
)
