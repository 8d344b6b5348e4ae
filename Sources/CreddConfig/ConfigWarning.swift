import CreddCore
import CreddPlatform
import Glibc

/// Something that does not stop the config from loading but will hurt at run time, found by
/// `credd check` on the real system, with the command that fixes it.
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    /// The file or profile the warning is about, as the user knows it.
    public let subject: String
    public let message: String
    /// The command or edit that fixes it.
    public let fix: String

    public init(subject: String, message: String, fix: String) {
        self.subject = subject
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(subject): \(message). Fix: \(fix)" }
}

extension ConfigWarning {
    /// Every warning for `configuration` on this machine: a credentials file others may read or
    /// write, helper programs that would not start, and a `listen` the installed credd.socket
    /// does not pass on. `environment` supplies `HOME`, `XDG_CONFIG_HOME` and `PATH`.
    public static func all(
        for configuration: LoadedConfiguration, environment: [String: String],
        systemUnitDirectories: [String] = SocketUnitListen.systemDirectories, reader: some FileReading = .system
    ) -> [ConfigWarning] {
        let credentialsFile = configuration.settings.credentialsFile
        var warnings = [credentialsFileMode(credentialsFile), leftoverTemporaryFiles(besides: credentialsFile, reader: reader)].compactMap { $0 }
        var seen: Set<ConfigWarning> = []
        for warning in helperPrograms(configuration.profiles, path: environment["PATH"]) where seen.insert(warning).inserted {
            warnings.append(warning)
        }
        warnings += partitionMismatches(configuration.profiles)
        let directories = SocketUnitListen.userDirectories(environment: environment) + systemUnitDirectories
        if let unit = SocketUnitListen.find(in: directories, reader: reader) {
            warnings += unit.warning(for: configuration.settings).map { [$0] } ?? []
        }
        return warnings
    }

    /// The credentials file holds long-term keys: any group or other bit is too much.
    static func credentialsFileMode(_ path: String) -> ConfigWarning? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let mode = status.st_mode & 0o777
        let others = mode & 0o077
        guard others != 0 else { return nil }
        let access = [(0o044, "readable"), (0o022, "writable")].filter { others & mode_t($0.0) != 0 }.map(\.1)
        return ConfigWarning(
            subject: path,
            message:
                "\(access.joined(separator: " and ")) by group or others (mode \(String(mode, radix: 8).leftPadded(to: 4))), and it holds long-term keys",
            fix: "chmod 600 \(shellQuoted(path))")
    }

    /// Temp files a credd killed mid-write left beside the credentials file. credd never deletes
    /// them itself (a file merely named like one may be the user's), so the user is told.
    static func leftoverTemporaryFiles(besides credentialsFile: String, reader: some FileReading) -> ConfigWarning? {
        // The writer puts them beside the file a symlink leads to.
        let target =
            realpath(credentialsFile, nil).map { resolved in
                defer { free(resolved) }
                return String(cString: resolved)
            } ?? credentialsFile
        let directory = ConfigLoader.directory(of: target)
        let prefix = "." + target.dropFirst(directory.count + (directory == "/" ? 0 : 1)) + ".credd-"
        let leftovers = reader.entries(ofDirectory: directory).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".tmp") }.sorted()
        guard !leftovers.isEmpty else { return nil }
        let paths = leftovers.map { shellQuoted(directory + "/" + $0) }
        return ConfigWarning(
            subject: directory,
            message:
                "\(leftovers.count == 1 ? "a temp file" : "\(leftovers.count) temp files") of credd's left by a write that was killed midway, which may hold session credentials",
            fix: "unless you made them yourself, remove them: rm -- \(paths.joined(separator: " "))")
    }

    /// A role or MFA device of one partition renewed at another partition's STS endpoint, which
    /// rejects it: usually a missing or wrong `region`.
    static func partitionMismatches(_ profiles: [ManagedProfile]) -> [ConfigWarning] {
        profiles.compactMap { profile in
            guard let endpointPartition = profile.stsEndpoint.partition else { return nil }
            for (key, arn) in [("role_arn", profile.roleArn), ("mfa_serial", profile.mfaSerial)] {
                guard let arn, let partition = AWSARN.partition(arn), partition != endpointPartition else { continue }
                return ConfigWarning(
                    subject: "[profile \(profile.name)] at \(profile.location)",
                    message:
                        "\(key) is in partition \(partition), but its STS calls go to \(profile.stsEndpoint.url.absoluteString) in partition \(endpointPartition), which will reject them",
                    fix: "set region to a region of \(partition) in this profile")
            }
            return nil
        }
    }

    /// `mfa_process` and `credential_process` programs that would not start.
    static func helperPrograms(_ profiles: [ManagedProfile], path: String?) -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        for profile in profiles {
            if let command = profile.mfaProcess,
                let warning = helperProgram(command, setting: "mfa_process", subject: "[profile \(profile.name)] at \(profile.location)", path: path)
            {
                warnings.append(warning)
            }
            if case let .credentialProcess(command, origin) = profile.source,
                let warning = helperProgram(command, setting: "credential_process", subject: "credential_process at \(origin)", path: path)
            {
                warnings.append(warning)
            }
        }
        return warnings
    }

    private static func helperProgram(_ command: String, setting: String, subject: String, path: String?) -> ConfigWarning? {
        // The config guarantees a non-empty command; only bad quoting leaves no program.
        guard let program = try? CommandLineSplitter.split(command).first else {
            return ConfigWarning(
                subject: subject, message: "\(setting) cannot be split into a program and its arguments (an unclosed quote or a trailing backslash)",
                fix: "fix the quoting of \(setting)")
        }
        // A path is longer than a config error's value prefix; still never a secret.
        let shown = Redaction.excerpt(program)
        switch ExecutableSearch.locate(program, path: path) {
        case .success:
            return nil
        case let .failure(.notOnPath(searched)):
            return ConfigWarning(
                subject: subject, message: "the \(setting) program '\(shown)' is not on PATH (\(searched))",
                fix:
                    "install it, or write its full path in \(setting); the systemd user manager's PATH is `systemctl --user show-environment | grep ^PATH`"
            )
        case .failure(.missing):
            return ConfigWarning(subject: subject, message: "the \(setting) program '\(shown)' does not exist", fix: "correct the path in \(setting)")
        case .failure(.notExecutable):
            return ConfigWarning(
                subject: subject, message: "the \(setting) program '\(shown)' is not an executable file", fix: "chmod u+x \(shellQuoted(shown))")
        }
    }

    /// `path` as one shell word.
    static func shellQuoted(_ path: String) -> String {
        let plain = path.utf8.allSatisfy { ASCIIClass.shellPlain.contains($0) }
        return plain && !path.isEmpty ? path : "'" + path.replacingEvery("'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
