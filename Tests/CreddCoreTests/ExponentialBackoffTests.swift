import CreddCore
import Testing

struct ExponentialBackoffTests {
    @Test(arguments: [(0, 1.0), (1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (1_000_000, 30)] as [(Int, Double)])
    func doublesFromTheFirstWaitUpToTheMaximum(failures: Int, wait: Double) {
        #expect(exponentialBackoff(afterFailures: failures, first: 1, maximum: 30) == wait)
    }
}
