import CreddConfig
import CreddTestSupport
import Foundation
import Testing

/// `credd check`'s warnings, against real files in a scratch home.
@Suite("credd check warnings")
struct CheckWarningsTests {
    /// A scratch home with a config, a credentials file and the environment to load them.
    struct Home {
        let directory: TemporaryDirectory
        var environment: [String: String]

        init(config: String, credentialsMode: Int = 0o600, awsConfig: String? = nil) throws {
            directory = try TemporaryDirectory(prefix: "credd-check")
            environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": directory.file(".config")]
            try directory.write(".config/credd/config", config)
            try directory.write(".aws/credentials", FakeHome.longTermCredentials, mode: credentialsMode)
            if let awsConfig { try directory.write(".aws/config", awsConfig) }
        }

        func warnings(systemUnitDirectories: [String] = []) throws -> [ConfigWarning] {
            let loaded = try ConfigLoader.load(explicitPath: nil, environment: environment)
            #expect(loaded.errors == [])
            return ConfigWarning.all(for: loaded, environment: environment, systemUnitDirectories: systemUnitDirectories)
        }
    }

    static let plainProfile = "[profile mfa]\nsource_profile = alice-long-term\n"

    @Test(
        "a credentials file others may read or write is named with the chmod that fixes it",
        arguments: [
            (0o600, nil), (0o400, nil), (0o640, "readable"), (0o604, "readable"), (0o620, "writable"), (0o666, "readable and writable"),
        ] as [(Int, String?)])
    func credentialsMode(mode: Int, access: String?) throws {
        let home = try Home(config: Self.plainProfile, credentialsMode: mode)
        let warnings = try home.warnings()
        guard let access else {
            #expect(warnings == [])
            return
        }
        let path = home.directory.file(".aws/credentials")
        #expect(warnings.count == 1)
        #expect(warnings.first?.subject == path)
        #expect(warnings.first?.message.hasPrefix("\(access) by group or others (mode 0\(String(mode, radix: 8)))") == true)
        #expect(warnings.first?.fix == "chmod 600 \(path)")
    }

    @Test("helper programs that would not start are named once, with what to do")
    func helperPrograms() throws {
        let notExecutable = "/tmp/credd-check-not-executable-\(getpid())"
        FileManager.default.createFile(atPath: notExecutable, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644])
        defer { unlink(notExecutable) }
        let config = """
            [profile mfa]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            mfa_process = no-such-otp-tool --totp
            [profile other]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            mfa_process = \(notExecutable)
            [profile vault]
            source_profile = from-vault
            role_arn = arn:aws:iam::111111111111:role/A
            [profile vault2]
            source_profile = from-vault
            role_arn = arn:aws:iam::111111111111:role/B
            [profile fine]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            mfa_process = sh -c 'echo 123456'
            [profile quoted]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            mfa_process = sh -c 'echo 123456
            """
        let home = try Home(config: config, awsConfig: "[profile from-vault]\ncredential_process = /opt/none/vault-helper get\n")
        let warnings = try home.warnings()
        #expect(warnings.count == 4)
        #expect(
            warnings.contains {
                $0.subject.hasPrefix("[profile quoted] at ") && $0.message.hasPrefix("mfa_process cannot be split")
                    && $0.fix == "fix the quoting of mfa_process"
            })
        let notOnPath = try #require(warnings.first { $0.message.contains("no-such-otp-tool") })
        #expect(notOnPath.subject.hasPrefix("[profile mfa] at "))
        #expect(notOnPath.message == "the mfa_process program 'no-such-otp-tool' is not on PATH (/usr/bin:/bin)")
        #expect(notOnPath.fix.contains("write its full path in mfa_process"))
        #expect(
            warnings.contains {
                $0.message == "the mfa_process program '\(notExecutable)' is not an executable file" && $0.fix == "chmod u+x \(notExecutable)"
            })
        // Two profiles share one credential_process: one warning.
        #expect(
            warnings.contains {
                $0.subject.hasPrefix("credential_process at \(home.directory.file(".aws/config")):2") && $0.message.hasSuffix("does not exist")
            })
    }

    @Test(
        "a listen the installed credd.socket does not serve is named, with the systemctl commands",
        arguments: [
            // (listen in the config, ListenStream lines of the unit, drop-in, warns)
            ("127.0.0.1:9911", "ListenStream=127.0.0.1:9911", nil, false),
            ("127.0.0.1:9912", "ListenStream=127.0.0.1:9911", nil, true),
            ("[::1]:9911", "ListenStream=127.0.0.1:9911\nListenStream=[::1]:9911", nil, false),
            ("127.0.0.1:9912", "ListenStream=127.0.0.1:9911", "[Socket]\nListenStream=\nListenStream=127.0.0.1:9912\n", false),
            ("127.0.0.1:9911", "ListenStream=127.0.0.1:9911", "[Socket]\nListenStream=\nListenStream=127.0.0.2:9911\n", true),
        ] as [(String, String, String?, Bool)])
    func listenMismatch(listen: String, streams: String, dropIn: String?, warns: Bool) throws {
        var home = try Home(config: "[credd]\nlisten = \(listen)\n" + Self.plainProfile)
        let units = home.directory.file(".config/systemd/user")
        try home.directory.write(".config/systemd/user/credd.socket", "[Unit]\nDescription=x\n[Socket]\n\(streams)\nFileDescriptorName=endpoint\n")
        if let dropIn { try home.directory.write(".config/systemd/user/credd.socket.d/10-port.conf", dropIn) }
        // A farther directory's unit is hidden by the user's own.
        let system = try TemporaryDirectory(prefix: "credd-check-system")
        try system.write("credd.socket", "[Socket]\nListenStream=127.0.0.1:1\n")
        home.environment["XDG_CONFIG_HOME"] = home.directory.file(".config")
        let warnings = try home.warnings(systemUnitDirectories: [system.path])
        #expect(warnings.count == (warns ? 1 : 0))
        if warns {
            let warning = try #require(warnings.first)
            #expect(warning.message.hasPrefix("listen = \(listen), but \(units)/credd.socket has systemd listen on"))
            #expect(warning.fix.contains("systemctl --user edit credd.socket"))
            #expect(warning.fix.contains("ListenStream=\(listen)"))
            #expect(warning.fix.contains("systemctl --user restart credd.socket credd.service"))
        }
    }

    @Test("temp files a killed writer left are listed with the rm that removes them")
    func leftoverTemporaryFiles() throws {
        let home = try Home(config: Self.plainProfile)
        let names = [".credentials.credd-4242-00ff.tmp", ".credentials.credd-4243-0aff.tmp"]
        for name in names { try home.directory.write(".aws/\(name)", "x") }
        try home.directory.write(".aws/.config.credd-1-1.tmp", "not beside the credentials file's name")
        let warnings = try home.warnings()
        let aws = home.directory.file(".aws")
        #expect(
            warnings == [
                ConfigWarning(
                    subject: aws,
                    message: "2 temp files of credd's left by a write that was killed midway, which may hold session credentials",
                    fix: "unless you made them yourself, remove them: rm -- \(aws)/\(names[0]) \(aws)/\(names[1])")
            ])
    }

    @Test("no installed credd.socket, no listen warning")
    func noUnit() throws {
        let home = try Home(config: "[credd]\nlisten = 127.0.0.1:9912\n" + Self.plainProfile)
        #expect(try home.warnings() == [])
    }

    @Test("warnings are printed after the errors and do not count as errors")
    func report() throws {
        let home = try Home(config: Self.plainProfile, credentialsMode: 0o644)
        let loaded = try ConfigLoader.load(explicitPath: nil, environment: home.environment)
        let report = ConfigCheckReport.render(loaded, warnings: try home.warnings())
        #expect(report.contains("no errors\n\n1 warning:\n  \(home.directory.file(".aws/credentials")): readable by group or others (mode 0644)"))
        #expect(report.hasSuffix(". Fix: chmod 600 \(home.directory.file(".aws/credentials"))\n"))
    }
}

/// Reading credd's files never blocks and never reads anything but a regular file.
@Suite("Safe reads")
struct SafeReadTests {
    @Test("a FIFO or a directory at a config path is refused at once, by name")
    func notRegularFiles() throws {
        let directory = try TemporaryDirectory(prefix: "credd-fifo")
        let fifo = directory.file("credentials")
        #expect(mkfifo(fifo, 0o600) == 0)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: FileReadError(path: fifo, reason: "is a FIFO, not a regular file")) { try SystemFileReader().read(fifo) }
        try directory.write("config", "[credd]\ncredentials_file = \(fifo)\n[profile mfa]\nsource_profile = alice-long-term\n")
        let loaded = try ConfigLoader.load(explicitPath: directory.file("config"), environment: ["HOME": directory.path])
        #expect(clock.now - start < .seconds(5))
        #expect(loaded.errors.contains { $0.file == fifo && $0.message.contains("is a FIFO, not a regular file") })
        #expect(loaded.errors.contains { $0.description.contains("\(fifo) could not be read: is a FIFO, not a regular file") })
    }

    @Test(
        "durations are written the same way in duration_seconds and rotate_after",
        arguments: [
            ("12h", 43_200), ("720m", 43_200), ("43200s", 43_200), ("43200", 43_200), ("1d", 86_400),
        ])
    func durations(text: String, seconds: Int) throws {
        let config = "[profile mfa]\nsource_profile = alice-long-term\nduration_seconds = \(text)\nrotate_after = \(text)\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors == [])
        #expect(loaded.profile(named: "mfa")?.durationSeconds == seconds)
        #expect(loaded.profile(named: "mfa")?.rotateAfter?.seconds == seconds)
    }
}

extension CheckWarningsTests {
    @Test(
        "a role or MFA device of another partition than the STS endpoint's is named with the region to set",
        arguments: [
            (
                "role_arn = arn:aws-cn:iam::123456789012:role/Dev\nregion = eu-west-1",
                "role_arn is in partition aws-cn, but its STS calls go to https://sts.eu-west-1.amazonaws.com in partition aws"
            ),
            (
                "role_arn = arn:aws-eusc:iam::123456789012:role/Dev",
                "role_arn is in partition aws-eusc, but its STS calls go to https://sts.amazonaws.com in partition aws"
            ),
            (
                "mfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = us-gov-west-1",
                "mfa_serial is in partition aws, but its STS calls go to https://sts.us-gov-west-1.amazonaws.com in partition aws-us-gov"
            ),
            ("role_arn = arn:aws-cn:iam::123456789012:role/Dev\nregion = cn-north-1", nil),
            ("role_arn = arn:aws-eusc:iam::123456789012:role/Dev\nregion = eusc-de-east-1", nil),
            ("role_arn = arn:aws-cn:iam::123456789012:role/Dev\nendpoint_url = http://127.0.0.1:5000", nil),
        ] as [(String, String?)])
    func partitionMismatch(lines: String, message: String?) throws {
        let home = try Home(config: "[profile p]\nsource_profile = alice-long-term\n\(lines)\n")
        let warnings = try home.warnings().filter { $0.message.contains("partition") }
        guard let message else {
            #expect(warnings == [])
            return
        }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.hasPrefix(message) == true, "\(warnings)")
        #expect(warnings.first?.subject.hasPrefix("[profile p] at ") == true)
        #expect(warnings.first?.fix.contains("set region") == true)
    }
}
