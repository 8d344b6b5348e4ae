import ArgumentParser
import CreddBus
import CreddCore
import FoundationEssentials
import Glibc

/// `credd keys`: long-term access keys in the desktop's Secret Service instead of a file.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep long-term access keys in the desktop's keyring (the Secret Service).",
        subcommands: [KeysAdd.self, KeysImport.self, KeysList.self, KeysRemove.self, KeysUnlock.self]
    )

    /// The Secret Service on the session bus, or an exit with the reason.
    static func service() async throws -> SecretService {
        let environment = ProcessInfo.processInfo.environment
        guard let address = BusAddress.session(environment: environment, socketExists: { access($0, F_OK) == 0 }) else {
            printError(
                "credd: no session bus (DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist); the keyring needs a desktop session"
            )
            throw ExitCode.failure
        }
        do {
            return SecretService(connection: try await BusConnection.open(address: address, threadName: "credd-keys"))
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }

    /// The profiles whose keys the keyring holds, quietly empty without a session bus or keyring:
    /// what the daemon's config loader is given, so that `credd check` resolves as it does.
    static func storedProfiles(_ environment: [String: String]) async -> Set<String> {
        guard let address = BusAddress.session(environment: environment, socketExists: { access($0, F_OK) == 0 }),
            let connection = try? await BusConnection.open(address: address, threadName: "credd-keys")
        else { return [] }
        defer { connection.close() }
        return (try? await SecretService(connection: connection).keyProfiles()) ?? []
    }

    /// Runs `body`, turning a D-Bus failure into a message and exit status 1.
    static func reporting<T>(_ body: () async throws(BusError) -> T) async throws -> T {
        do {
            return try await body()
        } catch .serviceMissing {
            printError("credd: no Secret Service on the session bus; install and start a keyring (gnome-keyring, KeePassXC, KDE's ksecretd)")
            throw ExitCode.failure
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }
}

struct KeysAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Store a profile's access key id and secret access key in the keyring.",
        discussion: """
            Reads the access key id and then the secret access key, one per line, from the terminal (the secret \
            without echo) or from stdin; never from the arguments, which every local user can read. Replaces \
            what the keyring held for the profile.
            """
    )

    // Every command accepts --config (docs/design.md §6); the keyring does not depend on it.
    @OptionGroup var options: ConfigOption
    @Argument(help: "The source profile the keys belong to (what `source_profile` names).") var profile: String

    func run() async throws {
        guard let keyId = KeyInput.line("Access key id for \(profile): ", hidden: false), !keyId.isEmpty,
            let secret = KeyInput.line("Secret access key for \(profile): ", hidden: true), !secret.isEmpty
        else {
            printError("credd: no keys read: give the access key id and the secret access key, one per line")
            throw ExitCode.failure
        }
        let service = try await Keys.service()
        try await Keys.reporting { () throws(BusError) in
            try await service.storeKeys(of: profile, accessKeyId: keyId, secret: Array(secret.utf8))
        }
        print("stored the keys of \(profile) (\(keyId)) in the keyring")
    }
}

struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the profiles whose keys are in the keyring, with their access key ids (no secrets).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let service = try await Keys.service()
        let rows = try await Keys.reporting { () throws(BusError) -> [String] in
            let found = try await service.search(SecretService.creddAttributes)
            var rows: [String] = []
            for (item, locked) in found.unlocked.map({ ($0, false) }) + found.locked.map({ ($0, true) }) {
                let attributes = try await service.attributes(of: item)
                rows.append(
                    "\(attributes["credd-profile"] ?? "?")  \(attributes["aws_access_key_id"] ?? "?")\(locked ? "  (locked: unlock the keyring)" : "")"
                )
            }
            return rows.sorted()
        }
        for row in rows { print(row) }
    }
}

struct KeysRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Delete a profile's keys from the keyring.")

    // Every command accepts --config (docs/design.md §6); the keyring does not depend on it.
    @OptionGroup var options: ConfigOption
    @Argument(help: "The profile whose keys to delete.") var profile: String

    func run() async throws {
        let service = try await Keys.service()
        let removed = try await Keys.reporting { () throws(BusError) -> Int in
            let found = try await service.search(SecretService.keyAttributes(profile: profile))
            guard found.locked.isEmpty else { throw .locked("the keys of \(profile)") }
            for item in found.unlocked { try await service.delete(item) }
            return found.unlocked.count
        }
        guard removed > 0 else {
            printError("credd: the keyring holds no keys of \(profile)")
            throw ExitCode.failure
        }
        print("removed the keys of \(profile) from the keyring")
    }
}

struct KeysUnlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Unlock the keyring holding credd's keys; the desktop asks for its password.",
        discussion: """
            The Secret Service shows the desktop's own unlock prompt; credd never sees the password. A running \
            daemon renews the profiles waiting for the keyring (`needs_unlock`) as soon as it is unlocked. Exits 1 \
            when the prompt is dismissed (or cannot be shown, as in an SSH session) or not answered within 10 \
            minutes: the keyring then stays locked.
            """
    )

    // Every command accepts --config (docs/design.md §6); the keyring does not depend on it.
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let service = try await Keys.service()
        let outcome = try await Keys.reporting { () throws(BusError) in try await service.unlockKeys(timeout: SecretService.unlockPromptTimeout) }
        switch outcome {
        case .unlocked:
            print("the keyring holding credd's keys is unlocked")
        case .dismissed:
            printError("credd: the unlock prompt was dismissed, or none could be shown (no desktop session?): the keyring stays locked")
            throw ExitCode.failure
        }
    }
}

/// Reads one line for `credd keys add`: from the terminal when stdin is one (a secret without
/// echo), else from stdin.
enum KeyInput {
    static func line(_ prompt: String, hidden: Bool) -> String? {
        // Keys hold no blanks; a pasted key often brings some.
        func read() -> String? { readLine(strippingNewline: true).map { String($0.filter { !$0.isWhitespace }) } }
        guard isatty(STDIN_FILENO) == 1 else { return read() }
        writeToStandardError(prompt)
        var saved = termios()
        let canHide = hidden && tcgetattr(STDIN_FILENO, &saved) == 0
        if canHide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if canHide {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                writeToStandardError("\n")
            }
        }
        return read()
    }
}
