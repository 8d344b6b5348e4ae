import CreddConfig
import CreddSSO
import CreddTestSupport
import Testing

@testable import CreddCLI

/// What `credd login NAME` signs in to, by what NAME is.
struct SSOSessionLookupTests {
    static let config =
        SSOFixtures.corpSession + """
            [sso-session broken]
            sso_start_url = https://broken.awsapps.com/start

            [profile dev-sso]
            sso_session = corp
            sso_account_id = 111111111111
            sso_role_name = Developer

            [profile old]
            sso_start_url = https://old.awsapps.com/start
            sso_region = eu-west-1
            sso_account_id = 111111111111
            sso_role_name = ReadOnly

            [profile mfa]
            source_profile = alice
            mfa_serial = arn:aws:iam::111111111111:mfa/alice

            [profile team]
            source_profile = alice
            """

    static func lookup() throws -> SSOSessionLookup {
        let files = [
            "/home/a/.config/credd/config": config,
            "/home/a/.aws/credentials": "[alice]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = not-a-real-secret\n",
            // Sessions of the AWS CLI's config count too; one named like a non-SSO profile is ambiguous.
            "/home/a/.aws/config": "[sso-session cli]\nsso_start_url = https://cli.awsapps.com/start\nsso_region = us-west-2\n\n"
                + "[sso-session team]\nsso_start_url = https://team.awsapps.com/start\nsso_region = us-east-1\n",
        ]
        let loaded = try ConfigLoader.load(explicitPath: nil, environment: ["HOME": "/home/a"], reader: InMemoryFileReader(files: files))
        return SSOSessionLookup(configuration: loaded)
    }

    @Test(arguments: [
        ("corp", SSOSession(name: "corp", startURL: "https://corp.awsapps.com/start", region: "us-east-1", scopes: ["sso:account:access"])),
        ("dev-sso", SSOSession(name: "corp", startURL: "https://corp.awsapps.com/start", region: "us-east-1", scopes: ["sso:account:access"])),
        ("old", SSOSession(name: nil, startURL: "https://old.awsapps.com/start", region: "eu-west-1", scopes: [])),
        ("cli", SSOSession(name: "cli", startURL: "https://cli.awsapps.com/start", region: "us-west-2", scopes: [])),
    ])
    func identityCenterNamesResolveToTheirSession(name: String, expected: SSOSession) throws {
        guard case .sso(let session) = try Self.lookup().resolve(name) else {
            Issue.record("\(name) did not resolve to a session")
            return
        }
        #expect(session == expected)
    }

    @Test(arguments: ["mfa", "nosuch"])
    func otherNamesAreLeftToTheMFAPath(name: String) throws {
        guard case .notSSO = try Self.lookup().resolve(name) else {
            Issue.record("\(name) should not be an Identity Center name")
            return
        }
    }

    @Test(arguments: [
        ("broken", "sso_region"),
        ("team", "names both an [sso-session] and a profile"),
    ])
    func aBrokenOrAmbiguousNameSaysWhy(name: String, problem: String) throws {
        guard case .invalid(let message) = try Self.lookup().resolve(name) else {
            Issue.record("\(name) should be refused")
            return
        }
        #expect(message.contains(problem), "\(message)")
    }

    @Test func anExistingProfileIsFoundByItsRoleNotItsName() throws {
        let lookup = try Self.lookup()
        #expect(lookup.existingProfile(sessionName: "corp", accountId: "111111111111", roleName: "Developer") == "dev-sso")
        #expect(lookup.existingProfile(sessionName: "corp", accountId: "111111111111", roleName: "ReadOnly") == nil)
        #expect(lookup.existingProfile(sessionName: "cli", accountId: "111111111111", roleName: "Developer") == nil)
    }
}
