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
/// (migration 2), read and written in short transactions that lock the one row they decide
/// on (the mobile's, or the transaction's), so two instances never both accept a code or
/// both send one inside the 3 minutes. Times are the database's, one clock for all instances.
final class PostgresOTPLedger: OTPLedger {
    let log: PostgresLog
    /// A call that has no answer by then is answered 503: the connection pool waits without
    /// end for a database it cannot reach.
    let deadlineSeconds: Double

    init(log: PostgresLog, deadlineSeconds: Double = 10) {
        self.log = log
        self.deadlineSeconds = deadlineSeconds
    }

    var transactions: String { "\(log.schema).otp_transactions" }
    var accounts: String { "\(log.schema).otp_accounts" }

    static let unavailable = APIError(503, "SRV0004", "the login store is unavailable; try again later")

    func begin(transaction: String, account: String, partner: String?, codeHash: String) async -> Result<Void, APIError> {
        await answered { [transactions, accounts, log] in
            try await log.client.withTransaction(logger: log.logger) { connection -> Result<Void, APIError> in
                var b = PostgresBindings()
                b.append(account)
                try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(accounts) (account) VALUES ($1) ON CONFLICT (account) DO NOTHING", binds: b),
                                           logger: log.logger)
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT coalesce(extract(epoch FROM now() - last_sent)::float8, 1e12),
                           coalesce(extract(epoch FROM now() - wrong_since)::float8, 1e12), wrong_count::int8
                    FROM \(accounts) WHERE account = $1 FOR UPDATE
                    """, binds: b), logger: log.logger)
                var found: (sent: Double, wrong: Double, count: Int)?
                for try await row in rows.decode((Double, Double, Int).self) { found = row }
                guard let (sentAgo, wrongAgo, wrongCount) = found else { return .failure(Self.unavailable) }
                if sentAgo < Sessions.resendSeconds { return .failure(Self.resendRefusal(retryAfter: Int(Sessions.resendSeconds - sentAgo) + 1)) }
                if wrongAgo < 86_400, wrongCount >= Sessions.wrongCodesPerDayMax {
                    return .failure(Self.lockedRefusal(retryAfter: Int(86_400 - wrongAgo) + 1))
                }
                try await connection.query(PostgresQuery(unsafeSQL: "UPDATE \(accounts) SET last_sent = now() WHERE account = $1", binds: b),
                                           logger: log.logger)
                var t = PostgresBindings()
                t.append(transaction)
                t.append(account)
                t.append(partner ?? "")
                t.append(codeHash)
                t.append(Int(Sessions.otpLifetime))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(transactions) (txn_id, account, partner, code_hash, expires_at)
                    VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8))
                    """, binds: t), logger: log.logger)
                // Each login clears a few expired rows, so the tables stay the size of a day's traffic.
                try await connection.query(PostgresQuery(unsafeSQL: """
                    DELETE FROM \(transactions) WHERE txn_id IN (SELECT txn_id FROM \(transactions) WHERE expires_at < now() LIMIT 4)
                    """), logger: log.logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    DELETE FROM \(accounts) WHERE account IN (SELECT account FROM \(accounts)
                        WHERE last_sent < now() - interval '1 day' AND (wrong_since IS NULL OR wrong_since < now() - interval '1 day') LIMIT 4)
                    """), logger: log.logger)
                return .success(())
            }
        }
    }

    func confirm(transaction: String, codeHash: String, partner: String?) async -> Result<String, APIError> {
        await answered { [transactions, accounts, log] in
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
                    var a = PostgresBindings()
                    a.append(t.account)
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        UPDATE \(accounts) SET
                            wrong_count = CASE WHEN wrong_since IS NULL OR wrong_since <= now() - interval '1 day' THEN 1 ELSE wrong_count + 1 END,
                            wrong_since = CASE WHEN wrong_since IS NULL OR wrong_since <= now() - interval '1 day' THEN now() ELSE wrong_since END
                        WHERE account = $1
                        """, binds: a), logger: log.logger)
                    let sql = t.attempts + 1 >= Sessions.otpAttemptsMax ? "DELETE FROM \(transactions) WHERE txn_id = $1"
                        : "UPDATE \(transactions) SET attempts = attempts + 1 WHERE txn_id = $1"
                    try await connection.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: log.logger)
                    return .failure(Self.wrongCode)
                }
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(transactions) WHERE txn_id = $1", binds: b), logger: log.logger)
                return .success(t.account)
            }
        }
    }

    /// `call`'s outcome, or 503 if it failed or had no answer within ``deadlineSeconds`` (the
    /// call is then cancelled, and a pool still waiting to connect lets go at once: the two
    /// calls of `aLoginWithoutItsDatabaseIsA503` take about twice the deadline).
    private func answered<T: Sendable>(_ call: @escaping @Sendable () async throws -> Result<T, APIError>) async -> Result<T, APIError> {
        let deadline = deadlineSeconds
        do {
            return try await withThrowingTaskGroup(of: Result<T, APIError>?.self) { group in
                group.addTask { try await call() }
                group.addTask {
                    try await Task.sleep(for: .seconds(deadline))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let outcome = first else {
                    log.logger.warning("OTP ledger: no answer from PostgreSQL in \(deadline) s")
                    return .failure(Self.unavailable)
                }
                return outcome
            }
        } catch {
            log.logger.warning("OTP ledger: \(error)")
            return .failure(Self.unavailable)
        }
    }
}
