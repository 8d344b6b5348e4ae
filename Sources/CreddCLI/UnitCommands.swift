import ArgumentParser
import CreddSystemd
import Foundation

struct InstallUnits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-units",
        abstract: "Install credd's systemd user units (credd.service, credd.socket, credd-control.socket)."
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The credd binary the service runs (default: this one).") var binary: String?

    func run() throws {
        let path = binary ?? Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
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
