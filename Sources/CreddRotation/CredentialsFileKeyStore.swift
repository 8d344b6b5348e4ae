import CreddCore
import CreddCredentialsFile
import CreddPlatform

/// The credentials file as rotation's key store. `CredentialsFileWriter` blocks (the file's
/// lock, fsync, rename), so every call runs on `blockingWork`'s thread: rotation runs on the
/// event loop that also serves the endpoint and the control socket, which must never wait on a disk.
public struct CredentialsFileKeyStore: SourceKeyStore {
    private let writer: CredentialsFileWriter
    private let blockingWork: SerialBlockingWork

    public init(writer: CredentialsFileWriter, blockingWork: SerialBlockingWork) {
        self.writer = writer
        self.blockingWork = blockingWork
    }

    public var path: String { writer.path }

    public func sourceKeys(inSection section: String) async throws(CredentialsFileError) -> AWSCredentials {
        try await blockingWork.run { [writer] in
            Result { () throws(CredentialsFileError) in try writer.sourceKeys(inSection: section) }
        }.get()
    }

    public func replaceSourceKeys(
        inSection section: String, replacing expectedAccessKeyId: String, with newKeys: AWSCredentials
    ) async throws(CredentialsFileError) {
        try await blockingWork.run { [writer] in
            Result { () throws(CredentialsFileError) in
                try writer.replaceSourceKeys(inSection: section, replacing: expectedAccessKeyId, with: newKeys)
            }
        }.get()
    }
}
