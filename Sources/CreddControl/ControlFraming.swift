import FoundationEssentials

/// How messages travel over the control socket: the client writes one request as a line of
/// JSON, the daemon answers with one line of JSON and closes the connection.
public enum ControlFraming {
    /// Requests are tiny; a longer line is hostile or broken and gets no request decoded.
    public static let maximumRequestBytes = 64 * 1024
    public static let terminator = UInt8(ascii: "\n")

    /// `message` as one line: its JSON and the terminator.
    public static func line(_ message: some Encodable) throws(ControlError) -> Data {
        var data: Data
        do {
            data = try JSONEncoder().encode(message)
        } catch {
            throw ControlError.protocolError("could not encode \(type(of: message))")
        }
        data.append(terminator)
        return data
    }

    /// The message in `bytes`: one line, with or without its terminator.
    public static func decode<Message: Decodable>(_ type: Message.Type, from bytes: some Sequence<UInt8>) throws(ControlError) -> Message {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ControlError.protocolError("malformed \(type)")
        }
    }
}
