import CreddPlatform
import Foundation
import Testing

struct DetachedThreadTests {
    @Test func runsTheWorkOnAThreadOfItsOwn() async {
        let caller = pthread_self()
        let ranElsewhere = await withCheckedContinuation { continuation in
            let started = detachThread { continuation.resume(returning: pthread_equal(pthread_self(), caller) == 0) }
            if !started { continuation.resume(returning: false) }
        }
        #expect(ranElsewhere)
    }
}
