import CreddCore
import CreddEndpoint
import CreddTestSupport
import Foundation
import Testing

@testable import CreddDaemon

/// The container token survives a restart (docs/design.md), but only from a file that is safely ours.
@Suite("kept container token")
struct KeptContainerTokenTests {
    @Test func aTokenCreddWroteIsKept() throws {
        let directory = try TemporaryDirectory(prefix: "credd-token")
        defer { directory.remove() }
        let path = directory.file("credd/token")
        let token = ContainerToken.generate()
        try ContainerToken.write(token, to: path)
        #expect(ContainerToken.kept(at: path)?.revealed == token.revealed)
    }

    /// Each case: what lies at the token path. None of them is kept; credd makes a new token.
    enum Unsafe: CaseIterable {
        case missing, readableByOthers, symlink, fifo, directory, short, newline, tooLong, foreignOwner
    }

    @Test(arguments: Unsafe.allCases)
    func anythingElseIsReplaced(_ unsafe: Unsafe) throws {
        let directory = try TemporaryDirectory(prefix: "credd-token")
        defer { directory.remove() }
        let path = directory.file("token")
        let good = ContainerToken.generate().revealed
        switch unsafe {
        case .missing:
            break
        case .readableByOthers:
            _ = try directory.write("token", good, mode: 0o644)
        case .symlink:
            let target = try directory.write("elsewhere", good, mode: 0o600)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        case .fifo:
            #expect(mkfifo(path, 0o600) == 0)
        case .directory:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .short:
            _ = try directory.write("token", "abc123", mode: 0o600)
        case .newline:
            _ = try directory.write("token", good + "\n", mode: 0o600)
        case .tooLong:
            _ = try directory.write("token", String(repeating: "a", count: 1000), mode: 0o600)
        case .foreignOwner:
            _ = try directory.write("token", good, mode: 0o600)
            guard chown(path, 65534, 65534) == 0 else {
                print("skipped: only root can give a file to another uid")
                return
            }
        }
        #expect(ContainerToken.kept(at: path) == nil)
    }
}
