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
        abstract: "Remove credd's systemd user units.",
        discussion: "Stop them first: systemctl --user disable --now credd.service credd.socket credd-control.socket"
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        do {
            let removed = try UnitInstaller(environment: ProcessInfo.processInfo.environment).uninstall()
            for unit in removed { print("removed \(unit.path)") }
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
        print("now run: systemctl --user daemon-reload")
    }
}
