import CreddTestSupport
import Foundation
import Testing

/// `credd check`, run as the real binary: README examples, warnings, and no secret in its
/// output. Every output is recorded for the run-wide leak scan.
@Suite("credd check, the binary")
struct CheckCommandTests {
    static let longTermSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCHECKLONGKEY"
    static let longTermKeys = """
        [alice-long-term]
        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
        aws_secret_access_key = \(longTermSecret)

        """

    /// The README, next to Package.swift.
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized.path

    /// The body of every ```ini block of the README, with the line its fence opens on.
    static func readmeExamples() throws -> [(line: Int, text: String)] {
        let lines = try String(contentsOfFile: readme, encoding: .utf8).components(separatedBy: "\n")
        var blocks: [(Int, String)] = []
        var current: (line: Int, lines: [String])?
        for (index, line) in lines.enumerated() {
            if var open = current {
                if line.hasPrefix("```") {
                    blocks.append((open.line, open.lines.joined(separator: "\n") + "\n"))
                    current = nil
                } else {
                    open.lines.append(line)
                    current = open
                }
            } else if line.trimmingCharacters(in: .whitespaces) == "```ini" {
                current = (index + 1, [])
            }
        }
        return blocks
    }

    @Test("every INI example in the README passes credd check")
    func readmeExamplesPass() throws {
        let examples = try Self.readmeExamples()
        #expect(examples.count >= 2, "the README's ini blocks were not found")
        for example in examples {
            let harness = try CreddHarness(stsEndpoint: nil)
            try harness.writeCredentials(Self.longTermKeys)
            try harness.writeConfig(example.text)
            let output = try harness.cli(["check"])
            #expect(output.status == 0, "README.md:\(example.line): credd check exited \(output.status):\n\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("\nno errors\n"), "README.md:\(example.line):\n\(output.stdout)")
            #expect(!output.stdout.contains(Self.longTermSecret))
        }
    }

    @Test("check validates IAM Identity Center sessions and profiles, names a hidden ~/.aws/config session and the legacy form's limits")
    func identityCenter() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.directory.write(
            "home/.aws/config",
            """
            [sso-session corp]
            sso_start_url = https://other.awsapps.com/start
            sso_region = eu-west-1

            [sso-session team]
            sso_start_url = https://team.awsapps.com/start
            sso_region = eu-central-1
            sso_registration_scopes = sso:account:access
            """)
        try harness.writeConfig(
            SSOFixtures.corpSession + """
                [profile dev-sso]
                sso_session = corp
                sso_account_id = 123456789012
                sso_role_name = Developer

                [profile team]
                sso_session = team
                sso_account_id = 210987654321
                sso_role_name = ReadOnly

                [profile old]
                sso_start_url = https://corp.awsapps.com/start
                sso_region = us-east-1
                sso_account_id = 123456789012
                sso_role_name = Developer

                [profile typo]
                sso_session = crop
                sso_account_id = 123456789012
                sso_role_name = Developer
                """)
        let output = try harness.cli(["check"])
        #expect(output.status != 0, "a profile has an error")
        let text = output.stdout
        #expect(text.contains("IAM Identity Center role Developer in account 123456789012 (GetRoleCredentials)"))
        #expect(text.contains("hides the one of the same name at \(harness.home)/.aws/config:1"), "\(text)")
        #expect(text.contains("sso-session team at \(harness.home)/.aws/config:5"))
        #expect(text.contains("legacy sso_start_url form: the token has no refresh token"))
        #expect(text.contains("\(harness.configPath):22: [profile typo] key 'sso_session': no [sso-session crop]"), "\(text)")
    }

    @Test("check warns about the credentials mode, a missing helper and a socket on another port, and exits 0")
    func warnings() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeCredentials(Self.longTermKeys)
        chmod(harness.credentialsPath, 0o644)
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile mfa]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            mfa_process = credd-test-no-such-otp-tool --totp
            duration_seconds = 12h
            """)
        try harness.directory.write("home/.config/systemd/user/credd.socket", "[Socket]\nListenStream=127.0.0.1:9911\nFileDescriptorName=endpoint\n")
        let output = try harness.cli(["check"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("duration:  12h (43200 s)"))
        #expect(output.stdout.contains("no errors\n\n3 warnings:\n"))
        #expect(
            output.stdout.contains(
                "\(harness.credentialsPath): readable by group or others (mode 0644), and it holds long-term keys. Fix: chmod 600 \(harness.credentialsPath)"
            ))
        #expect(output.stdout.contains("the mfa_process program 'credd-test-no-such-otp-tool' is not on PATH"))
        #expect(
            output.stdout.contains(
                "listen = 127.0.0.1:\(harness.endpointPort), but \(harness.home)/.config/systemd/user/credd.socket has systemd listen on 127.0.0.1:9911"
            ))
        #expect(output.stdout.contains("systemctl --user edit credd.socket"))
        #expect(!output.stdout.contains(Self.longTermSecret))
    }

    @Test("a secret pasted into the config and a 200 kB value never reach check's output")
    func pastedSecret() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeCredentials(Self.longTermKeys)
        let huge = String(repeating: "not a role ", count: 20_000)
        try harness.writeConfig(
            """
            [profile mfa]
            source_profile = alice-long-term
            mfa_serial = \(Self.longTermSecret)

            [profile dev]
            source_profile = mfa
            role_arn = \(huge)
            """)
        let output = try harness.cli(["check"])
        #expect(output.status == 1)
        let text = output.stdout + output.stderr
        #expect(!text.contains(Self.longTermSecret) && !text.contains("bPxRfiCY"))
        #expect(text.contains("key 'mfa_serial': '<redacted>' is not valid"))
        #expect(text.utf8.count < 4_000)
    }

    @Test("a helper run with set -x that prints the secret puts no secret in status, status --json or the log")
    func failingHelperPrintsTheSecret() throws {
        let harness = try CreddHarness(stsEndpoint: "http://127.0.0.1:9")
        // The secret also sits in the credentials file, so the run-wide leak scan knows it.
        try harness.writeCredentials(Self.longTermKeys)
        let helper = try harness.directory.write(
            "vault-helper",
            """
            #!/bin/sh
            set -x
            SECRET='\(Self.longTermSecret)'
            echo "vault sealed; last key $SECRET" >&2
            exit 2
            """, mode: 0o700)
        try harness.directory.write("home/.aws/config", "[profile vault]\ncredential_process = \(helper)\n")
        try harness.writeConfig(
            "[credd]\nlisten = 127.0.0.1:\(harness.endpointPort)\n\n[profile dev]\nsource_profile = vault\nrole_arn = arn:aws:iam::111111111111:role/Dev\n"
        )
        try harness.start()
        defer { _ = try? harness.stop() }
        var table = ""
        try harness.waitUntil(timeout: 30) {
            table = try harness.cli(["status"]).stdout
            return table.contains("credential_process failed")
        }
        let json = try harness.cli(["status", "--json"]).stdout
        for text in [table, json, harness.daemonLog()] {
            #expect(!text.contains(Self.longTermSecret) && !text.contains("wJalrXUtnFEMI") && !text.contains("CHECKLONGKEY"))
        }
        // The table cuts the error short at 80 columns; `status dev` shows all of it.
        let detail = try harness.cli(["status", "dev"]).stdout
        #expect(!detail.contains(Self.longTermSecret) && !detail.contains("wJalrXUtnFEMI") && !detail.contains("CHECKLONGKEY"))
        #expect(detail.contains("SECRET=<redacted>"), "\(detail)")
    }

    @Test("a FIFO at the credentials path is named, and neither check, the daemon nor status hangs on it")
    func fifoAtCredentialsPath() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        #expect(mkfifo(harness.credentialsPath, 0o600) == 0)
        // The harness reads the credentials file for its leak record: put a file back first.
        defer {
            unlink(harness.credentialsPath)
            try? harness.writeCredentials("")
        }
        try harness.writeConfig("[credd]\nlisten = 127.0.0.1:\(harness.endpointPort)\n\n[profile mfa]\nsource_profile = alice-long-term\n")
        let started = Date()
        let check = try ChildProcess.run([CreddHarness.binary, "check"], environment: harness.environment, timeout: 20)
        #expect(check.status == 1)
        #expect(check.stdout.contains("\(harness.credentialsPath): cannot read: is a FIFO, not a regular file"))

        try harness.start()
        defer { _ = try? harness.stop() }
        var status: ChildProcess.Output?
        try harness.waitUntil(timeout: 20) {
            let output = try ChildProcess.run([CreddHarness.binary, "status"], environment: harness.environment, timeout: 20)
            status = output
            return output.stdout.contains("mfa") || output.stderr.contains("FIFO")
        }
        // The table wraps long lines between words.
        let text = ((status?.stdout ?? "") + (status?.stderr ?? "")).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("is a FIFO, not a regular file"), "\(text)")
        #expect(harness.daemonIsRunning)
        #expect(Date().timeIntervalSince(started) < 40)
    }
}

extension CheckCommandTests {
    @Test("check shows the STS endpoint of a regional profile, a legacy one and one in another partition")
    func endpoints() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeCredentials(Self.longTermKeys)
        try harness.writeConfig(
            """
            [profile sydney]
            source_profile = alice-long-term
            region = ap-southeast-2

            [profile old-style]
            source_profile = alice-long-term
            sts_regional_endpoints = legacy
            region = sa-east-1

            [profile ningxia]
            source_profile = alice-long-term
            role_arn = arn:aws-cn:iam::123456789012:role/Dev
            region = cn-northwest-1

            [profile sovereign]
            source_profile = alice-long-term
            role_arn = arn:aws-eusc:iam::123456789012:role/Dev
            """)
        let output = try harness.cli(["check"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        for row in [
            "  sts:       https://sts.ap-southeast-2.amazonaws.com (signing region ap-southeast-2), regional endpoint, partition aws\n",
            "  sts:       https://sts.amazonaws.com (signing region us-east-1), global endpoint: sts_regional_endpoints = legacy\n",
            "  sts:       https://sts.cn-northwest-1.amazonaws.com.cn (signing region cn-northwest-1), regional endpoint, partition aws-cn\n",
            // The harness's AWS_DEFAULT_REGION is us-east-1: the eusc role is sent to the wrong partition.
            "  sts:       https://sts.us-east-1.amazonaws.com (signing region us-east-1), regional endpoint, partition aws\n",
            "role_arn is in partition aws-eusc, but its STS calls go to https://sts.us-east-1.amazonaws.com in partition aws",
        ] {
            #expect(output.stdout.contains(row), "missing: \(row)\n\(output.stdout)")
        }
        #expect(!output.stdout.contains(Self.longTermSecret))
    }
}
