import CreddControl
import CreddTestSupport
import Foundation
import Testing

@testable import CreddDaemon

/// Without XDG_RUNTIME_DIR credd falls back to `/tmp/credd-UID`, a name any user can take first.
@Suite("runtime directory")
struct RuntimePathsTests {
    static func fallback(in parent: TemporaryDirectory) -> RuntimePaths {
        RuntimePaths(environment: ["HOME": "/nonexistent"], fallbackParent: parent.path)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    @Test func xdgRuntimeDirIsPreferred() {
        let paths = RuntimePaths(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(paths.directory == "/run/user/1000/credd")
        #expect(paths.controlSocket == "/run/user/1000/credd/control.sock")
        #expect(RuntimePaths(environment: ["XDG_RUNTIME_DIR": ""]).directory == "/tmp/credd-\(getuid())")
    }

    @Test func fallbackIsCreatedPrivate() throws {
        let parent = try TemporaryDirectory(prefix: "credd-runtime")
        defer { parent.remove() }
        let paths = Self.fallback(in: parent)
        #expect(paths.directory == parent.file("credd-\(getuid())"))
        let previous = umask(0o022)
        defer { umask(previous) }
        try paths.prepare()
        #expect(Self.mode(paths.directory) == 0o700)
        // A second start finds it as the first left it.
        try paths.prepare()
    }

    /// Each case: what is already at the fallback path, and words the refusal must contain.
    enum Squatted: CaseIterable {
        case openDirectory, file, symlinkToOurDirectory, othersDirectory
    }

    @Test(arguments: Squatted.allCases)
    func anExistingFallbackThatIsNotPrivateIsRefused(_ squatted: Squatted) throws {
        let parent = try TemporaryDirectory(prefix: "credd-runtime")
        defer { parent.remove() }
        let paths = Self.fallback(in: parent)
        var words = ["set XDG_RUNTIME_DIR", paths.directory]
        switch squatted {
        case .openDirectory:
            try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: false)
            chmod(paths.directory, 0o755)
            words.append("has mode 755, not 700")
        case .file:
            _ = try parent.write("credd-\(getuid())", "")
            words.append("is not a directory")
        case .symlinkToOurDirectory:
            let real = parent.file("real")
            try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false)
            chmod(real, 0o700)
            try FileManager.default.createSymbolicLink(atPath: paths.directory, withDestinationPath: real)
            words.append("is not a directory")
        case .othersDirectory:
            try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: false)
            chmod(paths.directory, 0o700)
            guard chown(paths.directory, 65534, 65534) == 0 else {
                print("skipped: only root can give a directory to another uid")
                return
            }
            words.append("owned by uid 65534")
        }
        let before = Self.mode(paths.directory)
        let error = #expect(throws: DaemonError.self) { try paths.prepare() }
        let message = error.map(String.init(describing:)) ?? ""
        for word in words {
            #expect(message.contains(word), "\(message)")
        }
        #expect(Self.mode(paths.directory) == before, "a refused directory is left as it was")
    }

    @Test func anOpenDirectoryInsideXdgRuntimeDirIsTightened() throws {
        let runtime = try TemporaryDirectory(prefix: "credd-xdg")
        defer { runtime.remove() }
        let paths = RuntimePaths(environment: ["XDG_RUNTIME_DIR": runtime.path])
        try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: false)
        chmod(paths.directory, 0o755)
        try paths.prepare()
        #expect(Self.mode(paths.directory) == 0o700)
    }
}
