import CreddConfig
import CreddTestSupport
import Foundation
import Testing

@testable import CreddDaemon

/// A config file that cannot be loaded never stops the daemon: it starts with no profiles and
/// says why.
@Suite("startup configuration")
struct StartupConfigurationTests {
    /// Each case: what is at the config path, and words the reported error must contain.
    enum Broken: CaseIterable {
        case missing, notUTF8, directory, explicitPathMissing, empty
    }

    @Test(arguments: Broken.allCases)
    func aConfigThatCannotBeLoadedLeavesTheDaemonRunningWithoutProfiles(_ broken: Broken) throws {
        let home = try TemporaryDirectory(prefix: "credd-startup")
        defer { home.remove() }
        let configPath = home.file(".config/credd/config")
        try FileManager.default.createDirectory(atPath: home.file(".config/credd"), withIntermediateDirectories: true)
        var explicitPath: String?
        let words: [String]
        switch broken {
        case .missing:
            words = ["no credd config found", configPath]
        case .notUTF8:
            try Data([0x5B, 0xFF, 0xFE, 0x5D, 0x0A]).write(to: URL(fileURLWithPath: configPath))
            words = [configPath, "UTF-8"]
        case .directory:
            try FileManager.default.createDirectory(atPath: configPath, withIntermediateDirectories: false)
            words = [configPath, "is a directory"]
        case .explicitPathMissing:
            explicitPath = home.file("elsewhere/config")
            words = [home.file("elsewhere/config"), "does not exist"]
        case .empty:
            // Started while an editor rewrites the config in place.
            _ = try home.write(".config/credd/config", "")
            words = [configPath, "has no sections"]
        }
        let startup = StartupConfiguration.load(explicitPath: explicitPath, environment: ["HOME": home.path])
        #expect(!startup.loadedConfigFile)
        let loaded = startup.configuration
        #expect(loaded.profiles.isEmpty)
        let message = loaded.errors.map(\.description).joined(separator: "\n")
        for word in words {
            #expect(message.contains(word), "\(message)")
        }
        // The defaults a real config would get, and a watch on the config so a fix is noticed.
        #expect(loaded.settings.listenPort == DaemonSettings.defaultListenPort)
        #expect(loaded.settings.credentialsFile == home.file(".aws/credentials"))
        #expect(loaded.watchedFiles.contains(explicitPath ?? configPath))
    }

    @Test func everyPlaceTheConfigIsLookedForIsWatched() throws {
        let home = try TemporaryDirectory(prefix: "credd-startup")
        defer { home.remove() }
        let xdg = home.file("xdg")
        let startup = StartupConfiguration.load(explicitPath: nil, environment: ["HOME": home.path, "XDG_CONFIG_HOME": xdg])
        #expect(startup.configuration.watchedFiles.contains(xdg + "/credd/config"))
        #expect(startup.configuration.watchedFiles.contains(home.file(".config/credd/config")))
    }

    @Test func aReadableConfigLoadsAsItIs() throws {
        let home = try TemporaryDirectory(prefix: "credd-startup")
        defer { home.remove() }
        _ = try home.write(".config/credd/config", "[credd]\nlisten = 127.0.0.1:9999\n")
        let startup = StartupConfiguration.load(explicitPath: nil, environment: ["HOME": home.path])
        #expect(startup.loadedConfigFile)
        #expect(startup.configuration.settings.listenPort == 9999)
        #expect(startup.configuration.errors.isEmpty, "\(startup.configuration.errors)")
    }
}
