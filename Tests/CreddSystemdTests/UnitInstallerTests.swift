import CreddTestSupport
import Foundation
import Testing

@testable import CreddSystemd

@Suite("unit files and installer")
struct UnitInstallerTests {
    /// The repository's `systemd/` directory, found from this file's path.
    static let repositoryUnits = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd")

    @Test func repositoryCopiesMatchWhatTheInstallerWrites() throws {
        for unit in UnitFiles.all(execStart: UnitFiles.defaultExecStart) {
            let onDisk = try String(contentsOf: Self.repositoryUnits.appendingPathComponent(unit.name), encoding: .utf8)
            #expect(onDisk == unit.contents, "systemd/\(unit.name) differs from UnitFiles; regenerate it")
        }
    }

    @Test func sandboxLetsTheEndpointAskTheKernelWhoAClientIs() throws {
        // Without AF_NETLINK the sock_diag lookup fails and every new connection costs a
        // /proc/net/tcp read (milliseconds, on the event loop).
        let service = UnitFiles.service(execStart: UnitFiles.defaultExecStart)
        let families = try #require(service.split(separator: "\n").first { $0.hasPrefix("RestrictAddressFamilies=") })
        #expect(families.split(separator: "=")[1].split(separator: " ").contains("AF_NETLINK"))
    }

    @Test func unitDirectoryFollowsXDGConfigHome() throws {
        #expect(
            try UnitInstaller(environment: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/a"]).unitDirectory.path
                == "/x/cfg/systemd/user")
        #expect(
            try UnitInstaller(environment: ["HOME": "/home/a"]).unitDirectory.path == "/home/a/.config/systemd/user")
        // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
        #expect(
            try UnitInstaller(environment: ["XDG_CONFIG_HOME": "cfg", "HOME": "/home/a"]).unitDirectory.path
                == "/home/a/.config/systemd/user")
        let error = #expect(throws: SystemdError.self) { try UnitInstaller(environment: [:]) }
        #expect(error.map(String.init(describing:))?.contains("neither XDG_CONFIG_HOME nor HOME") == true)
    }

    @Test(arguments: [
        ("/home/alice/.local/bin/credd", "/home/alice/.local/bin/credd"),
        ("/opt/credd 2/bin/credd", "\"/opt/credd 2/bin/credd\""),
        ("/opt/100%/credd", "/opt/100%%/credd"),
        ("/opt/$HOME/credd", "/opt/$$HOME/credd"),
        ("/opt/back\\slash/credd", "\"/opt/back\\\\slash/credd\""),
    ])
    func execStartEscapesSpecifiersAndSpaces(path: String, expected: String) throws {
        #expect(try UnitInstaller.execStartArgument(path) == expected)
    }

    @Test(arguments: ["credd", "bin/credd", "/opt/cr\"edd", "/opt/cr\nedd"])
    func execStartRejectsUnusablePaths(path: String) {
        let error = #expect(throws: SystemdError.self) { try UnitInstaller.execStartArgument(path) }
        #expect(error.map(String.init(describing:))?.contains(path) == true)
    }

    @Test func installWritesUnitsAndUninstallRemovesThemWithEnableLinks() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let installer = UnitInstaller(unitDirectory: directory.appendingPathComponent("systemd/user"))
            let written = try installer.install(binaryPath: "/home/alice/.local/bin/credd")
            #expect(written.map(\.lastPathComponent) == ["credd.service", "credd.socket", "credd-control.socket"])
            let service = try String(contentsOf: written[0], encoding: .utf8)
            #expect(service.contains("\nExecStart=/home/alice/.local/bin/credd run\n"))
            let mode = try FileManager.default.attributesOfItem(atPath: written[0].path)[.posixPermissions] as? Int
            #expect(mode == 0o644)

            // Installing again (an upgrade) replaces credd's own files.
            try installer.install(binaryPath: "/usr/local/bin/credd")
            #expect(
                try String(contentsOf: written[0], encoding: .utf8).contains("\nExecStart=/usr/local/bin/credd run\n"))

            // What `systemctl --user enable credd.socket` leaves behind.
            let wants = installer.unitDirectory.appendingPathComponent("sockets.target.wants")
            try FileManager.default.createDirectory(at: wants, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: wants.appendingPathComponent("credd.socket").path,
                withDestinationPath: installer.unitDirectory.appendingPathComponent("credd.socket").path
            )
            try FileManager.default.createSymbolicLink(
                atPath: wants.appendingPathComponent("other.socket").path, withDestinationPath: "/dev/null"
            )

            // What `credd uninstall-units` stops and disables before removing the files.
            #expect(try installer.installedUnits().sorted() == ["credd-control.socket", "credd.service", "credd.socket"])

            let removed = try installer.uninstall()
            #expect(Set(removed.map(\.lastPathComponent)) == ["credd.service", "credd.socket", "credd-control.socket"])
            #expect(removed.count == 4)
            let left = try FileManager.default.contentsOfDirectory(atPath: wants.path)
            #expect(left == ["other.socket"])
            #expect(try installer.uninstall().isEmpty)
            #expect(try installer.installedUnits().isEmpty)
        }
    }

    @Test func foreignUnitFilesAreNeverReplacedOrRemoved() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let installer = UnitInstaller(unitDirectory: directory)
            let foreign = directory.appendingPathComponent("credd.socket")
            try Data("[Socket]\nListenStream=1234\n".utf8).write(to: foreign)

            let installError = #expect(throws: SystemdError.self) {
                try installer.install(binaryPath: "/usr/bin/credd")
            }
            #expect(
                installError.map(String.init(describing:))?.contains(
                    "\(foreign.path) exists and was not installed by credd") == true)
            // Nothing was written: the refusal comes before any file changes.
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("credd.service").path))

            #expect(throws: SystemdError.self) { try installer.uninstall() }
            // Nothing is stopped for a unit credd did not write either.
            #expect(throws: SystemdError.self) { try installer.installedUnits() }
            #expect(try String(contentsOf: foreign, encoding: .utf8) == "[Socket]\nListenStream=1234\n")
        }
    }

    @Test func unwritableDirectoryNamesThePathAndReason() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            // A regular file where the unit directory should be.
            let blocker = directory.appendingPathComponent("user")
            try Data().write(to: blocker)
            let installer = UnitInstaller(unitDirectory: blocker.appendingPathComponent("systemd"))
            let error = #expect(throws: SystemdError.self) { try installer.install(binaryPath: "/usr/bin/credd") }
            let message = error.map(String.init(describing:)) ?? ""
            #expect(message.contains("cannot create \(blocker.path)/systemd"), "\(message)")
        }
    }
}
