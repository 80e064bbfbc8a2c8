@preconcurrency import Crypto
import Foundation
import Logging
import Synchronization

/// Delivers one-time passwords. The server never logs them; a real deployment sends SMS.
public protocol OTPSender: Sendable {
    func send(otp: String, mobile: String, transaction: String)
}

/// For tests and local runs: appends `{"txnId": …, "otp": …}` lines to a file (no mobile number).
/// Each line is one `write` in append mode, so instances that share the file (several
/// instances on one PostgreSQL store, one login going to two of them) never mix their lines.
public final class OutboxOTPSender: OTPSender {
    let path: String
    public init(path: String) { self.path = path }
    public func send(otp: String, mobile: String, transaction: String) {
        let line = Array("{\"txnId\":\"\(transaction)\",\"otp\":\"\(otp)\"}\n".utf8)
        let file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        let written = file < 0 ? -1 : line.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        if file >= 0 { close(file) }
        if written != line.count {
            BookingServer.logger.error("cannot write the OTP outbox \(path)")
        }
    }
}

/// OTP logins (their transactions in an ``OTPLedger``) and bearer tokens.
///
/// A token carries its own claims — account, partner, expiry — sealed with AES-GCM under a
/// key derived from the data key: every instance that shares the data key accepts it, a
/// restart does not log anybody out, and nothing about tokens is kept. A token cannot be
/// revoked before it expires (15 minutes by default).
final class Sessions: Sendable {
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
    private let vault: Vault
    private let ledger: any OTPLedger

    init(tokenLifetime: TimeInterval, vault: Vault, ledger: any OTPLedger = MemoryOTPLedger()) {
        self.tokenLifetime = tokenLifetime
        self.vault = vault
        self.ledger = ledger
    }

    private var tokenKey: Crypto.SymmetricKey { vault.tokenKey }

    /// A new transaction for `account` (the mobile's lookup key); returns its id and the code,
    /// unless one was sent less than ``resendSeconds`` ago or the mobile is locked for wrong codes.
    func begin(account: String, partner: String? = nil) async -> Result<(transaction: String, otp: String), APIError> {
        let otp = API.digits(Int.random(in: 0..<1_000_000), 6)
        let transaction = Vault.randomUUID()
        return await ledger.begin(transaction: transaction, account: account, partner: partner,
                                  codeHash: vault.codeHash(Vault.sha256Hex(otp))).map { (transaction, otp) }
    }

    /// Checks the SHA-256 (hex) of the code; returns a bearer token. A transaction begun by a
    /// partner is confirmed by the same partner only.
    func confirm(transaction: String, otpHash: String, partner: String? = nil) async -> Result<String, APIError> {
        switch await ledger.confirm(transaction: transaction, codeHash: vault.codeHash(otpHash), partner: partner) {
        case .failure(let error): return .failure(error)
        case .success(let account):
            guard let token = seal(Token(account: account, partner: partner, expires: Date() + tokenLifetime)) else {
                return .failure(APIError(500, "SRV0003", "cannot issue a token"))
            }
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

/// Fixed-window request counting per key (client address, token, partner): at most `limit`
/// per `window` seconds.
///
/// The windows are kept in 16 tables by the key's hash, each with its own lock. A table's
/// expired entries are dropped by a pass over that table, and growing it rehashes it, both
/// under its lock; with one table of every token of a busy day, each such pass stopped every
/// request for its length. Split in 16, a pass is a sixteenth as long and stops a sixteenth of
/// the requests (measured: the load test's p99 after 150,000 logins went from 23.6–32.1 ms to
/// about 12 ms; Benchmarks/RESULTS.md).
final class RateLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    static let tableCount = 16
    private struct Counts {
        var entries: [String: (start: Date, count: Int)] = [:]
        var prune = PruneMark(floor: 100_000 / RateLimiter.tableCount)
    }
    private final class Table: Sendable {
        let counts = Mutex(Counts())
    }
    private let tables = (0..<RateLimiter.tableCount).map { _ in Table() }

    init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Whether one more request from `key` is allowed now (at most `limit`, else the
    /// limiter's, per window); if not, seconds until it is.
    func allow(_ key: String, limit: Int? = nil) -> (allowed: Bool, retryAfter: Int) {
        let limit = limit ?? self.limit
        let table = tables[Int(UInt(bitPattern: key.hashValue) % UInt(Self.tableCount))]
        return table.counts.withLock { c in
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

    /// Keys with a window, live or not yet pruned (for tests).
    var count: Int { tables.reduce(0) { total, table in total + table.counts.withLock { $0.entries.count } } }
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
