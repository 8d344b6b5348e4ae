/// The addresses the installed `credd.socket` unit listens on, read as systemd reads them: the
/// unit file from the first directory of the search path that has one, then its drop-ins
/// (`credd.socket.d/*.conf`, in name order, a nearer directory's file hiding a farther one's
/// of the same name). An empty `ListenStream=` clears the list, as in systemd.
public struct SocketUnitListen: Sendable, Hashable {
    public static let unitName = "credd.socket"
    /// System-wide directories of the user manager's search path, after the user's own.
    public static let systemDirectories = ["/etc/systemd/user", "/usr/lib/systemd/user"]

    /// The unit file that was found.
    public let unitFile: String
    /// Every `ListenStream=` value in effect, sockets and paths alike.
    public let listenStreams: [String]

    /// `$XDG_CONFIG_HOME/systemd/user` (when absolute), then `~/.config/systemd/user`.
    public static func userDirectories(environment: [String: String]) -> [String] {
        var directories: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { directories.append(xdg + "/systemd/user") }
        if let home = environment["HOME"], !home.isEmpty { directories.append(home + "/.config/systemd/user") }
        return directories
    }

    /// The unit as installed in `directories` (nearest first), or `nil` when none has it.
    public static func find(in directories: [String], reader: some FileReading) -> SocketUnitListen? {
        func contents(_ path: String) -> String? {
            guard case let .contents(bytes)? = try? reader.read(path) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard
            let (unitFile, unit) = directories.lazy.compactMap({ directory in
                contents(directory + "/" + unitName).map { (directory + "/" + unitName, $0) }
            }).first
        else { return nil }
        var dropIns: [String: String] = [:]
        for directory in directories.reversed() {
            for name in reader.entries(ofDirectory: directory + "/" + unitName + ".d") where name.hasSuffix(".conf") {
                dropIns[name] = directory + "/" + unitName + ".d/" + name
            }
        }
        var streams = listenStreams(in: unit, current: [])
        for name in dropIns.keys.sorted() {
            if let path = dropIns[name], let text = contents(path) { streams = listenStreams(in: text, current: streams) }
        }
        return SocketUnitListen(unitFile: unitFile, listenStreams: streams)
    }

    /// `current` updated with the `[Socket]` section's `ListenStream=` lines of `text`.
    static func listenStreams(in text: String, current: [String]) -> [String] {
        var streams = current
        var inSocket = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingWhitespace()
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") {
                inSocket = line == "[Socket]"
                continue
            }
            guard inSocket, let equals = line.firstIndex(of: "="),
                line[..<equals].trimmingWhitespace() == "ListenStream"
            else { continue }
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            if value.isEmpty { streams = [] } else { streams.append(value) }
        }
        return streams
    }

    /// A warning when no network `ListenStream=` matches `listen`: systemd, not credd, opens
    /// the socket, so the config's `listen` would name an address nothing serves.
    func warning(for settings: DaemonSettings) -> ConfigWarning? {
        let host = settings.listenHost.contains(":") ? "[\(settings.listenHost)]" : settings.listenHost
        let listen = "\(host):\(settings.listenPort)"
        // Paths, abstract sockets and specifiers (`%t/credd/control.sock`) are not the endpoint.
        let network = listenStreams.filter { !$0.hasPrefix("/") && !$0.hasPrefix("@") && !$0.hasPrefix("%") }
        guard !network.isEmpty, !network.contains(listen), !network.contains(String(settings.listenPort)) else { return nil }
        let installed = network.joined(separator: " and ")
        return ConfigWarning(
            subject: settings.configFile,
            message: "listen = \(listen), but \(unitFile) has systemd listen on \(installed), and credd serves on the socket systemd passes it",
            fix: "set listen = \(network[0]) in \(settings.configFile), or run `systemctl --user edit \(Self.unitName)` and add the lines "
                + "[Socket], ListenStream= and ListenStream=\(listen), then `systemctl --user restart \(Self.unitName) credd.service`")
    }
}
