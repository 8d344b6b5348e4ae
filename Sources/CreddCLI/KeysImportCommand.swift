import ArgumentParser
import CreddBus
import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddSTS
import FoundationEssentials
import Logging

/// `credd keys import PROFILE`: moves long-term keys from the credentials file into the keyring.
struct KeysImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Move a profile's long-term keys from the credentials file into the keyring.",
        discussion: """
            Checks the keys of [PROFILE] with STS (GetCallerIdentity, at the STS endpoint of the profile that uses it as \
            source_profile), stores them in the keyring, reads them back, and then removes the section from the \
            credentials file under credd's lock, leaving every other byte as it was. The profiles using PROFILE then \
            renew with the keys in the keyring.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The credentials-file section holding the keys (what `source_profile` names).") var profile: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try options.load(environment)
        let credentialsFile = configuration.settings.credentialsFile
        let user = configuration.profiles.first { candidate in
            guard case let .staticKeys(_, origin) = candidate.source else { return false }
            return candidate.sourceChain.last == profile && origin.file == credentialsFile
        }
        guard let user else {
            printError("credd: no profile of credd's config uses the keys of [\(profile)] in \(credentialsFile) as its source_profile")
            throw ExitCode.failure
        }
        let writer = CredentialsFileWriter(path: credentialsFile, clock: SystemWallClock())
        let keys: AWSCredentials
        do {
            keys = try writer.sourceKeys(inSection: profile)
            guard keys.sessionToken == nil else {
                throw CredentialsFileError(
                    reason: .notSourceKeys, file: credentialsFile, section: profile, message: "it holds session credentials, not long-term keys")
            }
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
        try await check(keys, at: user.stsEndpoint)
        let service = try await Keys.service()
        try await Keys.reporting { () throws(BusError) in
            try await service.storeKeys(of: profile, accessKeyId: keys.accessKeyId, secret: Array(keys.secretAccessKey.revealed.utf8))
            // The file is the only other copy: remove it only once the keyring answers with the keys.
            guard let back = try await service.keys(of: profile), back.accessKeyId == keys.accessKeyId,
                back.secretAccessKey == Array(keys.secretAccessKey.revealed.utf8)
            else { throw .malformed("the keyring did not give back the keys it stored for \(profile); the credentials file is unchanged") }
        }
        do {
            try writer.removeSourceKeys(inSection: profile, holding: keys.accessKeyId)
        } catch {
            printError("credd: \(error) (the keys are in the keyring too; remove the section by hand)")
            throw ExitCode.failure
        }
        print("moved the keys of \(profile) (\(keys.accessKeyId)) into the keyring and removed [\(profile)] from \(credentialsFile)")
    }

    /// GetCallerIdentity with `keys`: keys STS rejects are not worth keeping anywhere.
    private func check(_ keys: AWSCredentials, at endpoint: STSEndpoint) async throws {
        let transport = HTTPClientSTSTransport()
        defer { Task { try? await transport.shutdown() } }
        let client = STSClient(
            transport: transport, endpoint: endpoint.url, signingRegion: endpoint.signingRegion, wallClock: SystemWallClock(),
            logger: Logger(label: "credd.keys") { _ in CommandLogHandler() })
        do {
            _ = try await client.getCallerIdentity(credentials: keys)
        } catch {
            printError("credd: STS rejected the keys of [\(profile)]: \(error); nothing was moved")
            throw ExitCode.failure
        }
    }
}
