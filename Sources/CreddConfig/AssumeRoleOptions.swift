import CreddCore
import FoundationEssentials

/// AssumeRole's optional session settings, in aws-vault's config keys where it has them:
/// `source_identity`, `session_tags = Key=Value,…`, `transitive_session_tags = Key,…`, and
/// credd's `policy_arns = ARN,…` and `policy_file = PATH` (an inline session policy). None of
/// them is secret.
public struct AssumeRoleOptions: Sendable, Hashable {
    /// An inline session policy and where it was read from.
    public struct Policy: Sendable, Hashable {
        /// The policy as sent: the file's JSON with the whitespace between tokens removed.
        public let document: String
        public let file: String

        public init(document: String, file: String) {
            self.document = document
            self.file = file
        }
    }

    public static let none = AssumeRoleOptions()

    public let sourceIdentity: String?
    public let tags: [SessionTag]
    public let transitiveTagKeys: [String]
    public let policyArns: [String]
    public let policy: Policy?

    public init(
        sourceIdentity: String? = nil, tags: [SessionTag] = [], transitiveTagKeys: [String] = [], policyArns: [String] = [], policy: Policy? = nil
    ) {
        self.sourceIdentity = sourceIdentity
        self.tags = tags
        self.transitiveTagKeys = transitiveTagKeys
        self.policyArns = policyArns
        self.policy = policy
    }

    public var isEmpty: Bool { self == .none }

    // MARK: - Parsing (STS's limits, so that `credd check` reports what AssumeRole would reject)

    static let maximumTags = 50
    static let maximumPolicyArns = 10
    /// STS's limit on the plaintext of session policies.
    static let maximumPolicyCharacters = 2048

    /// `Key=Value,Key=Value`: up to 50 tags, keys of 1 to 128 and values of up to 256 characters
    /// of letters, digits, spaces and `_ . : / = + - @`, no key twice (keys are case-insensitive).
    static func parseTags(_ text: String) -> Result<[SessionTag], ValueProblem> {
        var tags: [SessionTag] = []
        for item in listItems(text) {
            guard let equals = item.firstIndex(of: "=") else {
                return .failure(ValueProblem("\(ConfigValues.quoted(item)) is not Key=Value; write session_tags = Key1=Value1,Key2=Value2"))
            }
            let key = String(item[..<equals]).trimmingSpacesAndTabs()
            let value = String(item[item.index(after: equals)...]).trimmingSpacesAndTabs()
            guard (1...128).contains(key.count), key.allSatisfy(isTagCharacter) else {
                return .failure(
                    ValueProblem("tag key \(ConfigValues.quoted(key)) is not valid: expected 1 to 128 letters, digits, spaces or _ . : / = + - @"))
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                return .failure(ValueProblem("tag key \(ConfigValues.quoted(key)): keys starting with aws: are reserved by AWS"))
            }
            guard value.count <= 256, value.allSatisfy(isTagCharacter) else {
                return .failure(
                    ValueProblem(
                        "the value of tag \(ConfigValues.quoted(key)) is not valid: expected up to 256 letters, digits, spaces or _ . : / = + - @"))
            }
            guard !tags.contains(where: { $0.key.lowercased() == key.lowercased() }) else {
                return .failure(ValueProblem("tag key \(ConfigValues.quoted(key)) appears twice (STS compares keys without case)"))
            }
            tags.append(SessionTag(key: key, value: value))
        }
        guard !tags.isEmpty else { return .failure(ValueProblem("expected Key=Value pairs separated by commas")) }
        guard tags.count <= maximumTags else { return .failure(ValueProblem("\(tags.count) tags: STS accepts at most \(maximumTags)")) }
        return .success(tags)
    }

    /// `Key,Key`: each must be one of `tags` (STS passes on only tags the session has).
    static func parseTransitiveKeys(_ text: String, tags: [SessionTag]) -> Result<[String], ValueProblem> {
        var keys: [String] = []
        for key in listItems(text) {
            guard let tag = tags.first(where: { $0.key.lowercased() == key.lowercased() }) else {
                let known = tags.isEmpty ? "session_tags sets none" : "session_tags sets \(tags.map(\.key).joined(separator: ", "))"
                return .failure(ValueProblem("tag key \(ConfigValues.quoted(key)) is not in session_tags (\(known))"))
            }
            if !keys.contains(tag.key) { keys.append(tag.key) }
        }
        guard !keys.isEmpty else { return .failure(ValueProblem("expected tag keys separated by commas")) }
        return .success(keys)
    }

    /// `ARN,ARN`: up to 10 managed policy ARNs, `arn:PARTITION:iam::ACCOUNT|aws:policy/[path/]NAME`.
    static func parsePolicyArns(_ text: String) -> Result<[String], ValueProblem> {
        let arns = listItems(text)
        guard !arns.isEmpty else { return .failure(ValueProblem("expected policy ARNs separated by commas")) }
        guard arns.count <= maximumPolicyArns else {
            return .failure(ValueProblem("\(arns.count) policy ARNs: STS accepts at most \(maximumPolicyArns)"))
        }
        if let bad = arns.first(where: { !ConfigValues.isPolicyARN($0) }) {
            return .failure(
                ValueProblem(
                    "\(ConfigValues.quoted(bad)) is not valid: expected arn:aws:iam::aws:policy/NAME or arn:aws:iam::123456789012:policy/NAME"))
        }
        return .success(arns)
    }

    /// The session policy in `bytes`: a UTF-8 JSON object with a `Statement`, sent with the
    /// whitespace between tokens removed and then at most 2048 characters.
    static func parsePolicy(_ bytes: [UInt8], file: String) -> Result<Policy, ValueProblem> {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(ValueProblem("\(file) is not UTF-8 text"))
        }
        // The decoder's own errors can quote the input; only the fact of failure is kept.
        guard (try? JSONDecoder().decode(PolicyShape.self, from: Data(bytes))) != nil else {
            return .failure(ValueProblem("\(file) is not an IAM policy: expected a JSON object with a Statement"))
        }
        let document = minified(text)
        guard document.count <= maximumPolicyCharacters else {
            return .failure(
                ValueProblem(
                    "the policy in \(file) has \(document.count) characters without whitespace: STS accepts at most \(maximumPolicyCharacters)"))
        }
        return .success(Policy(document: document, file: file))
    }

    /// `text` without the whitespace outside JSON strings.
    static func minified(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for character in text {
            if inString {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
            } else if character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n" {
                continue
            }
            result.append(character)
        }
        return result
    }

    private struct PolicyShape: Decodable {
        /// Accepts any JSON value: only the key's presence is checked.
        struct AnyValue: Decodable {
            init(from decoder: any Decoder) throws {}
        }

        let Statement: AnyValue
    }

    private static func listItems(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingSpacesAndTabs() }.filter { !$0.isEmpty }
    }

    /// STS's tag pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
    private static func isTagCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || (character.isWhitespace && !character.isNewline) || "_.:/=+-@".contains(character)
    }
}
