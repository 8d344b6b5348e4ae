import CreddConfig
import CreddTestSupport
import Foundation
import Testing

@Suite("Finding and loading the config")
struct ConfigLoaderTests {
    static let minimal = "[profile mfa]\nsource_profile = alice-long-term\n"

    struct SearchCase: Sendable, CustomTestStringConvertible {
        let name: String
        var explicitPath: String?
        var environment: [String: String] = [:]
        let existing: [String]
        /// The file loaded, or `nil` when loading must fail.
        let expected: String?
        var testDescription: String { name }
    }

    @Test(
        "the config is the first that exists: --config, $CREDD_CONFIG, $XDG_CONFIG_HOME, ~/.config",
        arguments: [
            SearchCase(
                name: "--config wins", explicitPath: "/etc/c", environment: ["CREDD_CONFIG": "/env/c", "XDG_CONFIG_HOME": "/xdg"],
                existing: ["/etc/c", "/env/c", "/xdg/credd/config", FakeHome.configPath], expected: "/etc/c"),
            SearchCase(name: "--config with ~", explicitPath: "~/c", existing: ["/home/alice/c"], expected: "/home/alice/c"),
            SearchCase(name: "a missing --config is an error", explicitPath: "/etc/c", existing: [FakeHome.configPath], expected: nil),
            SearchCase(
                name: "$CREDD_CONFIG next", environment: ["CREDD_CONFIG": "/env/c", "XDG_CONFIG_HOME": "/xdg"],
                existing: ["/env/c", "/xdg/credd/config"], expected: "/env/c"),
            SearchCase(
                name: "a missing $CREDD_CONFIG is an error", environment: ["CREDD_CONFIG": "/env/c"], existing: [FakeHome.configPath], expected: nil),
            SearchCase(
                name: "$XDG_CONFIG_HOME next", environment: ["XDG_CONFIG_HOME": "/xdg"], existing: ["/xdg/credd/config", FakeHome.configPath],
                expected: "/xdg/credd/config"),
            SearchCase(
                name: "then ~/.config", environment: ["XDG_CONFIG_HOME": "/xdg"], existing: [FakeHome.configPath], expected: FakeHome.configPath),
            SearchCase(
                name: "a relative $XDG_CONFIG_HOME is ignored", environment: ["XDG_CONFIG_HOME": "xdg"],
                existing: ["xdg/credd/config", FakeHome.configPath], expected: FakeHome.configPath),
            SearchCase(name: "nothing found", existing: [], expected: nil),
        ])
    func searchOrder(search: SearchCase) throws {
        var files: [String: String] = [:]
        for path in search.existing { files[path] = Self.minimal }
        let environment = search.environment.merging(["HOME": FakeHome.home]) { mine, _ in mine }
        let reader = InMemoryFileReader(files: files)
        if let expected = search.expected {
            let loaded = try ConfigLoader.load(explicitPath: search.explicitPath, environment: environment, reader: reader)
            #expect(loaded.settings.configFile == expected)
        } else {
            #expect(throws: ConfigError.self) {
                try ConfigLoader.load(explicitPath: search.explicitPath, environment: environment, reader: reader)
            }
        }
    }

    @Test("no config anywhere: the error lists where credd looked")
    func nothingFoundMessage() {
        do {
            _ = try ConfigLoader.load(
                explicitPath: nil, environment: ["HOME": FakeHome.home, "XDG_CONFIG_HOME": "/xdg"], reader: InMemoryFileReader())
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("/xdg/credd/config, \(FakeHome.configPath)"))
            #expect(error.message.contains("--config"))
        }
    }

    @Test("XDG_CONFIG_HOME=~/.config: the error names the place once")
    func nothingFoundNamesEachPlaceOnce() {
        do {
            _ = try ConfigLoader.load(
                explicitPath: nil, environment: ["HOME": FakeHome.home, "XDG_CONFIG_HOME": FakeHome.home + "/.config"], reader: InMemoryFileReader())
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("(looked for \(FakeHome.configPath));"), "\(error.message)")
        }
    }

    @Test("an unreadable or non-UTF-8 config stops the load with file and line")
    func unreadableConfig() {
        let reader = InMemoryFileReader(unreadable: [FakeHome.configPath: "Permission denied"])
        #expect(throws: ConfigError(file: FakeHome.configPath, message: "cannot read the credd config: Permission denied")) {
            try ConfigLoader.load(explicitPath: nil, environment: ["HOME": FakeHome.home], reader: reader)
        }
        var binary = InMemoryFileReader()
        binary.files[FakeHome.configPath] = Array("[credd]\n\n".utf8) + [0xC3, 0x28]
        do {
            _ = try ConfigLoader.load(explicitPath: nil, environment: ["HOME": FakeHome.home], reader: binary)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == FakeHome.configPath)
            #expect(error.line == 3)
        }
    }

    @Test(
        "a config with no sections (empty, blank, only comments: a file being rewritten in place) stops the load; [credd] alone loads",
        arguments: ["", "\n\n", "# my profiles\n; none yet\n"])
    func configWithoutSections(text: String) throws {
        let environment = ["HOME": FakeHome.home]
        do {
            _ = try ConfigLoader.load(explicitPath: nil, environment: environment, reader: InMemoryFileReader(files: [FakeHome.configPath: text]))
            Issue.record("expected an error")
        } catch {
            #expect(error.file == FakeHome.configPath)
            #expect(error.message.contains("has no sections"), "\(error.message)")
            #expect(error.message.contains("keeps the config it has"))
        }
        let bare = try ConfigLoader.load(
            explicitPath: nil, environment: environment, reader: InMemoryFileReader(files: [FakeHome.configPath: text + "[credd]\n"]))
        #expect(bare.profiles.isEmpty)
        #expect(bare.errors.isEmpty, "\(bare.errors)")
    }

    @Test("[credd] defaults: listen 127.0.0.1:9911, ~/.aws files, no IMDS profile")
    func defaults() throws {
        let loaded = try FakeHome(config: Self.minimal, credentials: FakeHome.longTermCredentials).load()
        #expect(
            loaded.settings
                == DaemonSettings(
                    listenHost: "127.0.0.1", listenPort: 9911, imdsProfile: nil,
                    credentialsFile: FakeHome.credentialsPath, awsConfigFile: FakeHome.awsConfigPath, configFile: FakeHome.configPath
                ))
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE are honoured; credentials_file wins over the variable")
    func awsFileVariables() throws {
        var home = FakeHome(config: Self.minimal)
        home.environment["AWS_SHARED_CREDENTIALS_FILE"] = "~/alt/creds"
        home.environment["AWS_CONFIG_FILE"] = "/etc/aws-config"
        home.files["/home/alice/alt/creds"] = FakeHome.longTermCredentials
        var loaded = try home.load()
        #expect(loaded.settings.credentialsFile == "/home/alice/alt/creds")
        #expect(loaded.settings.awsConfigFile == "/etc/aws-config")
        #expect(loaded.errors == [])

        home.files[FakeHome.configPath] = "[credd]\ncredentials_file = secrets/creds\n" + Self.minimal
        loaded = try home.load()
        #expect(loaded.settings.credentialsFile == "/home/alice/.config/credd/secrets/creds")
    }

    @Test(
        "listen values",
        arguments: [
            ("127.0.0.1:9911", "127.0.0.1"),
            ("127.1.2.3:9911", "127.1.2.3"),
            ("[::1]:9911", "::1"),
        ])
    func goodListen(value: String, host: String) throws {
        let loaded = try FakeHome(config: "[credd]\nlisten = \(value)\n").load()
        #expect(loaded.errors == [])
        #expect(loaded.settings.listenHost == host)
        #expect(loaded.settings.listenPort == 9911)
    }

    @Test(
        "bad listen values are global errors and fall back to the default",
        arguments: [
            "0.0.0.0:9911", "192.168.1.2:9911", "localhost:9911", "[::]:9911", "::1:9911", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
            "127.0.0.1:http",
        ])
    func badListen(value: String) throws {
        let loaded = try FakeHome(config: "[credd]\nlisten = \(value)\n\n" + Self.minimal, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors.count == 1)
        #expect(loaded.errors.first?.key == "listen")
        #expect(loaded.errors.first?.line == 2)
        #expect(loaded.errors.first?.profile == nil)
        #expect(loaded.settings.listenHost == "127.0.0.1" && loaded.settings.listenPort == 9911)
        #expect(loaded.profiles.map(\.name) == ["mfa"])
    }

    @Test("notifications and notify_action_command")
    func desktopSettings() throws {
        var loaded = try FakeHome(config: Self.minimal, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.settings.notifications && loaded.settings.notifyActionCommand == nil)
        loaded = try FakeHome(
            config: "[credd]\nnotifications = off\nnotify_action_command = zenity --entry --title 'MFA code'\n" + Self.minimal,
            credentials: FakeHome.longTermCredentials
        ).load()
        #expect(loaded.errors == [])
        #expect(!loaded.settings.notifications)
        #expect(loaded.settings.notifyActionCommand == ["zenity", "--entry", "--title", "MFA code"])
    }

    @Test(
        "bad notifications and notify_action_command values are errors that keep the defaults",
        arguments: [
            ("notifications = maybe", "notifications", "must be on or off"),
            ("notify_action_command = prompt 'unclosed", "notify_action_command", "has no closing '"),
            ("notify_action_command = prompt \\", "notify_action_command", "escapes nothing"),
            ("notify_action_command =", "notify_action_command", "has no value"),
        ])
    func badDesktopSettings(line: String, key: String, message: String) throws {
        let loaded = try FakeHome(config: "[credd]\n\(line)\n" + Self.minimal, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors.count == 1)
        #expect(loaded.errors.first?.key == key && loaded.errors.first?.line == 2)
        #expect(loaded.errors.first?.message.contains(message) == true, "\(loaded.errors)")
        #expect(loaded.settings.notifications && loaded.settings.notifyActionCommand == nil)
        #expect(loaded.profiles.map(\.name) == ["mfa"])
    }

    @Test("imds_profile must name a loaded profile")
    func imdsProfile() throws {
        let broken = "[profile bad]\nsource_profile = nowhere\n"
        var loaded = try FakeHome(config: "[credd]\nimds_profile = mfaa\n" + Self.minimal, credentials: FakeHome.longTermCredentials).load()
        #expect(
            loaded.errors.map(\.description) == ["\(FakeHome.configPath):2: key 'imds_profile': no [profile mfaa] in this file; did you mean 'mfa'?"])
        #expect(loaded.settings.imdsProfile == nil)
        loaded = try FakeHome(config: "[credd]\nimds_profile = bad\n" + broken).load()
        #expect(loaded.errors.contains { $0.key == "imds_profile" && $0.message.contains("has errors") })
    }

    @Test("unknown sections and [credd] keys are errors with a suggestion")
    func unknownSectionsAndKeys() throws {
        let config = "[creed]\n[Profile dev]\n[dev]\n[credd]\nlistn = 1\n" + Self.minimal
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        let messages = loaded.errors.map(\.description)
        #expect(messages.contains { $0.hasPrefix("\(FakeHome.configPath):1: ") && $0.contains("did you mean [credd]?") })
        #expect(messages.contains { $0.hasPrefix("\(FakeHome.configPath):2: ") && $0.contains("did you mean [profile dev]?") })
        #expect(messages.contains { $0.hasPrefix("\(FakeHome.configPath):3: ") && $0.contains("did you mean [profile dev]?") })
        #expect(messages.contains { $0.hasPrefix("\(FakeHome.configPath):5: key 'listn': unknown key in [credd]; did you mean 'listen'?") })
        #expect(loaded.profiles.map(\.name) == ["mfa"])
    }

    @Test("INI diagnostics become errors with file:line:column, on the profile they are in")
    func diagnostics() throws {
        let config =
            "\u{FEFF}[profile a]\nsource_profile = alice-long-term\nsource_profile = again\n\n[profile b]\nsource_profile = alice-long-term\n  \n[profile a]\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.profiles.map(\.name) == ["b"])
        #expect(
            loaded.errors.contains {
                $0.description == "\(FakeHome.configPath):1:1: the file starts with a UTF-8 byte-order mark, which botocore rejects"
            })
        #expect(loaded.errors.contains { $0.profile == "a" && $0.line == 3 && $0.column == 1 && $0.message.contains("repeated") })
        #expect(loaded.errors.contains { $0.profile == "a" && $0.line == 8 && $0.message.contains("first at line 1") })
    }

    @Test("problems in the AWS files are reported with their file and position")
    func awsFileDiagnostics() throws {
        let loaded = try FakeHome(config: Self.minimal, credentials: FakeHome.longTermCredentials + "[alice-long-term]\n", awsConfig: "oops\n").load()
        #expect(loaded.errors.contains { $0.file == FakeHome.credentialsPath && $0.line == 4 && $0.column == 1 })
        #expect(loaded.errors.contains { $0.file == FakeHome.awsConfigPath && $0.line == 1 })
    }

    @Test("[default] and [profile default] in credd's config are one profile, defined twice")
    func defaultTwice() throws {
        let loaded = try FakeHome(
            config: "[default]\nsource_profile = alice-long-term\n[profile default]\nsource_profile = alice-long-term\n",
            credentials: FakeHome.longTermCredentials
        ).load()
        #expect(loaded.profiles.isEmpty)
        #expect(loaded.errors.first?.line == 3)
    }

    @Test("the system reader reads files, reports missing ones and explains failures")
    func systemReader() throws {
        let temporary = try TemporaryDirectory(prefix: "credd-reader")
        defer { temporary.remove() }
        let directory = temporary.path
        let file = try temporary.write("config", "[credd]\n", mode: nil)
        #expect(try SystemFileReader().read(file) == .contents(Array("[credd]\n".utf8)))
        #expect(try SystemFileReader().read(directory + "/absent") == .missing)
        #expect(throws: FileReadError(path: directory, reason: "is a directory, not a regular file")) { try SystemFileReader().read(directory) }
        let loaded = try ConfigLoader.load(explicitPath: file, environment: ["HOME": directory])
        #expect(loaded.settings.configFile == file)
    }

    @Test("without HOME, an explicit config still loads and the missing HOME is reported")
    func noHome() throws {
        let reader = InMemoryFileReader(files: ["/etc/credd": "[credd]\n"])
        let loaded = try ConfigLoader.load(explicitPath: "/etc/credd", environment: [:], reader: reader)
        #expect(loaded.errors.map(\.key) == ["HOME"])
        #expect(throws: ConfigError.self) { try ConfigLoader.load(explicitPath: nil, environment: [:], reader: reader) }
    }

    @Test("an AWS file that is not UTF-8 is reported with its line and named where a source is missing")
    func awsFileNotUTF8() throws {
        var home = FakeHome(config: Self.minimal)
        home.files[FakeHome.credentialsPath] = nil
        var reader = home.reader
        reader.files[FakeHome.credentialsPath] = Array("[a]\n".utf8) + [0xFF]
        let loaded = try ConfigLoader.load(explicitPath: nil, environment: home.environment, reader: reader)
        #expect(loaded.errors.contains { $0.file == FakeHome.credentialsPath && $0.line == 2 && $0.message.contains("UTF-8") })
        #expect(loaded.errors(for: "mfa").first?.message.contains("could not be read") == true)
    }

    @Test("ConfigError descriptions leave out what is unknown")
    func errorDescriptions() {
        #expect(
            ConfigError(file: "/c", line: 3, column: 7, profile: "dev", key: "role_arn", message: "bad").description
                == "/c:3:7: [profile dev] key 'role_arn': bad")
        #expect(ConfigError(file: "/c", message: "bad").description == "/c: bad")
        #expect(ConfigError(file: "", message: "bad").description == "bad")
    }
}
