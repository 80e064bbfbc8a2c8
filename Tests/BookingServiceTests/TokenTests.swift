import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import BookingService

/// Bearer tokens carry their claims sealed under a key derived from the data key: any
/// instance with that key accepts them (no sticky sessions for booking calls), a restart
/// keeps them valid, and nothing else opens or forges one.
@Suite struct TokenTests {
    static func sessions(key: UInt8) throws -> Sessions {
        Sessions(tokenLifetime: 900, vault: try Vault(secret: Data(repeating: key, count: 32)))
    }

    @Test func aTokenCarriesItsClaimsAndExpires() throws {
        let sessions = try Self.sessions(key: 7)
        let account = Vault.sha256Hex("an account")
        let live = try #require(sessions.seal(Sessions.Token(account: account, partner: "cowin-app ✓", expires: Date() + 60)))
        let claims = try #require(sessions.token(bearer: live))
        #expect(claims.account == account && claims.partner == "cowin-app ✓")
        #expect(sessions.token(bearer: live.uppercased()) == nil, "one spelling per token: the per-token limit is keyed by the text")
        let publicFlow = try #require(sessions.seal(Sessions.Token(account: account, partner: nil, expires: Date() + 60)))
        #expect(sessions.token(bearer: publicFlow)?.partner == nil)
        let expired = try #require(sessions.seal(Sessions.Token(account: account, partner: nil, expires: Date() - 1)))
        #expect(sessions.token(bearer: expired) == nil)
        let forever = try #require(sessions.seal(Sessions.Token(account: account, partner: nil, expires: .distantFuture + .infinity)))
        #expect(sessions.token(bearer: forever)?.account == account, "an infinite lifetime is clamped, not a trap")
        #expect(sessions.seal(Sessions.Token(account: account, partner: String(repeating: "p", count: 256), expires: Date() + 60)) == nil)
        // Another key, a changed digit, a cut, junk, and the old 64-digit random tokens are all refused.
        #expect(try Self.sessions(key: 8).token(bearer: live) == nil)
        var digits = Array(live.utf8)
        digits[digits.count / 2] = digits[digits.count / 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(sessions.token(bearer: String(decoding: digits, as: UTF8.self)) == nil)
        #expect(sessions.token(bearer: String(live.dropLast(2))) == nil)
        for junk in ["", "zz", "abc", Vault.randomHex(bytes: 32), String(repeating: "ab", count: 5000), "é" + live] {
            #expect(sessions.token(bearer: junk) == nil)
        }
    }

    @Test func anotherInstanceWithTheSameKeyAcceptsTheToken() async throws {
        let first = try await ServerTests.harness(key: 7)
        let second = try await ServerTests.harness(key: 7)
        let stranger = try await ServerTests.harness(key: 9)
        defer { first.server.close(); second.server.close(); stranger.server.close() }
        let token = try await Application(router: first.server.router()).test(.live) { client in
            try await ServerTests.login(client, first, mobile: "9876501234")
        }
        try await Application(router: second.server.router()).test(.live) { client in
            let registered = try await ServerTests.register(client, token: token)
            #expect(registered.status == .ok, "a token issued by another instance with the same key")
            let mine = try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(mine.status == .ok && (ServerTests.json(mine)["beneficiaries"] as? [Any])?.count == 1)
        }
        try await Application(router: stranger.server.router()).test(.live) { client in
            let refused = try await ServerTests.register(client, token: token)
            #expect(refused.status == .unauthorized && ServerTests.json(refused)["errorCode"] as? String == "USRAUT0001")
        }
    }
}
