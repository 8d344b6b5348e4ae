import CreddConfig
import CreddCore
import Testing

/// Which keys a `source_profile` names when the Secret Service holds keys under that name.
@Suite("Keyring sources")
struct KeyringSourceResolutionTests {
    static let config = """
        [profile mfa]
        source_profile = alice-long-term
        mfa_serial = arn:aws:iam::111111111111:mfa/alice
        """

    @Test("a source found only in the keyring uses its keys, and check says so")
    func keyringOnly() throws {
        let loaded = try FakeHome(config: Self.config, credentials: "# empty\n").load(keyringProfiles: ["alice-long-term", "bob"])
        #expect(loaded.errors == [])
        let mfa = try #require(loaded.profile(named: "mfa"))
        #expect(mfa.source == .secretService("alice-long-term"))
        #expect(mfa.sourceChain == ["mfa", "alice-long-term"])
        #expect(ConfigCheckReport.render(loaded, warnings: []).contains("mfa ← alice-long-term (keys in the Secret Service)"))
    }

    @Test("rotation reads and replaces keys in the keyring item, for the profile and for the source's name")
    func rotationTargetsTheKeyringItem() throws {
        let loaded = try FakeHome(config: Self.config + "\nrotate_after = 30d\n", credentials: "# empty\n")
            .load(keyringProfiles: ["alice-long-term"])
        for name in ["mfa", "alice-long-term"] {
            let target = try RotationTarget.resolve(name, in: loaded).get()
            #expect(target.location == .keyring(profile: "alice-long-term"))
            #expect(target.section == "alice-long-term")
            #expect(target.accessKeyId == nil, "keyring keys are read only when used")
            #expect(target.mfaSessionProfiles == ["mfa"])
        }
        let report = ConfigCheckReport.render(loaded, warnings: [])
        #expect(report.contains("rotation:  the keys of alice-long-term in the keyring are replaced once 30d old (rotate_after)"), "\(report)")
    }

    @Test("keys in the credentials file win over the keyring's, as every other tool sees them")
    func fileKeysWin() throws {
        let loaded = try FakeHome(config: Self.config, credentials: FakeHome.longTermCredentials).load(keyringProfiles: ["alice-long-term"])
        guard case .staticKeys(let keys, _)? = loaded.profile(named: "mfa")?.source else {
            Issue.record("expected the file's keys")
            return
        }
        #expect(keys.accessKeyId == "AKIAFAKEEXAMPLE01234")
    }

    @Test("the keyring comes before credential_process, and a section without keys does not hide it")
    func keyringBeforeProcess() throws {
        let home = FakeHome(
            config: Self.config, credentials: "[alice-long-term]\nregion = eu-west-1\n",
            awsConfig: "[profile alice-long-term]\ncredential_process = pass-aws alice\n")
        #expect(try home.load(keyringProfiles: ["alice-long-term"]).profile(named: "mfa")?.source == .secretService("alice-long-term"))
        guard case .credentialProcess? = try home.load().profile(named: "mfa")?.source else {
            Issue.record("expected credential_process without the keyring")
            return
        }
    }

    @Test("a name the keyring does not hold is still an error with its suggestion")
    func unknownNameStillFails() throws {
        let loaded = try FakeHome(config: Self.config, credentials: "# empty\n").load(keyringProfiles: ["alice-long-trem"])
        #expect(loaded.errors(for: "mfa").first?.message.contains("source profile 'alice-long-term' not found") == true)
    }
}
