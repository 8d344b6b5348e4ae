import CreddTestSupport
import Foundation
import Glibc
import Testing

/// How a program rewrites a file credd watches: in place (nano, `cat >`, `>` redirection, vim
/// with `backupcopy=yes`), leaving it empty for a moment, or by removing and recreating it.
enum InPlaceRewrite: String, CaseIterable, Sendable {
    case truncateCredentials, truncateConfig, emptyCredentialsForSeconds, emptyConfigForSeconds, removeCredentials, removeConfig

    var rewritesConfig: Bool {
        switch self {
        case .truncateConfig, .emptyConfigForSeconds, .removeConfig: true
        case .truncateCredentials, .emptyCredentialsForSeconds, .removeCredentials: false
        }
    }

    var removes: Bool { self == .removeCredentials || self == .removeConfig }

    /// How long the file stays empty or missing after credd reloaded it.
    var gap: TimeInterval { self == .emptyCredentialsForSeconds || self == .emptyConfigForSeconds ? 3 : 0 }

    /// What `credd status` says meanwhile.
    var configError: String {
        switch self {
        case .truncateConfig, .emptyConfigForSeconds: "has no sections"
        case .removeConfig: "no credd config found"
        case .truncateCredentials, .emptyCredentialsForSeconds, .removeCredentials: "source profile 'alice-long-term' not found"
        }
    }
}

extension DaemonEndToEndTests {
    struct Overview: Decodable {
        struct Daemon: Decodable { let config_errors: [String] }
        struct Profile: Decodable {
            let name: String
            let state: String
        }
        let daemon: Daemon
        let profiles: [Profile]
    }

    /// `credd status --json`, or nil while no daemon answers.
    func overview(_ harness: CreddHarness) throws -> Overview? {
        try? JSONDecoder().decode(Overview.self, from: Data(harness.cli(["status", "--json"]).stdout.utf8))
    }

    /// The access key id `credd credential-process` serves for `profile`, or nil when it serves none.
    func servedKey(_ harness: CreddHarness, _ profile: String) throws -> String? {
        let output = try harness.cli(["credential-process", profile])
        guard output.status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] else {
            return nil
        }
        return object["AccessKeyId"] as? String
    }

    /// moto and a daemon on the standard config without `mfa_process`, `mfa` logged in with a
    /// code and both sessions written; returns the config and the sessions' access key ids.
    func startLoggedInDaemon() throws -> (harness: CreddHarness, config: String, mfaKey: String, devKey: String) {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(Self.userSection)
        let config = Self.config(port: harness.endpointPort, mfaProcess: false)
        try harness.writeConfig(config)
        try harness.start()
        try harness.waitUntil { try state(harness, "mfa") == "needs_mfa" }
        let login = try harness.cli(["login", "mfa", "--code", "-"], stdin: "123456\n")
        #expect(login.status == 0, "\(login.stderr)")
        try harness.waitUntil {
            try status(harness).exit == 0 && sessionKey(harness, section: "mfa") != nil && sessionKey(harness, section: "dev") != nil
        }
        return (harness, config, try #require(try sessionKey(harness, section: "mfa")), try #require(try sessionKey(harness, section: "dev")))
    }

    @Test(
        "a config or credentials file read while it is rewritten in place, empty or missing, costs no session, section or byte",
        arguments: InPlaceRewrite.allCases)
    func aFileReadMidRewriteCostsNoSession(_ rewrite: InPlaceRewrite) throws {
        let (harness, _, mfaKey, devKey) = try startLoggedInDaemon()
        let credentialsBefore = try harness.credentialsFile()
        let path = rewrite.rewritesConfig ? harness.configPath : harness.credentialsPath
        let content = try String(contentsOfFile: path, encoding: .utf8)

        // Closing the truncated file (or removing it) is what the watch sees.
        if rewrite.removes {
            #expect(unlink(path) == 0)
        } else {
            let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            try #require(descriptor >= 0)
            close(descriptor)
        }
        // Reloaded: either the profiles changed or credd says what it makes of the file.
        try harness.waitUntil {
            guard let seen = try overview(harness) else { return false }
            return !seen.daemon.config_errors.isEmpty || seen.profiles.map(\.name) != ["mfa", "dev"]
        }
        let meanwhile = try #require(try overview(harness))
        #expect(meanwhile.profiles.map(\.name) == ["mfa", "dev"], "nothing is removed")
        #expect(meanwhile.daemon.config_errors.contains { $0.contains(rewrite.configError) }, "\(meanwhile.daemon.config_errors)")
        #expect(try servedKey(harness, "mfa") == mfaKey, "the MFA session is still served")
        #expect(try servedKey(harness, "dev") == devKey)
        if rewrite.gap > 0 {
            Thread.sleep(forTimeInterval: rewrite.gap)
            #expect(try servedKey(harness, "mfa") == mfaKey, "still served after \(rewrite.gap) s")
        }

        if rewrite.rewritesConfig { try harness.writeConfig(content) } else { try harness.writeCredentials(content) }
        try harness.waitUntil {
            guard let seen = try overview(harness) else { return false }
            return seen.daemon.config_errors.isEmpty && seen.profiles.contains { $0.name == "mfa" && $0.state != "pending" }
        }
        #expect(try state(harness, "mfa") == "fresh", "no code is asked")
        #expect(try state(harness, "dev") == "fresh")
        #expect(try servedKey(harness, "mfa") == mfaKey)
        #expect(try servedKey(harness, "dev") == devKey)
        #expect(try harness.credentialsFile() == credentialsBefore, "every byte, the user's and the managed sections, is as it was")
        #expect(!harness.daemonLog().contains("profile removed"))
        #expect(try harness.stop() == 0)
    }

    /// A reload can read the config while a slow writer has written only part of it: a profile
    /// missing from that part is removed, and takes its session back when the rest arrives.
    @Test func aProfileBackUnderTheSameIdentityTakesItsSessionBack() throws {
        let (harness, config, mfaKey, devKey) = try startLoggedInDaemon()

        // Only `listen` written so far (with `imds_profile` naming a missing profile, the
        // running config would stay): both profiles go, with their sections and service.
        let head = "[credd]\nlisten = 127.0.0.1:\(harness.endpointPort)\n"
        try edit(harness, to: head)
        try harness.waitUntil { try overview(harness)?.profiles.isEmpty == true && sessionKey(harness, section: "mfa") == nil }
        #expect(try servedKey(harness, "mfa") == nil)

        try edit(harness, to: config)
        try harness.waitUntil {
            try status(harness).exit == 0 && sessionKey(harness, section: "mfa") != nil && sessionKey(harness, section: "dev") != nil
        }
        #expect(try sessionKey(harness, section: "mfa") == mfaKey, "no code asked: the same session")
        #expect(try sessionKey(harness, section: "dev") == devKey)
        #expect(try servedKey(harness, "dev") == devKey)
        #expect(harness.daemonLog().contains("profile back under the same identity"))

        // Back under another identity (a new MFA device), it is a new profile: a code is needed.
        try edit(harness, to: head)
        try harness.waitUntil { try sessionKey(harness, section: "mfa") == nil }
        try edit(harness, to: config.replacingOccurrences(of: "mfa/alice", with: "mfa/alice-new"))
        try harness.waitUntil { try state(harness, "mfa") == "needs_mfa" }
        #expect(try servedKey(harness, "mfa") == nil)
        #expect(try harness.stop() == 0)
    }

    /// A restart can come while the config is being rewritten: the daemon starts with no
    /// profiles, leaves their sections alone, and adopts their sessions once the config is back.
    @Test func aDaemonStartedWhileTheConfigIsEmptyAdoptsTheSessionsWhenItIsWritten() throws {
        let (harness, config, mfaKey, devKey) = try startLoggedInDaemon()
        #expect(try harness.stop() == 0)
        let credentialsBefore = try harness.credentialsFile()

        try harness.writeConfig("")
        try harness.start()
        try harness.waitUntil { try overview(harness)?.daemon.config_errors.contains { $0.contains("has no sections") } == true }
        #expect(try overview(harness)?.profiles.isEmpty == true)
        #expect(try harness.credentialsFile() == credentialsBefore, "the sections stay")

        try harness.writeConfig(config)
        try harness.waitUntil { try status(harness).exit == 0 }
        #expect(try servedKey(harness, "mfa") == mfaKey, "no code asked: the same session")
        #expect(try servedKey(harness, "dev") == devKey)
        #expect(try harness.credentialsFile() == credentialsBefore)
        #expect(harness.daemonLog().contains("session kept from an earlier run adopted"))
        #expect(try harness.stop() == 0)
    }

    /// `cat > ~/.aws/credentials`, still typing when a renewal comes: credd does not replace the
    /// file under it (what it types would go into the replaced file), and writes once it is done.
    @Test func aRenewalWaitsForAProgramStillWritingTheCredentialsFile() throws {
        let (harness, _, mfaKey, devKey) = try startLoggedInDaemon()
        let content = try harness.credentialsFile()
        let typing = open(harness.credentialsPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        try #require(typing >= 0)
        let refreshed = try harness.cli(["refresh", "dev"])
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        try harness.waitUntil { harness.daemonLog().contains("another program has the file open for writing") }
        #expect(try harness.credentialsFile().isEmpty, "not replaced under its writer")

        let typed = Array(content.utf8)
        #expect(typed.withUnsafeBytes { Glibc.write(typing, $0.baseAddress, $0.count) } == typed.count)
        close(typing)
        try harness.waitUntil { try sessionKey(harness, section: "dev").map { $0 != devKey } ?? false }
        #expect(try harness.credentialsFile().hasPrefix(Self.userSection), "every byte it wrote is there")
        #expect(try sessionKey(harness, section: "mfa") == mfaKey)
        #expect(try state(harness, "mfa") == "fresh")
        #expect(try harness.stop() == 0)
    }
}
