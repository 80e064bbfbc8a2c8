import Foundation
import Testing
@testable import BookingService

@Suite struct RateLimiterTests {
    @Test func pruningWaitsUntilTheTableHasDoubled() {
        var mark = PruneMark(floor: 100)
        #expect(!mark.isDue(99) && mark.isDue(100))
        mark.pruned(leaving: 150)  // all still live: the next scan waits for 300 entries
        #expect(!mark.isDue(299) && mark.isDue(300))
        mark.pruned(leaving: 10)  // mostly expired: back to the floor
        #expect(!mark.isDue(99) && mark.isDue(100))
    }

    @Test func aKeyKeepsItsCountAmongManyLiveKeys() {
        let limiter = RateLimiter(limit: 2, window: 300)
        #expect(limiter.allow("first").allowed && limiter.allow("first").allowed)
        for n in 0..<250_000 { _ = limiter.allow("address \(n)") }
        let third = limiter.allow("first")
        #expect(!third.allowed && (1...300).contains(third.retryAfter))
        #expect(limiter.allow("address 7").allowed && !limiter.allow("address 7").allowed)
    }
}
