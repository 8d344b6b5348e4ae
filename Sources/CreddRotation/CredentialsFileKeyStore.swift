import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform

/// A credentials file section as rotation's key store. `CredentialsFileWriter` blocks (the file's
/// lock, fsync, rename), so every call runs on `blockingWork`'s thread: rotation runs on the
/// event loop that also serves the endpoint and the control socket, which must never wait on a disk.
public struct CredentialsFileKeyStore: SourceKeyStore {
    private let writer: CredentialsFileWriter
    private let section: String
    private let blockingWork: SerialBlockingWork

    public init(writer: CredentialsFileWriter, section: String, blockingWork: SerialBlockingWork) {
        self.writer = writer
        self.section = section
        self.blockingWork = blockingWork
    }

    public var location: KeyLocation { .credentialsFile(path: writer.path, section: section) }

    public func sourceKeys() async throws(KeyStoreError) -> AWSCredentials {
        do {
            return try await blockingWork.run { [writer, section] in
                Result { () throws(CredentialsFileError) in try writer.sourceKeys(inSection: section) }
            }.get()
        } catch {
            throw .file(error)
        }
    }

    public func replaceSourceKeys(replacing expectedAccessKeyId: String, with newKeys: AWSCredentials) async throws(KeyStoreError) {
        do {
            try await blockingWork.run { [writer, section] in
                Result { () throws(CredentialsFileError) in
                    try writer.replaceSourceKeys(inSection: section, replacing: expectedAccessKeyId, with: newKeys)
                }
            }.get()
        } catch {
            throw .file(error)
        }
    }
}
