import CreddPlatform
import Foundation
import Testing

/// Each test runs in a child process, which may change its environment.
@Suite struct InheritedEnvironmentTests {
    @Test func libdispatchIsSilencedHereButNotInChildren() async {
        await #expect(processExitsWith: .success) {
            unsetenv("LIBDISPATCH_LOG")
            InheritedEnvironment.silenceLibdispatch()
            #expect(getenv("LIBDISPATCH_LOG").map { String(cString: $0) } == "NO")
            #expect(InheritedEnvironment.current()["LIBDISPATCH_LOG"] == nil)
            #expect(InheritedEnvironment.current()["PATH"] == ProcessInfo.processInfo.environment["PATH"])
        }
    }

    @Test func theUsersOwnChoiceIsKeptAndInherited() async {
        await #expect(processExitsWith: .success) {
            setenv("LIBDISPATCH_LOG", "YES", 1)
            InheritedEnvironment.silenceLibdispatch()
            #expect(getenv("LIBDISPATCH_LOG").map { String(cString: $0) } == "YES")
            #expect(InheritedEnvironment.current()["LIBDISPATCH_LOG"] == "YES")
        }
    }
}
