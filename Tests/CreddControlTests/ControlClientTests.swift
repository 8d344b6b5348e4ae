import CreddControl
import CreddCore
import CreddPlatform
import CreddTestSupport
import Foundation
import Testing

/// The client against a peer that is not a well-behaved daemon: one accepted connection,
/// answered with `reply` (or closed at once when it is nil) on a thread of its own.
struct ControlClientTests {
    final class FakeDaemon: @unchecked Sendable {
        // `received` is written by the peer thread and read only after `finished` is signalled.
        let path: String
        private let listener: CInt
        private(set) var received: [UInt8] = []
        private let finished = DispatchSemaphore(value: 0)

        init(path: String, reply: String?) throws {
            self.path = path
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(listener >= 0)
            let address = try #require(UnixSocketAddress(path: path))
            try #require(address.withSockaddr { bind(listener, $0, $1) } == 0, "bind: errno \(errno)")
            try #require(listen(listener, 1) == 0)
            Thread.detachNewThread { [self] in
                let connection = accept(listener, nil, nil)
                if connection >= 0, let reply {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while !received.contains(ControlFraming.terminator) {
                        let count = read(connection, &buffer, buffer.count)
                        guard count > 0 else { break }
                        received += buffer[0..<count]
                    }
                    _ = Array(reply.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                }
                if connection >= 0 { close(connection) }
                finished.signal()
            }
        }

        func waitUntilFinished() throws {
            try #require(finished.wait(timeout: .now() + 10) == .success, "the fake daemon never saw a connection")
            close(listener)
        }
    }

    @Test func noDaemonIsReportedAsSuch() throws {
        #expect(throws: ControlError.noDaemon("/nonexistent/credd/control.sock")) {
            try ControlClient(path: "/nonexistent/credd/control.sock").send(ControlRequest(command: .status))
        }
    }

    @Test func theRequestGoesAsOneLineAndTheAnswerComesBack() throws {
        let directory = try TemporaryDirectory(prefix: "credd-control")
        let daemon = try FakeDaemon(path: directory.file("control.sock"), reply: "{\"ok\":true,\"message\":\"renewing dev\"}\n")
        let response = try ControlClient(path: daemon.path, timeoutSeconds: 10).send(ControlRequest(command: .refresh, profiles: ["dev"]))
        try daemon.waitUntilFinished()
        #expect(response.ok)
        #expect(response.message == "renewing dev")
        #expect(daemon.received.last == ControlFraming.terminator)
        #expect(try ControlFraming.decode(ControlRequest.self, from: daemon.received) == ControlRequest(command: .refresh, profiles: ["dev"]))
    }

    @Test func anAnswerThatIsNotAResponseIsAProtocolError() throws {
        let directory = try TemporaryDirectory(prefix: "credd-control")
        let daemon = try FakeDaemon(path: directory.file("control.sock"), reply: "HTTP/1.1 400 Bad Request\r\n\r\n")
        #expect(throws: ControlError.protocolError("malformed ControlResponse")) {
            try ControlClient(path: daemon.path, timeoutSeconds: 10).send(ControlRequest(command: .status))
        }
        try daemon.waitUntilFinished()
    }

    @Test func aPeerThatHangsUpIsNamed() throws {
        let directory = try TemporaryDirectory(prefix: "credd-control")
        let daemon = try FakeDaemon(path: directory.file("control.sock"), reply: nil)
        let error = #expect(throws: ControlError.self) {
            try ControlClient(path: daemon.path, timeoutSeconds: 10).send(ControlRequest(command: .status))
        }
        try daemon.waitUntilFinished()
        #expect(error.map(String.init(describing:))?.contains("closed the connection without answering") == true)
    }
}
