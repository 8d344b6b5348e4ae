/// IAM Identity Center config shared by the config, SSO and binary tests.
public enum SSOFixtures {
    /// The sso-session the tests sign in to (FakeSSO accepts any start URL).
    public static let corpSession = """
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1
        sso_registration_scopes = sso:account:access

        """

    /// `corpSession`, an SSO profile for a role FakeSSO assigns, and a role chained from it.
    public static let config =
        corpSession + """
            [profile dev-sso]
            sso_session = corp
            sso_account_id = 111111111111
            sso_role_name = Developer
            region = eu-west-1

            [profile chained]
            source_profile = dev-sso
            role_arn = arn:aws:iam::111111111111:role/Chained
            region = eu-west-1
            """
}
