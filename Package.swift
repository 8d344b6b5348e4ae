// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "credd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "credd", targets: ["credd"]),
        // For the fuzz package in Fuzz/, which must be a package of its own (see Fuzz/Package.swift).
        .library(name: "CreddINI", targets: ["CreddINI"]),
        .library(name: "CreddCore", targets: ["CreddCore"]),
        .library(name: "CreddEndpoint", targets: ["CreddEndpoint"]),
        .library(name: "CreddTestSupport", targets: ["CreddTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Pure logic: no I/O below this line.
        .target(name: "CreddINI"),
        .target(name: "CreddCore"),
        .target(name: "CreddSigV4", dependencies: ["CreddCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "CreddRefresh",
            dependencies: [
                "CreddCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Threads, timers, spawning and sockets, for the adapters.
        .target(
            name: "CreddPlatform",
            dependencies: [
                "CreddCore", "CTimerFD", "CGlibcGNU", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .systemLibrary(name: "CTimerFD"),
        .systemLibrary(name: "CConcurrencyHook"),
        .systemLibrary(name: "CGlibcGNU"),
        // libsystemd (libsystemd-dev): sd-bus, sd_notify, socket activation, the journal.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // Adapters that do I/O.
        // D-Bus through sd-bus: the connection and its thread.
        .target(name: "CreddBus", dependencies: ["CSystemd", "CGlibcGNU", "CreddPlatform"]),
        .target(name: "CreddConfig", dependencies: ["CreddINI", "CreddCore", "CreddPlatform"]),
        .target(name: "CreddCredentialsFile", dependencies: ["CreddINI", "CreddCore", "CreddPlatform"]),
        // The control socket's protocol between the CLI and the daemon: messages, framing, client.
        .target(name: "CreddControl", dependencies: ["CreddCore", "CreddPlatform"]),
        .target(
            name: "CreddEndpoint",
            dependencies: [
                "CreddCore", "CreddPlatform",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CreddSystemd",
            dependencies: [
                "CreddCore", "CreddPlatform", "CSystemd", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CreddSTS",
            dependencies: [
                "CreddCore", "CreddPlatform", "CreddSigV4", "CGlibcGNU",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "CreddRotation",
            dependencies: [
                "CreddCore", "CreddConfig", "CreddControl", "CreddPlatform", "CreddRefresh", "CreddSTS", "CreddCredentialsFile", "CreddBus",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // IAM Identity Center: token cache, OIDC and portal clients, token refresh machine, login flows.
        .target(
            name: "CreddSSO",
            dependencies: [
                "CreddCore", "CreddEndpoint", "CreddPlatform", "CreddSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CreddSSOTests",
            dependencies: [
                "CreddSSO", "CreddCore", "CreddEndpoint", "CreddPlatform", "CreddRefresh", "CreddTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]
        ),
        // Composition root and CLI.
        .target(
            name: "CreddDaemon",
            dependencies: [
                "CreddCore", "CreddPlatform", "CreddConfig", "CreddControl", "CreddRefresh", "CreddSTS", "CreddCredentialsFile", "CreddEndpoint",
                "CreddSystemd", "CreddRotation", "CreddSigV4", "CreddSSO", "CreddBus", "CGlibcGNU", "CConcurrencyHook",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CreddCLI",
            dependencies: [
                "CreddDaemon", "CreddControl", "CreddConfig", "CreddCore", "CreddPlatform", "CreddEndpoint", "CreddSystemd", "CreddRotation",
                "CreddSTS",
                "CreddRefresh", "CreddSSO", "CreddCredentialsFile", "CreddBus", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "credd", dependencies: ["CreddCLI"]),
        .executableTarget(
            name: "credd-bench",
            dependencies: [
                "CreddCredentialsFile", "CreddCore", "CreddPlatform", "CreddINI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CreddINITests", dependencies: ["CreddINI", "CreddTestSupport"]),
        .testTarget(name: "CreddCoreTests", dependencies: ["CreddCore", "CreddTestSupport"]),
        .testTarget(name: "CreddPlatformTests", dependencies: ["CreddPlatform", "CreddCore", "CreddTestSupport"]),
        .testTarget(name: "CreddConfigTests", dependencies: ["CreddConfig", "CreddINI", "CreddTestSupport"]),
        .testTarget(name: "CreddSigV4Tests", dependencies: ["CreddSigV4", "CreddCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CreddSTSTests",
            dependencies: [
                "CreddSTS", "CreddSigV4", "CreddCore", "CreddPlatform", "CreddTestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CreddControlTests", dependencies: ["CreddControl", "CreddCore", "CreddTestSupport"]),
        .testTarget(name: "CreddCredentialsFileTests", dependencies: ["CreddCredentialsFile", "CreddINI", "CreddTestSupport"]),
        .testTarget(
            name: "CreddRefreshTests",
            dependencies: ["CreddRefresh", "CreddTestSupport", .product(name: "InMemoryLogging", package: "swift-log")]
        ),
        .testTarget(
            name: "CreddEndpointTests",
            dependencies: [
                "CreddEndpoint", "CreddPlatform", "CreddTestSupport", .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CreddDaemonTests",
            dependencies: [
                "CreddDaemon", "CreddCLI", "CreddControl", "CreddCore", "CreddPlatform", "CreddConfig", "CreddRefresh", "CreddRotation", "CreddSTS",
                "CreddTestSupport",
                "CreddCredentialsFile",
                .product(name: "Logging", package: "swift-log"), .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CreddBusTests", dependencies: ["CreddBus", "CreddTestSupport"]),
        .testTarget(
            name: "CreddSystemdTests",
            dependencies: ["CreddSystemd", "CreddCore", "CreddTestSupport", .product(name: "InMemoryLogging", package: "swift-log")]
        ),
        .target(
            name: "CreddTestSupport",
            dependencies: [
                "CreddCore", "CreddPlatform",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/CreddTestSupport"
        ),
        .testTarget(name: "CreddIntegrationTests", dependencies: ["CreddCore", "CreddTestSupport"]),
        .testTarget(
            name: "CreddRotationTests",
            dependencies: [
                "CreddRotation", "CreddSTS", "CreddCredentialsFile", "CreddConfig", "CreddControl", "CreddCore", "CreddPlatform", "CreddINI",
                "CreddRefresh", "CreddBus", "CreddTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
