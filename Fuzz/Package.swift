// swift-tools-version: 5.4
// 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's `main` (for testable executables)
// and links with `--defsym main=<module>_main`, which clashes with the `main` libFuzzer links in.
// The harnesses still compile in the Swift 6 language mode (the flags below).
//
// Built only by `scripts/fuzz`, with `-sanitize=fuzzer,address`; a package of its own so the main
// package's build and tests never see it.
import PackageDescription

let harnessSettings: [SwiftSetting] = [.unsafeFlags(["-swift-version", "6", "-parse-as-library"])]

let package = Package(
    name: "credd-fuzz",
    dependencies: [
        .package(name: "credd", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: harnessSettings),
        .executableTarget(
            name: "fuzz-ini",
            dependencies: ["FuzzSupport", .product(name: "CreddINI", package: "credd")],
            swiftSettings: harnessSettings
        ),
        .executableTarget(
            name: "fuzz-endpoint",
            dependencies: [
                "FuzzSupport",
                .product(name: "CreddEndpoint", package: "credd"),
                .product(name: "CreddCore", package: "credd"),
                .product(name: "CreddTestSupport", package: "credd"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: harnessSettings
        ),
    ]
)
