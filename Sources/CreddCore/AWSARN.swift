/// The parts of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`) that credd reads.
public enum AWSARN {
    /// The 12-digit account an ARN names (`arn:aws:iam::123456789012:role/R` → `123456789012`),
    /// `nil` when it names none or is no ARN.
    public static func accountID(_ arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", isAccountID(parts[4]) else { return nil }
        return String(parts[4])
    }

    /// The partition an ARN is in (`aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`, …), `nil` for no ARN.
    public static func partition(_ arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "arn", parts[1].hasPrefix("aws") else { return nil }
        return String(parts[1])
    }

    /// Whether `text` is an AWS account id: exactly 12 ASCII digits.
    public static func isAccountID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
