import CreddCore
import CreddINI

/// The `[credd]` section's own keys, validated; a bad value is reported and its default used.
struct CreddSectionSettings {
    static let keys = ["listen", "imds_profile", "credentials_file", "notifications", "notify_action_command"]

    var listen = (host: DaemonSettings.defaultListenHost, port: DaemonSettings.defaultListenPort)
    /// Checked against the profiles once they are resolved.
    var imdsProfile: (name: String, line: Int)?
    /// `nil` when unset: the environment or `~/.aws/credentials` decides.
    var credentialsFile: String?
    var notifications = true
    var notifyActionCommand: [String]?

    init(section: INISection?, file: String, home: String?, errors: inout [ConfigError]) {
        for entry in section?.entries ?? [] {
            func fail(_ message: String) {
                errors.append(
                    ConfigError(file: file, line: entry.lineNumber, key: entry.key, message: message + ConfigValues.inlineCommentHint(entry.value)))
            }
            switch entry.key {
            case "listen":
                switch ConfigValues.parseListen(entry.value) {
                case let .success(parsed): listen = parsed
                case let .failure(problem):
                    fail("\(problem.message); using the default \(DaemonSettings.defaultListenHost):\(DaemonSettings.defaultListenPort)")
                }
            case "imds_profile":
                if entry.value.isEmpty {
                    fail("has no value; name a profile or remove the line")
                } else {
                    imdsProfile = (entry.value, entry.lineNumber)
                }
            case "credentials_file":
                if entry.value.isEmpty {
                    fail("has no value; give a path or remove the line")
                } else {
                    let expanded = ConfigLoader.expandingHome(entry.value, home: home)
                    // Relative to the config file: a daemon's working directory means nothing.
                    credentialsFile = expanded.hasPrefix("/") ? expanded : ConfigLoader.directory(of: file) + "/" + expanded
                }
            case "notifications":
                switch entry.value.lowercased() {
                case "on", "true", "yes": notifications = true
                case "off", "false", "no": notifications = false
                default: fail("must be on or off; notifications stay on")
                }
            case "notify_action_command":
                switch Result(catching: { () throws(CommandLineSplitter.Failure) in try CommandLineSplitter.split(entry.value) }) {
                case .success(let command) where command.isEmpty: fail("has no value; give a command or remove the line")
                case .success(let command): notifyActionCommand = command
                case .failure(.unterminatedQuote(let quote)):
                    fail("has no closing \(quote); the \"Enter code\" button runs `credd login` in a terminal")
                case .failure(.trailingBackslash):
                    fail("ends in a backslash that escapes nothing; the \"Enter code\" button runs `credd login` in a terminal")
                }
            default:
                let suggestion = ConfigValues.suggestion(for: entry.key, among: Self.keys).map { "; did you mean '\($0)'?" } ?? ""
                fail("unknown key in [credd]\(suggestion)")
            }
        }
    }
}
