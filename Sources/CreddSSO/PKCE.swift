import Crypto
import FoundationEssentials

/// Proof Key for Code Exchange (RFC 7636) as the AWS CLI uses it: a 64-character verifier and
/// its S256 challenge.
public struct PKCE: Sendable, Hashable {
    public let verifier: String

    /// RFC 7636's unreserved characters.
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public init(verifier: String) {
        self.verifier = verifier
    }

    /// A fresh verifier of 64 characters.
    public init(using random: inout some RandomNumberGenerator) {
        verifier = String((0..<64).map { _ in Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)] })
    }

    /// base64url without padding of SHA-256 over the verifier.
    public var challenge: String {
        base64URL(Array(SHA256.hash(data: Array(verifier.utf8))))
    }
}

/// base64url (RFC 4648 §5) without padding.
func base64URL(_ bytes: [UInt8]) -> String {
    String(
        Data(bytes).base64EncodedString().compactMap { character -> Character? in
            switch character {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: character
            }
        })
}
