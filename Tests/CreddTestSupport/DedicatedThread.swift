import Foundation

/// Runs blocking work (sockets, waiting for a child process) on its own thread, so it never
/// holds a thread of the cooperative pool that the code under test needs.
public func onDedicatedThread<T: Sendable, Failure: Error>(
    _ work: @escaping @Sendable () throws(Failure) -> T
) async throws(Failure) -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
        let thread = Thread {
            do throws(Failure) {
                continuation.resume(returning: .success(try work()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    return try result.get()
}
