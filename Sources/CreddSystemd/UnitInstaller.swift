import FoundationEssentials

/// Writes and removes credd's systemd user units (`credd install-units` / `credd uninstall-units`).
///
/// After installing: `systemctl --user daemon-reload && systemctl --user enable --now credd.socket`.
/// `credd uninstall-units` stops and disables the ``installedUnits()`` before ``uninstall()``.
public struct UnitInstaller: Sendable {
    /// The user unit directory: `$XDG_CONFIG_HOME/systemd/user`, default `~/.config/systemd/user`.
    public let unitDirectory: URL

    public init(unitDirectory: URL) {
        self.unitDirectory = unitDirectory
    }

    /// Where distribution packages put user units; the credd package installs its units there.
    public static let packagedUnitDirectory = URL(fileURLWithPath: "/usr/lib/systemd/user")

    /// Whether a package installed credd's units in `directory`: a copy in the user's directory
    /// would then override them, so `credd install-units` writes none unless forced.
    public static func packagedUnitsExist(in directory: URL = packagedUnitDirectory) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(UnitFiles.serviceName).path)
    }

    /// The unit directory systemd's user manager reads for this environment.
    public init(environment: [String: String]) throws(SystemdError) {
        if let configHome = environment["XDG_CONFIG_HOME"], configHome.hasPrefix("/") {
            self.init(unitDirectory: URL(fileURLWithPath: configHome).appendingPathComponent("systemd/user"))
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            self.init(unitDirectory: URL(fileURLWithPath: home).appendingPathComponent(".config/systemd/user"))
        } else {
            throw SystemdError(.missingHome)
        }
    }

    /// Writes the units with `ExecStart=` running `binaryPath run`, replacing units an earlier
    /// install wrote; a unit file of the same name that credd did not write is left alone (error).
    /// - Returns: the files written.
    @discardableResult
    public func install(binaryPath: String) throws(SystemdError) -> [URL] {
        let execStart = try Self.execStartArgument(binaryPath) + " run"
        let units = UnitFiles.all(execStart: execStart)
        // Check every target before writing any, so a refusal leaves no half-installed set.
        for unit in units {
            try requireOwnedOrAbsent(file(unit.name))
        }
        try createUnitDirectory()
        var written: [URL] = []
        for unit in units {
            let target = file(unit.name)
            do {
                try Data(unit.contents.utf8).write(to: target, options: .atomic)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target.path)
            } catch {
                throw SystemdError(.unitFileIO(path: target.path, action: "write", reason: Self.reason(error)))
            }
            written.append(target)
        }
        return written
    }

    /// The names of the units an earlier install wrote that are still there; a same-named file
    /// credd did not write is an error (nothing may be stopped or removed for it).
    public func installedUnits() throws(SystemdError) -> [String] {
        var installed: [String] = []
        for name in UnitFiles.all(execStart: UnitFiles.defaultExecStart).map(\.name) {
            try requireOwnedOrAbsent(file(name))
            if FileManager.default.fileExists(atPath: file(name).path) { installed.append(name) }
        }
        return installed
    }

    /// Removes the units an earlier install wrote, and `systemctl enable` links left behind if they
    /// point at them. Missing files are fine; a same-named file credd did not write is an error.
    /// - Returns: the files removed.
    @discardableResult
    public func uninstall() throws(SystemdError) -> [URL] {
        let names = UnitFiles.all(execStart: UnitFiles.defaultExecStart).map(\.name)
        for name in names {
            try requireOwnedOrAbsent(file(name))
        }
        var removed: [URL] = []
        for name in names {
            let target = file(name)
            for link in enableLinks(to: target) {
                try remove(link)
                removed.append(link)
            }
            if FileManager.default.fileExists(atPath: target.path) {
                try remove(target)
                removed.append(target)
            }
        }
        return removed
    }

    /// Escapes a path for `ExecStart=` (systemd.service(5) "Command lines"): `%` specifiers and `$`
    /// expansions are doubled, and a path with spaces or backslashes is double-quoted.
    static func execStartArgument(_ binaryPath: String) throws(SystemdError) -> String {
        guard binaryPath.hasPrefix("/") else {
            throw SystemdError(.relativeBinaryPath(binaryPath))
        }
        guard
            !binaryPath.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control || $0 == "\"" || $0 == "'"
            })
        else {
            throw SystemdError(.unsupportedCharacterInBinaryPath(binaryPath))
        }
        let escaped =
            binaryPath
            .replacingEvery("\\", with: "\\\\")
            .replacingEvery("%", with: "%%")
            .replacingEvery("$", with: "$$")
        let needsQuotes = binaryPath.contains { $0.isWhitespace || $0 == "\\" || $0 == ";" }
        return needsQuotes ? "\"" + escaped + "\"" : escaped
    }

    private func file(_ name: String) -> URL {
        unitDirectory.appendingPathComponent(name)
    }

    private func requireOwnedOrAbsent(_ target: URL) throws(SystemdError) {
        guard FileManager.default.fileExists(atPath: target.path) else { return }
        let contents: String
        do {
            contents = try String(contentsOf: target, encoding: .utf8)
        } catch {
            throw SystemdError(.unitFileIO(path: target.path, action: "read", reason: Self.reason(error)))
        }
        guard contents.hasPrefix(UnitFiles.marker) else {
            throw SystemdError(.foreignUnitFile(path: target.path))
        }
    }

    private func createUnitDirectory() throws(SystemdError) {
        do {
            try FileManager.default.createDirectory(at: unitDirectory, withIntermediateDirectories: true)
        } catch {
            throw SystemdError(.unitFileIO(path: unitDirectory.path, action: "create", reason: Self.reason(error)))
        }
    }

    /// `*.wants/NAME` and `*.requires/NAME` symlinks in the unit directory that resolve to `target`.
    private func enableLinks(to target: URL) -> [URL] {
        let fileManager = FileManager.default
        guard let entries = try? fileManager.contentsOfDirectory(atPath: unitDirectory.path) else { return [] }
        return
            entries
            .filter { $0.hasSuffix(".wants") || $0.hasSuffix(".requires") }
            .map { unitDirectory.appendingPathComponent($0).appendingPathComponent(target.lastPathComponent) }
            .filter { link in
                guard let destination = try? fileManager.destinationOfSymbolicLink(atPath: link.path) else {
                    return false
                }
                let resolved = URL(fileURLWithPath: destination, relativeTo: link.deletingLastPathComponent())
                return resolved.standardizedFileURL.path == target.standardizedFileURL.path
            }
    }

    private func remove(_ item: URL) throws(SystemdError) {
        do {
            try FileManager.default.removeItem(at: item)
        } catch {
            throw SystemdError(.unitFileIO(path: item.path, action: "remove", reason: Self.reason(error)))
        }
    }

    private static func reason(_ error: any Error) -> String {
        // FileManager's errors carry the errno as their underlying POSIXError.
        if let cocoa = error as? CocoaError, let posix = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
            return SystemdError.describe(errno: posix.code.rawValue)
        }
        return String(describing: error)
    }
}
