import CreddControl
import CreddCore
import Foundation
import Testing

struct ControlFramingTests {
    @Test func aMessageIsOneLineOfJSON() throws {
        let line = try ControlFraming.line(ControlRequest(command: .refresh, profiles: ["dev", "ops"]))
        #expect(line.last == ControlFraming.terminator)
        #expect(line.dropLast().contains(ControlFraming.terminator) == false)
        let decoded = try ControlFraming.decode(ControlRequest.self, from: line)
        #expect(decoded == ControlRequest(command: .refresh, profiles: ["dev", "ops"]))
    }

    @Test(arguments: ["", "not json", "{\"command\": \"format-disk\"}", "{\"ok\": true}"])
    func anythingElseIsAProtocolError(text: String) {
        #expect(throws: ControlError.protocolError("malformed ControlRequest")) {
            try ControlFraming.decode(ControlRequest.self, from: Array(text.utf8))
        }
    }
}
