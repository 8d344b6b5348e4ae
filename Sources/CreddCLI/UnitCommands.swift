import ArgumentParser
import CreddPlatform
import CreddSystemd
import FoundationEssentials

struct InstallUnits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-units",
        abstract: "Install credd's systemd user units (credd.service, credd.socket, credd-control.socket)."
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The credd binary the service runs (default: this one).") var binary: String?
    @Flag(help: "Install even when credd's package already installed its units in /usr/lib/systemd/user.") var force = false

    func run() throws {
        if !force && UnitInstaller.packagedUnitsExist() {
            print("credd's package installed its units in \(UnitInstaller.packagedUnitDirectory.path); nothing to install.")
            print("enable them: systemctl --user enable --now credd.socket credd-control.socket (--force installs a copy that overrides them)")
            return
        }
        let path = binary ?? ExecutableSearch.runningExecutable() ?? CommandLine.arguments[0]
        do {
            let installed = try UnitInstaller(environment: ProcessInfo.processInfo.environment).install(binaryPath: path)
            for unit in installed { print("installed \(unit.path)") }
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
        print("now run: systemctl --user daemon-reload && systemctl --user enable --now credd.socket credd.service")
    }

}

struct UninstallUnits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall-units",
        abstract: "Stop, disable and remove the systemd user units install-units wrote.",
        discussion: """
            Runs systemctl --user disable --now on the installed units first, so nothing keeps running from a \
            removed file, then removes them and runs systemctl --user daemon-reload. Without a user manager to \
            ask, it says so and removes the files. Units a package installed in /usr/lib/systemd/user are left alone.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        do {
            let installer = try UnitInstaller(environment: ProcessInfo.processInfo.environment)
            let installed = try installer.installedUnits()
            guard !installed.isEmpty else {
                print("no credd units in \(installer.unitDirectory.path); nothing to remove")
                return
            }
            if Self.userManagerRuns {
                guard case .success(0) = ForegroundProcess.run(["systemctl", "--user", "--quiet", "disable", "--now"] + installed) else {
                    printError(
                        "credd: systemctl --user disable --now \(installed.joined(separator: " ")) failed; the units stay. "
                            + "Stop them yourself, then run credd uninstall-units again.")
                    throw ExitCode.failure
                }
            } else {
                printError("credd: no systemd user manager is running, so nothing to stop; removing the files")
            }
            for unit in try installer.uninstall() { print("removed \(unit.path)") }
            if Self.userManagerRuns { _ = ForegroundProcess.run(["systemctl", "--user", "daemon-reload"]) }
        } catch let error as SystemdError {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }

    /// Whether this user's systemd manager runs: `systemctl --user` reaches it through this socket.
    private static var userManagerRuns: Bool {
        guard let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else { return false }
        return FileManager.default.fileExists(atPath: runtime + "/systemd/private")
    }
}
