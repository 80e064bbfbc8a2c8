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

/// OTP transactions and bearer tokens, in memory (a restart logs everybody out; bookings stay).
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
    private struct State {
        var transactions: [String: Transaction] = [:]
        var tokens: [String: Token] = [:]
        var lastSent: [String: Date] = [:]
        var wrong: [String: (since: Date, count: Int)] = [:]
        var transactionsPrune = PruneMark(floor: 100_000)
        var tokensPrune = PruneMark(floor: 1_000_000)
    }
    private let state = Mutex(State())

    init(tokenLifetime: TimeInterval) { self.tokenLifetime = tokenLifetime }

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
            s.transactions[transaction] = nil
            if s.tokensPrune.isDue(s.tokens.count) {
                s.tokens = s.tokens.filter { $0.value.expires > now }
                s.tokensPrune.pruned(leaving: s.tokens.count)
            }
            let token = Vault.randomHex(bytes: 32)
            s.tokens[token] = Token(account: t.account, partner: t.partner, expires: now + tokenLifetime)
            return .success(token)
        }
    }

    /// The token, if it is valid.
    func token(bearer: String) -> Token? {
        state.withLock { s in
            guard let t = s.tokens[bearer], t.expires > Date() else { return nil }
            return t
        }
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

/// When a table that grows with traffic (OTP transactions, tokens, rate-limit windows) drops
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
