import CreddCore
import CreddPlatform
import FoundationEssentials
import Glibc
import Synchronization

/// The system calls whose failures tests need to simulate (a full disk, a failing fsync), which
/// running as root or on an ordinary file system cannot produce on demand.
struct SystemCalls: Sendable {
    var write: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int
    var fsync: @Sendable (Int32) -> Int32

    static let live = SystemCalls(write: { Glibc.write($0, $1, $2) }, fsync: { Glibc.fsync($0) })
}

extension CredentialsFileWriter {
    /// Follows symlinks to the file that is really written; a dangling link's target is created.
    func resolveSymlinks(_ start: String) throws(CredentialsFileError) -> String {
        var current = start
        // Linux's own limit on links followed in one lookup.
        for _ in 0..<40 {
            var status = stat()
            if lstat(current, &status) != 0 {
                let code = errno
                if code == ENOENT { return current }
                throw systemError(.unreadable, file: current, code, "cannot inspect the credentials file")
            }
            guard (status.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            if length < 0 { throw systemError(.unreadable, file: current, errno, "cannot read the symlink") }
            let link = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : Self.directory(of: current) + "/" + link
        }
        throw CredentialsFileError(reason: .symlinkLoop, file: start, message: "too many levels of symlinks; point the link at a real file")
    }

    /// Refuses to replace a file that belongs to another user, typically one a symlink leads
    /// to: the rename would make it the user's, mode 0600, and lock its owner out.
    func requireOwnTarget(_ target: String, linkedFrom start: String) throws(CredentialsFileError) {
        var status = stat()
        guard lstat(target, &status) == 0 else { return }
        let user = geteuid()
        guard status.st_uid != user else { return }
        let through = target == start ? "" : " (\(start) is a symlink to it)"
        throw CredentialsFileError(
            reason: .ownedByAnotherUser, file: target,
            message:
                "belongs to uid \(status.st_uid), not to credd's user (uid \(user))\(through); credd will not replace another user's file: point the link at a file of your own, or set credentials_file; nothing was written"
        )
    }

    /// Creates missing parent directories with mode 0700 (`~/.aws` holds secrets).
    func ensureDirectory(_ directory: String, for target: String) throws(CredentialsFileError) {
        var status = stat()
        if stat(directory, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw CredentialsFileError(reason: .writeFailed, file: target, message: "\(directory) is not a directory")
            }
            return
        }
        let parent = Self.directory(of: directory)
        if parent != directory { try ensureDirectory(parent, for: target) }
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw systemError(.writeFailed, file: target, errno, "cannot create the directory \(directory)")
        }
    }

    /// Takes the exclusive lock on `<target>.lock`, waiting up to the configured timeout.
    /// Returns the lock's descriptor; closing it releases the lock.
    func acquireLock(for target: String) throws(CredentialsFileError) -> Int32 {
        let lockPath = target + ".lock"
        let descriptor: Int32
        switch openRegularFile(lockPath, flags: O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600) {
        case let .success(opened): descriptor = opened
        case let .failure(.system(code)): throw systemError(.lockFailed, file: lockPath, code, "cannot open the lock file")
        case let .failure(failure): throw notRegularFile(lockPath, failure)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.lockTimeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(descriptor)
                throw systemError(.lockFailed, file: lockPath, code, "cannot lock")
            }
            guard clock.now < deadline else {
                close(descriptor)
                throw CredentialsFileError(
                    reason: .lockTimedOut, file: lockPath,
                    message: "another process has held the lock for over \(configuration.lockTimeout); nothing was written, the next refresh retries")
            }
            // Polling keeps the wait bounded; flock itself has no timeout.
            usleep(10_000)
        }
        return descriptor
    }

    /// How often one rewrite starts again because another program changed the file between
    /// credd's read and its rename, or had it open for writing.
    static let maximumAttempts = 5
    /// The wait before starting again while another program has the file open for writing.
    static let beingWrittenPause: useconds_t = 50_000

    /// Under the lock: reads the file, lets `edit` compute the new bytes (`nil`: nothing to
    /// write) and replaces the file with them. Programs that ignore credd's lock (editors,
    /// `aws configure`, other tools) can still change the file meanwhile; when one did, the edit
    /// starts again from what that program wrote, so its change is kept rather than overwritten.
    func rewrite<Outcome>(
        _ target: String, directory: String,
        _ edit: (_ original: [UInt8]?) throws(CredentialsFileError) -> (bytes: [UInt8]?, outcome: Outcome)
    ) throws(CredentialsFileError) -> Outcome {
        try requireOwnTarget(target, linkedFrom: path)
        let lock = try acquireLock(for: target)
        defer { close(lock) }
        var attempt = 1
        while true {
            let original = try readFile(target)
            let (bytes, outcome) = try edit(original)
            guard let bytes else { return outcome }
            do throws(CredentialsFileError) {
                try writeAtomically(bytes, to: target, directory: directory, replacing: original)
                return outcome
            } catch  where error.reason == .changedDuringWrite && attempt < Self.maximumAttempts {
                attempt += 1
            } catch  where error.reason == .beingWritten && attempt < Self.maximumAttempts {
                attempt += 1
                usleep(Self.beingWrittenPause)
            }
        }
    }

    /// The file's bytes, or `nil` when it does not exist yet.
    /// Anything but a regular file is refused without blocking (a FIFO would hang the open).
    func readFile(_ target: String) throws(CredentialsFileError) -> [UInt8]? {
        let descriptor: Int32
        switch openRegularFile(target) {
        case let .success(opened): descriptor = opened
        case .failure(.system(ENOENT)): return nil
        case let .failure(.system(code)): throw systemError(.unreadable, file: target, code, "cannot read the credentials file; nothing was written")
        case let .failure(failure): throw notRegularFile(target, failure)
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        // Sized once from the file: growing by doubling copied a 1 MiB file about twice more.
        var status = stat()
        if fstat(descriptor, &status) == 0 { bytes.reserveCapacity(Int(status.st_size)) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError(.unreadable, file: target, errno, "cannot read the credentials file; nothing was written")
            }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    /// Temp file beside the target (0600, `O_EXCL`, a name no one can predict), write, fsync,
    /// rename, fsync the directory. On any failure before the rename the temp file is removed
    /// and the target is untouched. The rename happens only while the target still holds
    /// `original` (`nil`: still absent).
    func writeAtomically(_ bytes: [UInt8], to target: String, directory: String, replacing original: [UInt8]?) throws(CredentialsFileError) {
        let base = target.lastIndex(of: "/").map { String(target[target.index(after: $0)...]) } ?? target
        TemporaryFiles.removeLeftovers()
        let temporary = "\(directory)/.\(base).credd-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor < 0 {
            throw systemError(.writeFailed, file: target, errno, "cannot create a temporary file in \(directory); nothing was written")
        }
        TemporaryFiles.created(temporary, descriptor: descriptor)
        var renamed = false
        defer { if !renamed { TemporaryFiles.remove(temporary) } }
        do throws(CredentialsFileError) {
            // The umask may only remove bits, but make the mode exact anyway.
            if fchmod(descriptor, 0o600) != 0 { throw systemError(.writeFailed, file: target, errno, "cannot set mode 0600 on the temporary file") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { system.write(descriptor, $0.baseAddress?.advanced(by: offset), bytes.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw systemError(.writeFailed, file: target, errno, "cannot write the new file; nothing was written")
                }
                offset += written
            }
            if system.fsync(descriptor) != 0 {
                throw systemError(.writeFailed, file: target, errno, "cannot flush the new file to disk; nothing was written")
            }
        } catch {
            close(descriptor)
            throw error
        }
        if close(descriptor) != 0 { throw systemError(.writeFailed, file: target, errno, "cannot close the new file; nothing was written") }
        // Checked after the slow fsync, so that only the few microseconds before the rename stay
        // open to a change credd cannot see.
        if try readFile(target) != original {
            throw CredentialsFileError(
                reason: .changedDuringWrite, file: target,
                message:
                    "another program kept changing the file while credd wrote it (\(Self.maximumAttempts) attempts), without taking credd's lock \(target).lock; nothing was written so that its changes are kept, credd tries again shortly"
            )
        }
        // A program that truncated the file and is still writing it (an editor saving in place,
        // `cat >`) writes into the file it opened: replaced now, the file would lose what it writes.
        if isOpenForWriting(target) == true {
            throw CredentialsFileError(
                reason: .beingWritten, file: target,
                message:
                    "another program has the file open for writing (an editor saving it in place, `cat >`); credd does not replace it under that program, which would lose what it writes; nothing was written, credd tries again shortly"
            )
        }
        if rename(temporary, target) != 0 { throw systemError(.writeFailed, file: target, errno, "cannot replace the file; nothing was written") }
        renamed = true
        TemporaryFiles.renamed(temporary)
        // Make the rename itself durable; the new content is already complete either way.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = system.fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    func notRegularFile(_ path: String, _ failure: RegularFileOpenFailure) -> CredentialsFileError {
        CredentialsFileError(
            reason: .notRegularFile, file: path,
            message: "\(failure.reason); credd reads and replaces only regular files: move it away or set credentials_file; nothing was written")
    }

    func systemError(_ reason: CredentialsFileError.Reason, file: String, _ code: Int32, _ message: String) -> CredentialsFileError {
        CredentialsFileError(reason: reason, file: file, systemError: String(cString: strerror(code)), message: message)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The temp files this process created and has not yet renamed or removed. Only these are ever
/// deleted: a file in `~/.aws` that merely looks like a credd temp file may be the user's.
enum TemporaryFiles {
    /// The file credd created at a path, held open by a descriptor of its own so that its
    /// inode number cannot be reused: a file someone puts in its place never matches.
    private struct Created {
        let descriptor: Int32
        let device: UInt64
        let inode: UInt64

        func isStill(at path: String) -> Bool {
            var status = stat()
            return lstat(path, &status) == 0 && UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
        }
    }

    private struct Registry {
        /// Being written.
        var pending: [String: Created] = [:]
        /// Created by this process, whose removal failed; retried before the next write.
        var leftovers: [String: Created] = [:]
    }

    private static let registry = Mutex(Registry())

    static func created(_ path: String, descriptor: Int32) {
        var status = stat()
        let held = dup(descriptor)
        guard held >= 0, fcntl(held, F_SETFD, FD_CLOEXEC) == 0, fstat(held, &status) == 0 else {
            if held >= 0 { close(held) }
            return
        }
        let file = Created(descriptor: held, device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        registry.withLock { $0.pending[path] = file }
    }

    static func renamed(_ path: String) {
        if let file = registry.withLock({ $0.pending.removeValue(forKey: path) }) { close(file.descriptor) }
    }

    /// Unlinks `path` if it is still the file this process created there.
    static func remove(_ path: String) {
        guard let file = registry.withLock({ $0.pending.removeValue(forKey: path) ?? $0.leftovers.removeValue(forKey: path) }) else { return }
        if file.isStill(at: path), unlink(path) != 0 {
            registry.withLock { $0.leftovers[path] = file }
            return
        }
        close(file.descriptor)
    }

    /// Retries the removals that failed earlier in this process.
    static func removeLeftovers() {
        for path in registry.withLock({ Array($0.leftovers.keys) }) { remove(path) }
    }
}
