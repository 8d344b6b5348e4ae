/// One D-Bus value, as method arguments, replies and signals carry it. Arrays name their element
/// signature, so that an empty array still has a type.
public indirect enum BusValue: Sendable, Hashable {
    case byte(UInt8)
    case bool(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    /// `elementSignature` is e.g. `s` for `as`, `{sv}` for `a{sv}`.
    case array(elementSignature: String, [BusValue])
    /// An entry of a dictionary (an array of `{kv}`).
    case dictEntry(BusValue, BusValue)
    case structure([BusValue])
    case variant(BusValue)

    /// The value's D-Bus type signature.
    public var signature: String {
        switch self {
        case .byte: "y"
        case .bool: "b"
        case .int16: "n"
        case .uint16: "q"
        case .int32: "i"
        case .uint32: "u"
        case .int64: "x"
        case .uint64: "t"
        case .double: "d"
        case .string: "s"
        case .objectPath: "o"
        case .signature: "g"
        case .array(let element, _): "a" + element
        case .dictEntry(let key, let value): "{" + key.signature + value.signature + "}"
        case .structure(let fields): "(" + fields.map(\.signature).joined() + ")"
        case .variant: "v"
        }
    }

    /// A dictionary `a{s…}` from string keys, e.g. notification hints as `a{sv}`.
    public static func dictionary(valueSignature: String, _ entries: [(String, BusValue)]) -> BusValue {
        .array(elementSignature: "{s\(valueSignature)}", entries.map { .dictEntry(.string($0.0), $0.1) })
    }

    /// The string of a `s`, `o` or `g` value.
    public var stringValue: String? {
        switch self {
        case .string(let text), .objectPath(let text), .signature(let text): text
        default: nil
        }
    }

    /// The number of an unsigned or signed 32-bit value.
    public var uint32Value: UInt32? {
        switch self {
        case .uint32(let number): number
        case .int32(let number) where number >= 0: UInt32(number)
        default: nil
        }
    }

    /// The elements of an array.
    public var arrayValue: [BusValue]? {
        if case .array(_, let elements) = self { return elements }
        return nil
    }

    /// The truth of a `b` value.
    public var boolValue: Bool? {
        if case .bool(let truth) = self { return truth }
        return nil
    }
}
