import ArgumentParser
import CreddConfig
import CreddControl
import CreddCore
import CreddPlatform
import CreddRotation
import CreddSTS
import FoundationEssentials
import Logging

struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the long-term access key of a profile's source with a new one, safely.",
        discussion: """
            Creates a new key, writes it where the source's keys are: its section of the credentials file (only \
            the two key lines change) or its keyring item (`credd keys add`; never to disk), waits until STS \
            accepts it, then deactivates and deletes the old key. With a running daemon, the IAM calls are signed \
            with the profile's MFA session. Refuses when the user already has two keys. On any failure the file \
            or keyring keeps a key that works, and the message names every key that exists.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "A managed profile (its source is rotated) or the source section itself.", completion: .profileNames) var profile: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let loaded = try options.load(environment, keyringProfiles: await Keys.storedProfiles(environment))
        let target: RotationTarget
        switch RotationTarget.resolve(profile, in: loaded) {
        case let .success(resolved): target = resolved
        case let .failure(unavailable):
            printError("credd: \(unavailable)")
            throw ExitCode.failure
        }

        let transport = HTTPClientSTSTransport()
        defer { Task { try? await transport.shutdown() } }
        let logger = Logger(label: "credd.rotate") { _ in CommandLogHandler() }
        let rotator = LiveKeyRotator(transport: transport, environment: environment, wallClock: SystemWallClock(), logger: logger)
        do {
            let rotation = try rotator.rotation(of: target.location, stsEndpoint: target.stsEndpoint)
            let report = try await rotation.rotate(signingSession: mfaSession(target))
            print(report.description)
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
        // The daemon watches the credentials file too; asking is only quicker. Keys in the keyring
        // it reads at each renewal.
        _ = try? DaemonConnection.client.send(ControlRequest(command: .reload))
    }

    /// The MFA session of the keys, from a running daemon, so MFA-guarded IAM policies pass.
    private func mfaSession(_ target: RotationTarget) -> AWSCredentials? {
        for name in target.mfaSessionProfiles {
            guard let response = try? DaemonConnection.client.send(ControlRequest(command: .credentials, profile: name)),
                let credentials = response.credentials
            else { continue }
            return AWSCredentials(
                accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
                sessionToken: credentials.sessionToken, expiration: credentials.expiration.flatMap(AWSTimestamp.parse))
        }
        if !target.mfaSessionProfiles.isEmpty {
            printError("credd: no running daemon has an MFA session for \(target.section); signing with the long-term key")
        }
        return nil
    }
}
