@preconcurrency import Crypto
import Foundation
import Synchronization

/// Delivers one-time passwords. The server never logs them; a real deployment sends SMS.
public protocol OTPSender: Sendable {
    func send(otp: String, mobile: String, transaction: String)
}

/// For tests and local runs: appends `{"txnId": …, "otp": …}` lines to a file (no mobile number).
public final class OutboxOTPSender: OTPSender {
    let path: String
    let lock = Mutex(())
    public init(path: String) { self.path = path }
    public func send(otp: String, mobile: String, transaction: String) {
        lock.withLock { _ in
            let line = Data("{\"txnId\":\"\(transaction)\",\"otp\":\"\(otp)\"}\n".utf8)
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(line)
                try? handle.close()
            } else {
                FileManager.default.createFile(atPath: path, contents: line, attributes: [.posixPermissions: 0o600])
            }
        }
    }
}

/// OTP transactions (in memory: a login's two calls go to one instance) and bearer tokens.
///
/// A token carries its own claims — account, partner, expiry — sealed with AES-GCM under a
/// key derived from the data key: every instance that shares the data key accepts it, a
/// restart does not log anybody out, and nothing about tokens is kept. A token cannot be
/// revoked before it expires (15 minutes by default).
final class Sessions: Sendable {
    struct Transaction: Sendable {
        var account: String
        /// The partner whose key began the partner flow (nil: the public flow).
        var partner: String?
        var otpHash: String
        var expires: Date
        var attempts: Int
    }
    struct Token: Sendable {
        var account: String
        /// A token from the partner flow is used with that partner's key only.
        var partner: String?
        var expires: Date
    }
    static let otpLifetime: TimeInterval = 180
    static let otpAttemptsMax = 3
    /// One OTP per mobile per this many seconds (CoWIN: 180), and at most this many wrong codes per mobile a day.
    static let resendSeconds: TimeInterval = 180
    static let wrongCodesPerDayMax = 10
    let tokenLifetime: TimeInterval
    private let tokenKey: Crypto.SymmetricKey
    private struct State {
        var transactions: [String: Transaction] = [:]
        var lastSent: [String: Date] = [:]
        var wrong: [String: (since: Date, count: Int)] = [:]
        var transactionsPrune = PruneMark(floor: 100_000)
    }
    private let state = Mutex(State())

    init(tokenLifetime: TimeInterval, tokenKey: Crypto.SymmetricKey) {
        self.tokenLifetime = tokenLifetime
        self.tokenKey = tokenKey
    }

    /// A new transaction for `account` (the mobile's lookup key); returns its id and the code,
    /// unless one was sent less than ``resendSeconds`` ago or the mobile is locked for wrong codes.
    func begin(account: String, partner: String? = nil) -> Result<(transaction: String, otp: String), APIError> {
        let otp = API.digits(Int.random(in: 0..<1_000_000), 6)
        let transaction = Vault.randomUUID()
        return state.withLock { s in
            let now = Date()
            if let last = s.lastSent[account], now.timeIntervalSince(last) < Self.resendSeconds {
                return .failure(APIError(429, "USRAUT0005", "an OTP was sent to this mobile less than 3 minutes ago; retry after \(Int(Self.resendSeconds - now.timeIntervalSince(last)) + 1)"))
            }
            if let wrong = s.wrong[account], now.timeIntervalSince(wrong.since) < 86_400, wrong.count >= Self.wrongCodesPerDayMax {
                return .failure(APIError(429, "USRAUT0006", "too many wrong codes for this mobile today; retry after \(Int(86_400 - now.timeIntervalSince(wrong.since)) + 1)"))
            }
            if s.transactionsPrune.isDue(max(s.transactions.count, s.lastSent.count, s.wrong.count)) {
                s.transactions = s.transactions.filter { $0.value.expires > now }
                s.lastSent = s.lastSent.filter { now.timeIntervalSince($0.value) < Self.resendSeconds }
                s.wrong = s.wrong.filter { now.timeIntervalSince($0.value.since) < 86_400 }
                s.transactionsPrune.pruned(leaving: max(s.transactions.count, s.lastSent.count, s.wrong.count))
            }
            s.lastSent[account] = now
            s.transactions[transaction] = Transaction(account: account, partner: partner, otpHash: Vault.sha256Hex(otp), expires: now + Self.otpLifetime, attempts: 0)
            return .success((transaction, otp))
        }
    }

    /// Checks the SHA-256 (hex) of the code; returns a bearer token. A transaction begun by a
    /// partner is confirmed by the same partner only.
    func confirm(transaction: String, otpHash: String, partner: String? = nil) -> Result<String, APIError> {
        state.withLock { s in
            let now = Date()
            guard var t = s.transactions[transaction], t.expires > now, t.partner == partner else {
                return .failure(APIError(401, "USRAUT0003", "unknown or expired txnId"))
            }
            guard t.otpHash == otpHash.lowercased() else {
                var wrong = s.wrong[t.account] ?? (now, 0)
                if now.timeIntervalSince(wrong.since) >= 86_400 { wrong = (now, 0) }
                wrong.count += 1
                s.wrong[t.account] = wrong
                t.attempts += 1
                s.transactions[transaction] = t.attempts >= Self.otpAttemptsMax ? nil : t
                return .failure(APIError(401, "USRAUT0004", "invalid OTP"))
            }
            guard let token = seal(Token(account: t.account, partner: t.partner, expires: now + tokenLifetime)) else {
                return .failure(APIError(500, "SRV0003", "cannot issue a token"))
            }
            s.transactions[transaction] = nil
            return .success(token)
        }
    }

    /// The token's claims, if it was sealed by an instance with the same data key and has not expired.
    func token(bearer: String) -> Token? {
        guard let sealed = Vault.bytes(hex: bearer), sealed.count >= Self.sealOverhead + 9,
              let box = try? AES.GCM.SealedBox(combined: sealed),
              let claims = try? [UInt8](AES.GCM.open(box, using: tokenKey)) else { return nil }
        // claims: expiry (8 bytes, little-endian seconds since 1970), partner length (1), partner, account
        let expires = claims[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let partnerLength = Int(claims[8])
        guard claims.count >= 9 + partnerLength else { return nil }
        let partner = partnerLength == 0 ? nil : String(decoding: claims[9..<(9 + partnerLength)], as: UTF8.self)
        let account = String(decoding: claims[(9 + partnerLength)...], as: UTF8.self)
        let token = Token(account: account, partner: partner, expires: Date(timeIntervalSince1970: TimeInterval(expires)))
        return token.expires > Date() ? token : nil
    }

    /// Nonce and tag of a sealed token.
    static let sealOverhead = 12 + 16

    /// The token of `claims`: hex of their AES-GCM seal (nil only for a partner name over 255 bytes).
    func seal(_ claims: Token) -> String? {
        let partner = Array((claims.partner ?? "").utf8)
        guard partner.count <= 255 else { return nil }
        // Clamped: a lifetime of .infinity (or NaN) in the configuration must not trap here.
        let seconds = claims.expires.timeIntervalSince1970.rounded(.up)
        let expires = seconds.isNaN ? 0 : UInt64(min(max(0, seconds), 1e15))
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: expires >> (8 * $0)) }
        bytes.append(UInt8(partner.count))
        bytes += partner
        bytes += Array(claims.account.utf8)
        guard let combined = try? AES.GCM.seal(bytes, using: tokenKey).combined else { return nil }
        return Vault.hex(combined)
    }
}

/// Fixed-window request counting per key (client address): at most `limit` per `window` seconds.
final class RateLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    private struct Counts {
        var entries: [String: (start: Date, count: Int)] = [:]
        var prune = PruneMark(floor: 100_000)
    }
    private let counts = Mutex(Counts())

    init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Whether one more request from `key` is allowed now (at most `limit`, else the
    /// limiter's, per window); if not, seconds until it is.
    func allow(_ key: String, limit: Int? = nil) -> (allowed: Bool, retryAfter: Int) {
        let limit = limit ?? self.limit
        return counts.withLock { c in
            let now = Date()
            if c.prune.isDue(c.entries.count) {
                c.entries = c.entries.filter { now.timeIntervalSince($0.value.start) < window }
                c.prune.pruned(leaving: c.entries.count)
            }
            var entry = c.entries[key] ?? (now, 0)
            if now.timeIntervalSince(entry.start) >= window { entry = (now, 0) }
            entry.count += 1
            c.entries[key] = entry
            return entry.count <= limit ? (true, 0) : (false, Int((window - now.timeIntervalSince(entry.start)).rounded(.up)))
        }
    }
}

/// When a table that grows with traffic (OTP transactions, rate-limit windows) drops
/// its expired entries: once it holds `floor` entries, and after that only once it has doubled
/// what the last pruning left. Pruning at a fixed size re-scanned the whole table on every
/// request whenever more than that many entries were still live (on a national booking day,
/// 100,000 OTPs in their 3 minutes is ~560 a second), which made each request O(table).
struct PruneMark {
    let floor: Int
    private(set) var mark: Int

    init(floor: Int) {
        self.floor = floor
        mark = floor
    }

    func isDue(_ count: Int) -> Bool { count >= mark }

    mutating func pruned(leaving count: Int) { mark = max(floor, 2 * count) }
}
