import CSystemd
import Glibc

/// Writing ``BusValue``s into an `sd_bus_message` and reading them back, with sd-bus's
/// non-variadic calls (`sd_bus_message_append_basic`, containers), which Swift can call.
enum BusMessage {
    static func append(_ value: BusValue, to message: OpaquePointer) throws(BusError) {
        var result: CInt
        switch value {
        case .byte(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "y")), &number)
        case .bool(let truth):
            var number: CInt = truth ? 1 : 0
            result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "b")), &number)
        case .int16(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "n")), &number)
        case .uint16(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "q")), &number)
        case .int32(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "i")), &number)
        case .uint32(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "u")), &number)
        case .int64(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "x")), &number)
        case .uint64(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "t")), &number)
        case .double(var number): result = sd_bus_message_append_basic(message, CChar(UInt8(ascii: "d")), &number)
        // For strings, append_basic takes the string itself, not a pointer to it.
        case .string(let text): result = text.withCString { sd_bus_message_append_basic(message, CChar(UInt8(ascii: "s")), $0) }
        case .objectPath(let text): result = text.withCString { sd_bus_message_append_basic(message, CChar(UInt8(ascii: "o")), $0) }
        case .signature(let text): result = text.withCString { sd_bus_message_append_basic(message, CChar(UInt8(ascii: "g")), $0) }
        case .array(let element, let items):
            try inContainer("a", contents: element, of: message) { () throws(BusError) in
                for item in items { try append(item, to: message) }
            }
            return
        case .dictEntry(let key, let entry):
            try inContainer("e", contents: key.signature + entry.signature, of: message) { () throws(BusError) in
                try append(key, to: message)
                try append(entry, to: message)
            }
            return
        case .structure(let fields):
            try inContainer("r", contents: fields.map(\.signature).joined(), of: message) { () throws(BusError) in
                for field in fields { try append(field, to: message) }
            }
            return
        case .variant(let inner):
            try inContainer("v", contents: inner.signature, of: message) { () throws(BusError) in try append(inner, to: message) }
            return
        }
        guard result >= 0 else { throw .malformed("cannot append \(value.signature): \(errorText(result))") }
    }

    private static func inContainer(
        _ type: Character, contents: String, of message: OpaquePointer, _ body: () throws(BusError) -> Void
    ) throws(BusError) {
        let code = CChar(type.asciiValue ?? 0)
        let opened = sd_bus_message_open_container(message, code, contents)
        guard opened >= 0 else { throw .malformed("cannot open \(type)\(contents): \(errorText(opened))") }
        try body()
        let closed = sd_bus_message_close_container(message)
        guard closed >= 0 else { throw .malformed("cannot close \(type)\(contents): \(errorText(closed))") }
    }

    /// A method reply's arguments, or the error it carries.
    static func result(of reply: OpaquePointer, destination: String) -> Result<[BusValue], BusError> {
        guard sd_bus_message_is_method_error(reply, nil) > 0 else { return read(reply) }
        let error = sd_bus_message_get_error(reply)
        let name = error?.pointee.name.map { String(cString: $0) } ?? "org.freedesktop.DBus.Error.Failed"
        let text = error?.pointee.message.map { String(cString: $0) } ?? ""
        switch name {
        case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
            return .failure(.serviceMissing(destination))
        case "org.freedesktop.DBus.Error.NoReply" where sd_bus_is_open(sd_bus_message_get_bus(reply)) <= 0:
            // sd-bus answers every pending call so when the connection drops.
            return .failure(.disconnected)
        default:
            return .failure(.callFailed(name: name, message: text))
        }
    }

    /// Every argument of `message`, from the start.
    static func read(_ message: OpaquePointer) -> Result<[BusValue], BusError> {
        do {
            return .success(try readAll(message))
        } catch {
            return .failure(error)
        }
    }

    private static func readAll(_ message: OpaquePointer) throws(BusError) -> [BusValue] {
        var values: [BusValue] = []
        while let value = try readValue(message) { values.append(value) }
        return values
    }

    /// The next value at the read position, or `nil` at the end of the message or container.
    private static func readValue(_ message: OpaquePointer) throws(BusError) -> BusValue? {
        var type: CChar = 0
        var contents: UnsafePointer<CChar>?
        let peeked = sd_bus_message_peek_type(message, &type, &contents)
        guard peeked >= 0 else { throw .malformed("cannot read: \(errorText(peeked))") }
        guard peeked > 0 else { return nil }
        let code = UInt8(bitPattern: type)
        switch code {
        case UInt8(ascii: "a"), UInt8(ascii: "v"), UInt8(ascii: "r"), UInt8(ascii: "e"):
            let inner = contents.map { String(cString: $0) } ?? ""
            let entered = sd_bus_message_enter_container(message, type, contents)
            guard entered > 0 else { throw .malformed("cannot enter \(Character(UnicodeScalar(code)))\(inner): \(errorText(entered))") }
            let items = try readAll(message)
            let exited = sd_bus_message_exit_container(message)
            guard exited >= 0 else { throw .malformed("cannot leave \(inner): \(errorText(exited))") }
            switch code {
            case UInt8(ascii: "a"): return .array(elementSignature: inner, items)
            case UInt8(ascii: "v"):
                guard items.count == 1 else { throw .malformed("a variant of \(items.count) values") }
                return .variant(items[0])
            case UInt8(ascii: "e"):
                guard items.count == 2 else { throw .malformed("a dictionary entry of \(items.count) values") }
                return .dictEntry(items[0], items[1])
            default: return .structure(items)
            }
        default:
            return try readBasic(message, code: code)
        }
    }

    private static func readBasic(_ message: OpaquePointer, code: UInt8) throws(BusError) -> BusValue {
        var storage: UInt64 = 0
        var text: UnsafePointer<CChar>?
        let isText = code == UInt8(ascii: "s") || code == UInt8(ascii: "o") || code == UInt8(ascii: "g")
        let result =
            isText
            ? sd_bus_message_read_basic(message, CChar(bitPattern: code), &text)
            : sd_bus_message_read_basic(message, CChar(bitPattern: code), &storage)
        guard result > 0 else { throw .malformed("cannot read \(Character(UnicodeScalar(code))): \(errorText(result))") }
        let string = text.map { String(cString: $0) } ?? ""
        // Fixed-size values sit at the start of `storage` (little-endian on every Linux credd runs on).
        switch code {
        case UInt8(ascii: "y"): return .byte(UInt8(truncatingIfNeeded: storage))
        case UInt8(ascii: "b"): return .bool(UInt32(truncatingIfNeeded: storage) != 0)
        case UInt8(ascii: "n"): return .int16(Int16(truncatingIfNeeded: storage))
        case UInt8(ascii: "q"): return .uint16(UInt16(truncatingIfNeeded: storage))
        case UInt8(ascii: "i"), UInt8(ascii: "h"): return .int32(Int32(truncatingIfNeeded: storage))
        case UInt8(ascii: "u"): return .uint32(UInt32(truncatingIfNeeded: storage))
        case UInt8(ascii: "x"): return .int64(Int64(bitPattern: storage))
        case UInt8(ascii: "t"): return .uint64(storage)
        case UInt8(ascii: "d"): return .double(Double(bitPattern: storage))
        case UInt8(ascii: "s"): return .string(string)
        case UInt8(ascii: "o"): return .objectPath(string)
        case UInt8(ascii: "g"): return .signature(string)
        default: throw .malformed("unknown type \(Character(UnicodeScalar(code)))")
        }
    }
}
