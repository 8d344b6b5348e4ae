import CreddCore
import Testing

@Suite("ARN accounts")
struct AWSARNTests {
    @Test(
        arguments: [
            ("arn:aws:iam::222222222222:role/Developer", "222222222222"),
            ("arn:aws-cn:iam::123456789012:role/a/b", "123456789012"),
            ("arn:aws-us-gov:iam::123456789012:mfa/alice", "123456789012"),
            ("arn:aws-eusc:sts::123456789012:assumed-role/R/s:with:colons", "123456789012"),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", nil),
            ("arn:aws:iam::12345678901:role/R", nil),
            ("arn:aws:iam::12345678901x:role/R", nil),
            ("GAHT12345678", nil),
            ("not-an-arn", nil),
        ] as [(String, String?)])
    func accountOfAnARN(arn: String, account: String?) {
        #expect(AWSARN.accountID(arn) == account)
    }

    @Test func accountIdsAreTwelveASCIIDigits() {
        #expect(AWSARN.isAccountID("123456789012"))
        #expect(!AWSARN.isAccountID("12345678901"))
        #expect(!AWSARN.isAccountID("1234567890123"))
        #expect(!AWSARN.isAccountID("١٢٣٤٥٦٧٨٩٠١٢"))
    }
}
