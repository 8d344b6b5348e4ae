import CGlibcGNU
import CreddCore
import CreddRefresh
import CreddSigV4
import FoundationEssentials
import Glibc
import Logging
import Synchronization

/// Keeps the sessions of profiles with `write_credentials = false` in the kernel's user keyring,
/// so that a daemon restart adopts them without any secret on disk.
///
/// The user keyring lives as long as the user has a login session or a running process (the
/// user manager of a lingering user keeps it): a restart of credd finds the sessions again, a
/// reboot does not (the keyring is memory only), and the next renewal of an MFA profile then
/// needs `credd login`. Each key expires by itself with its session, and is readable by the
/// user's own processes only, as the credentials file is. Where the keyring cannot be used (a
/// container's seccomp filter, a kernel without keys), sessions are simply not kept: no error.
final class SessionKeyring: CredentialSink {
    /// A session as stored: what adoption needs.
    struct Entry: Sendable, Hashable {
        let identity: String
        let credentials: AWSCredentials
        let obtainedAt: Date
    }

    /// The keyring calls credd makes, replaceable in tests. Each returns the call's result, or
    /// `-errno` when it failed.
    struct Calls: Sendable {
        var linkUserKeyring: @Sendable () -> Int
        var add: @Sendable (_ description: String, _ payload: [UInt8]) -> Int
        var search: @Sendable (_ description: String) -> Int
        var read: @Sendable (_ key: Int) -> [UInt8]?
        var setTimeout: @Sendable (_ key: Int, _ seconds: UInt) -> Int
        var invalidate: @Sendable (_ key: Int) -> Int

        static let live = Calls(
            linkUserKeyring: {
                result(credd_keyctl(keyctlLink, UInt(bitPattern: Int(keySpecUserKeyring)), UInt(bitPattern: Int(keySpecProcessKeyring)), 0, 0))
            },
            add: { description, payload in
                result(
                    payload.withUnsafeBytes { bytes in
                        credd_add_key("user", description, bytes.baseAddress, UInt(bytes.count), keySpecUserKeyring)
                    })
            },
            search: { description in
                result(
                    "user".withCString { type in
                        description.withCString { description in
                            credd_keyctl(
                                keyctlSearch, UInt(bitPattern: Int(keySpecUserKeyring)), UInt(bitPattern: type),
                                UInt(bitPattern: description), 0)
                        }
                    })
            },
            read: { key in
                var buffer = [UInt8](repeating: 0, count: 16 * 1024)
                let length = buffer.withUnsafeMutableBytes { bytes in
                    credd_keyctl(keyctlRead, UInt(key), UInt(bitPattern: bytes.baseAddress), UInt(bytes.count), 0)
                }
                guard length >= 0, length <= buffer.count else { return nil }
                return Array(buffer[..<length])
            },
            setTimeout: { key, seconds in result(credd_keyctl(keyctlSetTimeout, UInt(key), seconds, 0, 0)) },
            invalidate: { key in result(credd_keyctl(keyctlInvalidate, UInt(key), 0, 0, 0)) })

        private static func result(_ value: Int) -> Int {
            value < 0 ? -Int(errno) : value
        }
    }

    static let keySpecUserKeyring: CInt = -4
    static let keySpecProcessKeyring: CInt = -2
    static let keyctlLink: CInt = 8
    static let keyctlSearch: CInt = 10
    static let keyctlRead: CInt = 11
    static let keyctlSetTimeout: CInt = 15
    static let keyctlInvalidate: CInt = 21
    static let payloadVersion = "credd-session-1"

    private let namespace: String
    private let profiles: ProfileDirectory
    private let wallClock: any WallClock
    private let logger: Logger
    private let calls: Calls
    /// Set once a call shows that the keyring cannot be used: later calls are skipped.
    private let unavailable = Atomic<Bool>(false)

    /// - Parameter scope: what tells this daemon's keys apart from another credd's of the same
    ///   user (the config file's path): only its digest goes into the key names.
    init(scope: String, profiles: ProfileDirectory, wallClock: any WallClock, logger: Logger, calls: Calls = .live) {
        self.namespace = String(SigV4Signer.hexSHA256(Array(scope.utf8)).prefix(16))
        self.profiles = profiles
        self.wallClock = wallClock
        self.logger = logger
        self.calls = calls
        // Keys in the user keyring are only "possessed", and so readable, through a keyring of
        // the process: link the user keyring into the process keyring. A failure shows below.
        _ = calls.linkUserKeyring()
    }

    func apply(_ batch: [CredentialUpdate]) async {
        let configuration = profiles.configuration
        let identities = ProfileIdentity.digests(of: configuration.profiles)
        let now = wallClock.now()
        for update in batch {
            switch update {
            case let .published(name, credentials):
                // Profiles that write the file are adopted from there; a stale entry left by an
                // earlier write_credentials = false expires with its session.
                guard let profile = configuration.profile(named: name), !profile.writeCredentials, let identity = identities[name] else {
                    continue
                }
                store(Entry(identity: identity, credentials: credentials, obtainedAt: now), for: name, now: now)
            case let .withdrawn(name, _):
                forget(name)
            }
        }
    }

    /// The session kept for `name`, if any, whatever its identity or expiry (the caller checks).
    func entry(for name: String) -> Entry? {
        guard !unavailable.load(ordering: .relaxed) else { return nil }
        let key = calls.search(description(name))
        guard key > 0 else {
            noteFailure(-key, doing: "read")
            return nil
        }
        guard let payload = calls.read(key), let entry = Self.decode(payload) else {
            logger.warning("user keyring: unreadable session entry ignored", metadata: ["credd.profile": "\(name)"])
            return nil
        }
        return entry
    }

    private func store(_ entry: Entry, for name: String, now: Date) {
        guard !unavailable.load(ordering: .relaxed), let expiration = entry.credentials.expiration else { return }
        let key = calls.add(description(name), Self.encode(entry))
        guard key > 0 else {
            noteFailure(-key, doing: "store")
            return
        }
        // The kernel drops the key when the session ends: nothing expired lingers.
        let seconds = UInt(max(1, expiration.timeIntervalSince(now).rounded(.up)))
        _ = calls.setTimeout(key, seconds)
    }

    private func forget(_ name: String) {
        guard !unavailable.load(ordering: .relaxed) else { return }
        let key = calls.search(description(name))
        guard key > 0 else { return }
        _ = calls.invalidate(key)
    }

    /// ENOKEY is an answer (nothing kept); anything else means the keyring is out of reach.
    private func noteFailure(_ code: Int, doing what: String) {
        guard code != Int(ENOKEY), code != Int(EKEYEXPIRED), code != Int(EKEYREVOKED) else { return }
        guard !unavailable.exchange(true, ordering: .relaxed) else { return }
        let reason = String(cString: strerror(CInt(code)))
        logger.notice(
            "the kernel's user keyring is unavailable (\(what): \(reason)): sessions of profiles with write_credentials = false are not kept across restarts"
        )
    }

    private func description(_ name: String) -> String {
        "credd:\(namespace):\(name)"
    }

    // MARK: - Payload

    /// One field a line: the format version, identity, key id, secret, token, expiry, obtained,
    /// account (empty when unknown; absent in entries of an older credd).
    static func encode(_ entry: Entry) -> [UInt8] {
        let credentials = entry.credentials
        let fields = [
            payloadVersion, entry.identity, credentials.accessKeyId, credentials.secretAccessKey.revealed,
            credentials.sessionToken?.revealed ?? "", credentials.expiration.map(AWSTimestamp.format) ?? "",
            AWSTimestamp.format(entry.obtainedAt), credentials.accountId ?? "",
        ]
        return Array(fields.joined(separator: "\n").utf8)
    }

    static func decode(_ payload: [UInt8]) -> Entry? {
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7 || fields.count == 8, fields[0] == payloadVersion, !fields[2].isEmpty, !fields[3].isEmpty, !fields[4].isEmpty,
            let expiration = AWSTimestamp.parse(fields[5]), let obtainedAt = AWSTimestamp.parse(fields[6])
        else { return nil }
        let credentials = AWSCredentials(
            accessKeyId: fields[2], secretAccessKey: Secret(fields[3]), sessionToken: Secret(fields[4]), expiration: expiration,
            accountId: fields.count == 8 && AWSARN.isAccountID(fields[7]) ? fields[7] : nil)
        return Entry(identity: fields[1], credentials: credentials, obtainedAt: obtainedAt)
    }
}
