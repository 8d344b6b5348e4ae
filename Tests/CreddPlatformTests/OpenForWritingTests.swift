import CreddPlatform
import CreddTestSupport
import Glibc
import Testing

@Suite struct OpenForWritingTests {
    @Test("a file open for writing by anyone is told apart from one open for reading, or none")
    func writersAreToldApartFromReaders() throws {
        let directory = try TemporaryDirectory(prefix: "credd-open-for-writing")
        defer { directory.remove() }
        let path = directory.file("credentials")
        #expect(isOpenForWriting(path) == nil, "no file: cannot tell")
        try directory.write("credentials", "[default]\n", mode: nil)
        #expect(isOpenForWriting(path) == false)
        let reading = open(path, O_RDONLY | O_CLOEXEC)
        try #require(reading >= 0)
        defer { close(reading) }
        #expect(isOpenForWriting(path) == false)
        for flags in [O_WRONLY | O_TRUNC, O_WRONLY | O_APPEND, O_RDWR] {
            let writing = open(path, flags | O_CLOEXEC)
            try #require(writing >= 0)
            #expect(isOpenForWriting(path) == true)
            close(writing)
            #expect(isOpenForWriting(path) == false)
        }
    }
}
