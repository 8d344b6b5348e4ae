import Glibc

/// What a set of files looked like (device, inode, size, change time), to tell whether any of
/// them changed, was created or went between two moments: between the start's read of the
/// config and the moment the file watch began, say, when an edit would otherwise go unnoticed.
struct FileStamps: Equatable, Sendable {
    private struct Stamp: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let changedSeconds: Int
        let changedNanoseconds: Int
    }

    /// Missing (or unreadable) files have no stamp.
    private let stamps: [String: Stamp]

    init(of paths: [String]) {
        var stamps: [String: Stamp] = [:]
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else { continue }
            stamps[path] = Stamp(
                device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
                changedSeconds: Int(status.st_ctim.tv_sec), changedNanoseconds: Int(status.st_ctim.tv_nsec))
        }
        self.stamps = stamps
    }
}
