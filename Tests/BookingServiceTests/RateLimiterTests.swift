import Foundation
import NIOCore
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

    /// IPv6 clients count per /64, so rotating addresses inside one gains nothing; IPv4 and
    /// IPv4-mapped addresses count per address.
    @Test func addressesCountPerIPv4AddressOrIPv6Slash64() throws {
        func key(_ ip: String) throws -> String { ServiceContext.limitKey(try SocketAddress(ipAddress: ip, port: 443)) }
        #expect(try key("203.0.113.7") == "203.0.113.7")
        #expect(try key("::ffff:203.0.113.7") == "203.0.113.7")
        #expect(try key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(try key("2001:db8:1:2:ffff:eeee:dddd:cccc") == key("2001:db8:1:2::9"))
        #expect(try key("2001:db8:1:3::1") != key("2001:db8:1:2::1"))
        #expect(ServiceContext.limitKey(nil) == "unknown")
        // As proxies write addresses, and as a dual-stack listener sees an IPv4 peer.
        for (text, expected) in [("1.2.3.4", "1.2.3.4"), (" 1.2.3.4:5678", "1.2.3.4"), ("[2001:db8::1]:443", "2001:db8::1"), ("[2001:db8::1]", "2001:db8::1"),
                                 ("2001:db8::1", "2001:db8::1"), ("::ffff:10.0.0.9", "10.0.0.9")] {
            #expect(ServiceContext.ipText(ServiceContext.address(parsing: text[...])) == expected, "\(text)")
        }
        for junk in ["unknown", "", "1.2.3", "[2001:db8::1", "_gazonk"] { #expect(ServiceContext.address(parsing: junk[...]) == nil, "\(junk)") }
    }

    @Test func aKeyKeepsItsCountAmongManyLiveKeys() {
        let limiter = RateLimiter(limit: 2, window: 300)
        #expect(limiter.allow("first").allowed && limiter.allow("first").allowed)
        for n in 0..<250_000 { _ = limiter.allow("address \(n)") }
        let third = limiter.allow("first")
        #expect(!third.allowed && (1...300).contains(third.retryAfter))
        #expect(limiter.allow("address 7").allowed && !limiter.allow("address 7").allowed)
    }

    /// Expired windows are dropped table by table as the tables fill, so the tables stay
    /// bounded by what is live (here: nothing, with a window of 0 seconds).
    @Test func expiredWindowsAreDroppedAsTheTablesFill() {
        let limiter = RateLimiter(limit: 1, window: 0)
        let allowed = (0..<300_000).filter { limiter.allow("token \($0)").allowed }.count
        #expect(allowed == 300_000)
        #expect(limiter.count < 100_000 + RateLimiter.tableCount, "\(limiter.count) entries kept")
    }
}
