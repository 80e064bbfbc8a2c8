import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Where login transactions and each mobile's OTP limits live. One instance on the embedded
/// store keeps them in memory; instances that share a PostgreSQL store keep them in its
/// database, so the two calls of a login may reach different instances and the limits (one
/// code per mobile per 3 minutes, 3 tries per code, 10 wrong codes per mobile a day) hold
/// across all of them. Codes are kept only as keyed hashes (``Vault/codeHash(_:)``): a
/// 6-digit code's plain SHA-256 is undone by trying a million codes.
protocol OTPLedger: Sendable {
    /// Records `transaction` for `account` (a mobile's lookup key) and the code's keyed hash,
    /// unless a code went to the mobile less than ``Sessions/resendSeconds`` ago or the mobile
    /// is locked for wrong codes (429, with the seconds to wait).
    func begin(transaction: String, account: String, partner: String?, codeHash: String) async -> Result<Void, APIError>
    /// Ends `transaction` if `codeHash` is its code's and it is live and `partner`'s (nil: the
    /// public flow); returns its account. A wrong code counts against the transaction and the
    /// mobile, and ends the transaction at the third.
    func confirm(transaction: String, codeHash: String, partner: String?) async -> Result<String, APIError>
}

extension OTPLedger {
    static func resendRefusal(retryAfter seconds: Int) -> APIError {
        APIError(429, "USRAUT0005", "an OTP was sent to this mobile less than 3 minutes ago; retry after \(seconds)")
    }
    static func lockedRefusal(retryAfter seconds: Int) -> APIError {
        APIError(429, "USRAUT0006", "too many wrong codes for this mobile today; retry after \(seconds)")
    }
    static var unknownTransaction: APIError { APIError(401, "USRAUT0003", "unknown or expired txnId") }
    static var wrongCode: APIError { APIError(401, "USRAUT0004", "invalid OTP") }
}

/// The ledger of one instance, in memory.
final class MemoryOTPLedger: OTPLedger {
    private struct Transaction {
        var account: String
        var partner: String?
        var codeHash: String
        var expires: Date
        var attempts: Int
    }
    private struct State {
        var transactions: [String: Transaction] = [:]
        var lastSent: [String: Date] = [:]
        var wrong: [String: (since: Date, count: Int)] = [:]
        var prune = PruneMark(floor: 100_000)
    }
    private let state = Mutex(State())

    func begin(transaction: String, account: String, partner: String?, codeHash: String) async -> Result<Void, APIError> {
        state.withLock { s in
            let now = Date()
            if let last = s.lastSent[account], now.timeIntervalSince(last) < Sessions.resendSeconds {
                return .failure(Self.resendRefusal(retryAfter: Int(Sessions.resendSeconds - now.timeIntervalSince(last)) + 1))
            }
            if let wrong = s.wrong[account], now.timeIntervalSince(wrong.since) < 86_400, wrong.count >= Sessions.wrongCodesPerDayMax {
                return .failure(Self.lockedRefusal(retryAfter: Int(86_400 - now.timeIntervalSince(wrong.since)) + 1))
            }
            if s.prune.isDue(max(s.transactions.count, s.lastSent.count, s.wrong.count)) {
                s.transactions = s.transactions.filter { $0.value.expires > now }
                s.lastSent = s.lastSent.filter { now.timeIntervalSince($0.value) < Sessions.resendSeconds }
                s.wrong = s.wrong.filter { now.timeIntervalSince($0.value.since) < 86_400 }
                s.prune.pruned(leaving: max(s.transactions.count, s.lastSent.count, s.wrong.count))
            }
            s.lastSent[account] = now
            s.transactions[transaction] = Transaction(account: account, partner: partner, codeHash: codeHash,
                                                      expires: now + Sessions.otpLifetime, attempts: 0)
            return .success(())
        }
    }

    func confirm(transaction: String, codeHash: String, partner: String?) async -> Result<String, APIError> {
        state.withLock { s in
            let now = Date()
            guard var t = s.transactions[transaction], t.expires > now, t.partner == partner else { return .failure(Self.unknownTransaction) }
            guard t.codeHash == codeHash else {
                var wrong = s.wrong[t.account] ?? (now, 0)
                if now.timeIntervalSince(wrong.since) >= 86_400 { wrong = (now, 0) }
                wrong.count += 1
                s.wrong[t.account] = wrong
                t.attempts += 1
                s.transactions[transaction] = t.attempts >= Sessions.otpAttemptsMax ? nil : t
                return .failure(Self.wrongCode)
            }
            s.transactions[transaction] = nil
            return .success(t.account)
        }
    }
}

/// The ledger of instances that share a PostgreSQL store: two tables in the store's schema
/// (migration 2). Each call is one short transaction that locks the one row it decides on
/// (the mobile's, or the transaction's), so two instances never both accept a code or both
/// send one inside the 3 minutes, with two statements between BEGIN and COMMIT (the ledger
/// shares the journal's pool of connections). Times are the database's: one clock for all.
final class PostgresOTPLedger: OTPLedger {
    let log: PostgresLog
    /// A call without an answer by then is answered 503 (and rolls back if it gets that far):
    /// a pool that cannot connect waits without end, and a query on a dropped connection
    /// until TCP gives up.
    let deadlineSeconds: Double

    init(log: PostgresLog, deadlineSeconds: Double = 10) {
        self.log = log
        self.deadlineSeconds = deadlineSeconds
    }

    var transactions: String { "\(log.schema).otp_transactions" }
    var accounts: String { "\(log.schema).otp_accounts" }

    static let unavailable = APIError(503, "SRV0004", "the login store is unavailable; try again later")

    func begin(transaction: String, account: String, partner: String?, codeHash: String) async -> Result<Void, APIError> {
        let outcome: Result<Void, APIError> = await answered { [transactions, accounts, log] in
            try await log.client.withTransaction(logger: log.logger) { connection -> Result<Void, APIError> in
                var b = PostgresBindings()
                b.append(account)
                // The upsert locks the mobile's row (a concurrent login for it waits here) and says how long ago its last code and its wrong codes were.
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(accounts) AS a (account) VALUES ($1) ON CONFLICT (account) DO UPDATE SET account = EXCLUDED.account
                    RETURNING coalesce(extract(epoch FROM now() - a.last_sent)::float8, 1e12),
                              coalesce(extract(epoch FROM now() - a.wrong_since)::float8, 1e12), a.wrong_count::int8
                    """, binds: b), logger: log.logger)
                var found: (sent: Double, wrong: Double, count: Int)?
                for try await row in rows.decode((Double, Double, Int).self) { found = row }
                guard let (sentAgo, wrongAgo, wrongCount) = found else { return .failure(Self.unavailable) }
                if sentAgo < Sessions.resendSeconds { return .failure(Self.resendRefusal(retryAfter: Int(Sessions.resendSeconds - sentAgo) + 1)) }
                if wrongAgo < 86_400, wrongCount >= Sessions.wrongCodesPerDayMax {
                    return .failure(Self.lockedRefusal(retryAfter: Int(86_400 - wrongAgo) + 1))
                }
                var t = PostgresBindings()
                t.append(transaction)
                t.append(account)
                t.append(partner ?? "")
                t.append(codeHash)
                t.append(Int(Sessions.otpLifetime))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    WITH sent AS (UPDATE \(accounts) SET last_sent = now() WHERE account = $2)
                    INSERT INTO \(transactions) (txn_id, account, partner, code_hash, expires_at)
                    VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8))
                    """, binds: t), logger: log.logger)
                // Past the deadline the request was answered 503: roll back rather than leave a code nobody was sent.
                try Task.checkCancellation()
                return .success(())
            }
        }
        if case .success = outcome, Int.random(in: 0..<64) == 0 { Task { await self.prune() } }
        return outcome
    }

    func confirm(transaction: String, codeHash: String, partner: String?) async -> Result<String, APIError> {
        // Ids are UUIDs: anything else is unknown, and a NUL (which `text` refuses) never reaches
        // the database. `UUID(uuidString:)` alone reads up to a NUL and accepts what follows it.
        let canonical = transaction.utf8.count == 36 && transaction.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0.isHexDigit }
        guard canonical, UUID(uuidString: transaction) != nil else { return .failure(Self.unknownTransaction) }
        return await answered { [transactions, accounts, log] in
            try await log.client.withTransaction(logger: log.logger) { connection -> Result<String, APIError> in
                var b = PostgresBindings()
                b.append(transaction)
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT account, partner, code_hash, expires_at > now(), attempts::int8 FROM \(transactions) WHERE txn_id = $1 FOR UPDATE
                    """, binds: b), logger: log.logger)
                var found: (account: String, partner: String, code: String, live: Bool, attempts: Int)?
                for try await row in rows.decode((String, String, String, Bool, Int).self) { found = row }
                guard let t = found, t.live, t.partner == (partner ?? "") else { return .failure(Self.unknownTransaction) }
                guard t.code == codeHash else {
                    var w = PostgresBindings()
                    w.append(transaction)
                    w.append(t.account)
                    // The third wrong code ends the transaction; every wrong code counts against the mobile's day.
                    let attempt = t.attempts + 1 >= Sessions.otpAttemptsMax ? "DELETE FROM \(transactions) WHERE txn_id = $1"
                        : "UPDATE \(transactions) SET attempts = attempts + 1 WHERE txn_id = $1"
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        WITH attempt AS (\(attempt))
                        UPDATE \(accounts) SET
                            wrong_count = CASE WHEN wrong_since IS NULL OR wrong_since <= now() - interval '1 day' THEN 1 ELSE wrong_count + 1 END,
                            wrong_since = CASE WHEN wrong_since IS NULL OR wrong_since <= now() - interval '1 day' THEN now() ELSE wrong_since END
                        WHERE account = $2
                        """, binds: w), logger: log.logger)
                    try Task.checkCancellation()
                    return .failure(Self.wrongCode)
                }
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(transactions) WHERE txn_id = $1", binds: b), logger: log.logger)
                // Past the deadline the request was answered 503: roll back, so the code still works for a retry.
                try Task.checkCancellation()
                return .success(t.account)
            }
        }
    }

    /// Drops expired transactions, and mobiles whose limits have all lapsed, a batch at a
    /// time: every 64th login starts it, after its own transaction, and it skips rows
    /// that another call holds (the conditions are checked again on the locked rows).
    func prune() async {
        do {
            try await log.client.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(transactions) WHERE txn_id IN
                    (SELECT txn_id FROM \(transactions) WHERE expires_at < now() LIMIT 256 FOR UPDATE SKIP LOCKED)
                AND expires_at < now()
                """), logger: log.logger)
            try await log.client.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(accounts) WHERE account IN
                    (SELECT account FROM \(accounts) WHERE last_sent < now() - interval '1 day'
                         AND (wrong_since IS NULL OR wrong_since < now() - interval '1 day') LIMIT 256 FOR UPDATE SKIP LOCKED)
                AND last_sent < now() - interval '1 day' AND (wrong_since IS NULL OR wrong_since < now() - interval '1 day')
                """), logger: log.logger)
        } catch {
            log.logger.warning("OTP ledger: pruning failed (\(type(of: error)))")
        }
    }

    /// `call`'s outcome, or 503 if it failed or has no answer within ``deadlineSeconds``. The
    /// call runs in a task of its own, cancelled at the deadline; the request does not wait
    /// for it (a query in flight does not stop when cancelled).
    private func answered<T: Sendable>(_ call: @escaping @Sendable () async throws -> Result<T, APIError>) async -> Result<T, APIError> {
        let answer = Answer<T>(), deadline = deadlineSeconds, logger = log.logger
        return await withCheckedContinuation { continuation in
            answer.waiting(continuation)
            let work = Task {
                do {
                    answer.give(try await call())
                } catch {
                    // The type only: a PostgreSQL error's description carries the query and its binds.
                    logger.warning("OTP ledger: \(type(of: error))")
                    answer.give(.failure(Self.unavailable))
                }
            }
            answer.timer(Task {
                try? await Task.sleep(for: .seconds(deadline))
                guard !Task.isCancelled, answer.give(.failure(Self.unavailable)) else { return }
                work.cancel()
                logger.warning("OTP ledger: no answer from PostgreSQL in \(deadline) s")
            })
        }
    }
}

/// The first of a ledger call's outcome and its deadline, handed once to the request that waits.
private final class Answer<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, APIError>, Never>?
        var given = false
        var timer: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func waiting(_ continuation: CheckedContinuation<Result<T, APIError>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The deadline's task: cancelled as soon as the outcome is given (at once if it already was).
    func timer(_ task: Task<Void, Never>) {
        let given = state.withLock { s in
            s.timer = task
            return s.given
        }
        if given { task.cancel() }
    }

    /// Resumes the waiting request with `outcome` unless it has one already; returns whether it did.
    @discardableResult
    func give(_ outcome: Result<T, APIError>) -> Bool {
        let taken = state.withLock { s -> (CheckedContinuation<Result<T, APIError>, Never>?, Task<Void, Never>?)? in
            guard !s.given else { return nil }
            s.given = true
            defer { s.continuation = nil }
            return (s.continuation, s.timer)
        }
        guard let (continuation, timer) = taken else { return false }
        timer?.cancel()
        continuation?.resume(returning: outcome)
        return true
    }
}

private extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x61...0x66).contains(self | 0x20) }
}
