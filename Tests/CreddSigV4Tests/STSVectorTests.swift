import CreddCore
import CreddSigV4
import Foundation
import Testing

/// A GetSessionToken form POST signed by botocore 1.43.11.
@Suite struct STSVectorTests {
    static let body =
        "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=3600"
        + "&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fuser&TokenCode=123456"
    static let token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    static func sign(token: String?) -> SigV4SignedRequest {
        let request = SigV4Request(
            method: "POST", path: "/",
            headers: [
                .init(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8"),
                .init(name: "Host", value: "sts.us-east-1.amazonaws.com"),
            ],
            body: Array(body.utf8))
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            sessionToken: token.map(Secret.init))
        return SigV4Signer.sign(
            request, credentials: credentials, region: "us-east-1", service: "sts",
            date: Date(timeIntervalSince1970: 1_440_938_160))
    }

    @Test func withoutSessionToken() {
        let signed = Self.sign(token: nil)
        #expect(
            signed.canonicalRequest == """
                POST
                /

                content-type:application/x-www-form-urlencoded; charset=utf-8
                host:sts.us-east-1.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                4d53fb74d1ce96e46e7a8ff66a43ab71b8c9869ca128efeafd92c8d8e7563b7e
                """)
        #expect(signed.stringToSign.hasSuffix("\n06228032d368751b32ada5d35642ec7b5f2a31435fe72694d6b676219f09b71a"))
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=617815518862e69658a566638056d1c91a1461040c2e03cd7b39aa9dc7572083")
        #expect(signed.request.headerValues("X-Amz-Date") == ["20150830T123600Z"])
        #expect(signed.request.headerValues("X-Amz-Security-Token").isEmpty)
    }

    @Test func withSessionTokenSignsTheToken() {
        let signed = Self.sign(token: Self.token)
        #expect(signed.authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "))
        #expect(signed.signature == "18f7ed2d0ae52d624dcb7be6031fe7de77aaef1f2a79e7b52e15ba6289629a73")
        #expect(signed.request.headerValues("X-Amz-Security-Token") == [Self.token])
    }

    @Test func resigningReplacesEarlierSignatureHeaders() {
        let first = Self.sign(token: Self.token)
        let again = SigV4Signer.sign(
            first.request,
            credentials: AWSCredentials(
                accessKeyId: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                sessionToken: Secret(Self.token)),
            region: "us-east-1", service: "sts", date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(again.signature == first.signature)
        #expect(again.request.headerValues("Authorization").count == 1)
        #expect(again.request.headerValues("X-Amz-Date").count == 1)
    }

    @Test(arguments: [
        ("a b", "a%20b"), ("arn:aws:iam::1:mfa/u", "arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fu"), ("-._~", "-._~"),
        ("ሴ", "%E1%88%B4"), ("+=", "%2B%3D"),
    ])
    func percentEncoding(input: String, expected: String) {
        #expect(SigV4Encoding.percentEncode(input) == expected)
    }
}
