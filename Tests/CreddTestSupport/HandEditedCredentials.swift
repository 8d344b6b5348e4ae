import CreddCore

/// A credentials file as people edit it by hand — a CRLF comment line, `key=value` without
/// spaces, indented keys, a comment and a non-key line inside the section, another section after
/// — holding `keys` in `[alice]`, for checking that rotation changes only the two key lines.
public struct HandEditedCredentials: Sendable {
    public let keys: AWSCredentials
    public let text: String

    public init(keys: AWSCredentials) {
        self.keys = keys
        text = """
            # personal keys, edited by hand\r
            [default]
            region = eu-west-1

            [alice]
            ; the IAM user
              aws_access_key_id=\(keys.accessKeyId)
              aws_secret_access_key = \(keys.secretAccessKey.revealed)
            mfa_serial = arn:aws:iam::123456789012:mfa/alice

            [other]
            aws_access_key_id = AKIAOTHER0000000000
            aws_secret_access_key = other/secret
            """
    }

    /// The file with only the two key lines replaced by `new`, as credd writes them.
    public func replacingKeys(with new: AWSCredentials) -> String {
        text
            .replacingOccurrences(of: "  aws_access_key_id=\(keys.accessKeyId)", with: "  aws_access_key_id = \(new.accessKeyId)")
            .replacingOccurrences(
                of: "  aws_secret_access_key = \(keys.secretAccessKey.revealed)", with: "  aws_secret_access_key = \(new.secretAccessKey.revealed)")
    }
}
