import CreddSSO
import Testing

/// The names `credd sso profiles` gives: `<account name>-<role>`, sanitised, unique.
struct SSOProfileCatalogTests {
    @Test(arguments: [
        ("dev", "dev"), ("Shared Services", "Shared-Services"), ("  a//b  ", "a-b"), ("prod.eu_1", "prod.eu_1"),
        ("--x--", "x"), ("Ünïcode Äcct", "n-code-cct"), ("", ""),
    ])
    func namesAreSanitised(input: String, expected: String) {
        #expect(SSOProfileCatalog.sanitised(input) == expected)
    }

    @Test func accountsSharingANameGetTheirIdAndNamelessOnesUseIt() {
        let accounts = [
            SSOAccount(accountId: "111111111111", accountName: "Shared", emailAddress: nil),
            SSOAccount(accountId: "222222222222", accountName: "Shared", emailAddress: nil),
            SSOAccount(accountId: "333333333333", accountName: nil, emailAddress: nil),
            SSOAccount(accountId: "444444444444", accountName: "prod", emailAddress: nil),
        ]
        let roles = Dictionary(uniqueKeysWithValues: accounts.map { ($0.accountId, [SSORole(accountId: $0.accountId, roleName: "Admin Role")]) })
        let blocks = SSOProfileCatalog.blocks(accounts: accounts, roles: roles)
        #expect(
            blocks.map(\.name) == [
                "333333333333-Admin-Role", "Shared-111111111111-Admin-Role", "Shared-222222222222-Admin-Role", "prod-Admin-Role",
            ])
        #expect(blocks[0].roleName == "Admin Role")
        #expect(
            blocks[0].text(sessionName: "corp")
                == "[profile 333333333333-Admin-Role]\nsso_session = corp\nsso_account_id = 333333333333\nsso_role_name = Admin Role\n")
    }

    @Test func anAccountWithoutRolesGivesNoProfile() {
        let accounts = [SSOAccount(accountId: "111111111111", accountName: "dev", emailAddress: nil)]
        #expect(SSOProfileCatalog.blocks(accounts: accounts, roles: [:]).isEmpty)
    }
}
