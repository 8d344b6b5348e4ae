import CreddCore
import FoundationEssentials

/// Source credentials from a `credential_process` command, run as the AWS CLI runs it.
public enum CredentialProcess {
    /// The output format, as the AWS CLI and botocore read it: `Version` must be the JSON number 1.
    private struct Output: Decodable {
        enum Version: Decodable, Equatable {
            case number(Double)
            case other(String)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    self = .number(number)
                } else if let text = try? container.decode(String.self) {
                    self = .other("\"\(text)\"")
                } else {
                    self = .other("a non-numeric value")
                }
            }
        }

        var Version: Version?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var SessionToken: String?
        var Expiration: String?
        var AccountId: String?
    }

    /// Runs `commandLine` (split like `shlex.split`, no shell) and decodes its JSON output.
    public static func run(
        commandLine: String,
        timeout: Duration,
        environment: [String: String]? = nil
    ) async throws(ExternalCommandError) -> AWSCredentials {
        let result = try await ExternalCommand.run(
            commandLine, setting: .credentialProcess,
            configuration: ProcessRunner.Configuration(timeout: timeout, environment: environment))
        let output = result.output
        func invalid(_ problem: String) -> ExternalCommandError {
            ExternalCommandError(
                setting: .credentialProcess, program: result.program, reason: .invalidOutput(problem), stderr: output.stderr)
        }
        guard !output.stdoutTruncated else { throw invalid("more than \(output.stdout.count) bytes") }
        // The decoder's own errors can quote the input, so only the fact of failure is kept.
        guard let decoded = try? JSONDecoder().decode(Output.self, from: Data(output.stdout)) else {
            throw invalid(output.stdout.isEmpty ? "nothing on stdout" : "stdout is not a JSON object")
        }
        switch decoded.Version {
        case .number(1):
            break
        case .number(let other):
            throw invalid("unsupported Version \(other)")
        case .other(let shown):
            throw invalid("Version must be the number 1, not \(shown.prefix(20))")
        case .none:
            throw invalid("missing Version")
        }
        guard let accessKeyId = decoded.AccessKeyId, !accessKeyId.isEmpty else { throw invalid("missing AccessKeyId") }
        guard let secret = decoded.SecretAccessKey, !secret.isEmpty else { throw invalid("missing SecretAccessKey") }
        var expiration: Date?
        if let text = decoded.Expiration {
            guard let parsed = AWSTimestamp.parse(text) else { throw invalid("Expiration is not an RFC 3339 timestamp") }
            expiration = parsed
        }
        let token = decoded.SessionToken.flatMap { $0.isEmpty ? nil : Secret($0) }
        // Optional, as in botocore; a malformed one is left out rather than failing the source.
        let account = decoded.AccountId.flatMap { AWSARN.isAccountID($0) ? $0 : nil }
        return AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: Secret(secret), sessionToken: token, expiration: expiration, accountId: account)
    }
}
