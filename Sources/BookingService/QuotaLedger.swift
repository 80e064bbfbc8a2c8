import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Where partners' per-minute quotas are counted: in the instance for the embedded store
/// (``RateLimiter``), and in PostgreSQL for instances that share a store (``SharedQuotas``),
/// so that a partner behind a load balancer gets its quota once, not once per instance.
protocol QuotaLedger: Sendable {
    /// Counts one request of the partner whose key hash is `partner` against `limit` a minute:
    /// whether it is allowed, and if not, the seconds until it would be.
    func admit(_ partner: String, limit: Int) -> (allowed: Bool, retryAfter: Int)
    /// Stops any background work (a closed server).
    func stop()
}

extension RateLimiter: QuotaLedger {
    func admit(_ partner: String, limit: Int) -> (allowed: Bool, retryAfter: Int) { allow(partner, limit: limit) }
    func stop() {}
}

/// Partner quotas shared through PostgreSQL (migration 3: `partner_usage`, one row per partner
/// and minute). A request is admitted from memory, against the minute's count of every
/// instance as last read plus this instance's requests since; every `syncInterval` the
/// instance adds its new requests to the table and reads every instance's counts back, in one
/// round trip. Minutes are aligned to the clock (the instances' clocks are assumed synchronised,
/// as NTP keeps them), so every instance counts the same window.
///
/// The price of not asking the database on every request: each instance admits on a count that
/// lacks the others' latest requests, those since their last sync and since its own last read,
/// so a partner can exceed its quota by what the other instances admit it in about two
/// `syncInterval`s plus a round trip (half a second with the default quarter second). If the
/// database cannot be reached, each instance counts only its own requests (a warning says so
/// once) and writes them at the first sync that succeeds.
final class SharedQuotas: QuotaLedger {
    private struct Usage {
        /// The minute counted (seconds since 1970 of its start).
        var window: Int
        /// Requests of every instance in the minute, as last read from the table (this instance's written ones included).
        var known: Int
        /// This instance's requests being written by a sync, not yet in `known`.
        var inflight = 0
        /// This instance's requests not yet written.
        var pending: Int
        var total: Int { known + inflight + pending }
    }

    let log: PostgresLog
    var table: String { "\(log.schema).partner_usage" }
    private let usage = Mutex([String: Usage]())
    private let syncing = Mutex<Task<Void, Never>?>(nil)
    /// The last sync started: each waits for the one before, so syncs never overlap (an older
    /// read finishing last would set a count from before a newer write).
    private let lastSync = Mutex<Task<Void, any Error>?>(nil)
    private static let window = 60

    init(log: PostgresLog, syncInterval: Duration = .milliseconds(250)) {
        self.log = log
        let task = Task { [weak self] in
            var failing = false
            while true {
                do { try await Task.sleep(for: syncInterval) } catch { return }  // stopped
                guard let self else { return }
                do {
                    try await self.sync()
                    if failing { BookingServer.logger.warning("partner quotas: syncing with the other instances again") }
                    failing = false
                } catch {
                    // Once per run of failures: meanwhile each instance counts only what it admitted itself.
                    if !failing {
                        BookingServer.logger.warning("partner quotas: cannot sync with the other instances; each counts only its own requests until it can",
                                                     metadata: ["error": "\(String(reflecting: type(of: error)))"])
                    }
                    failing = true
                }
            }
        }
        syncing.withLock { $0 = task }
    }

    static func minute(_ date: Date) -> (window: Int, second: Int) {
        let now = Int(date.timeIntervalSince1970.rounded(.down))
        let second = ((now % window) + window) % window
        return (now - second, second)
    }

    func admit(_ partner: String, limit: Int) -> (allowed: Bool, retryAfter: Int) {
        let (window, second) = Self.minute(Date())
        return usage.withLock { all in
            var u = all[partner] ?? Usage(window: window, known: 0, pending: 0)
            if u.window != window { u = Usage(window: window, known: 0, pending: 0) }
            guard u.total < limit else {
                all[partner] = u
                return (false, Self.window - second)
            }
            u.pending += 1
            all[partner] = u
            return (true, 0)
        }
    }

    /// Writes this instance's new requests and reads every instance's counts of the current
    /// minute back, after any sync already running (tests call it to make the instances agree at once).
    func sync() async throws {
        let task = lastSync.withLock { last -> Task<Void, any Error> in
            let previous = last
            let next = Task { [self] in
                _ = await previous?.result
                try await syncOnce()
            }
            last = next
            return next
        }
        try await task.value
    }

    private func syncOnce() async throws {
        let (window, _) = Self.minute(Date())
        // Moved from `pending` to `inflight` now (still counted); back to `pending` if the write fails.
        let taken: [(partner: String, window: Int, count: Int)] = usage.withLock { all in
            var taken: [(String, Int, Int)] = []
            for (partner, u) in all where u.pending > 0 {
                taken.append((partner, u.window, u.pending))
                all[partner]!.inflight += u.pending
                all[partner]!.pending = 0
            }
            // Minutes that are over are forgotten (their requests were written, or are moot now).
            all = all.filter { $0.value.window >= window }
            // In one order on every instance, so two upserts never wait on each other's rows.
            return taken.sorted { $0.0 < $1.0 }
        }
        let counts: [(String, Int)]
        do {
            // One transaction: either the requests are written and counted, or neither (then they
            // go back to `pending`, and are written once, by a later sync).
            counts = try await log.client.withTransaction(logger: log.logger) { connection in
                if !taken.isEmpty {
                    var b = PostgresBindings()
                    b.append(taken.map(\.partner))
                    b.append(taken.map { Int64($0.window) })
                    b.append(taken.map { Int64($0.count) })
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO \(table) AS u (partner, window_start, used)
                        SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[])
                        ON CONFLICT (partner, window_start) DO UPDATE SET used = u.used + EXCLUDED.used
                        """, binds: b), logger: log.logger)
                }
                var w = PostgresBindings()
                w.append(Int64(window))
                let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT partner, used FROM \(table) WHERE window_start = $1", binds: w),
                                                      logger: log.logger)
                var counts: [(String, Int)] = []
                for try await (partner, used) in rows.decode((String, Int64).self) { counts.append((partner, Int(used))) }
                return counts
            }
        } catch {
            usage.withLock { all in
                for t in taken where all[t.partner]?.window == t.window {
                    all[t.partner]!.inflight -= t.count
                    all[t.partner]!.pending += t.count
                }
            }
            throw error
        }
        usage.withLock { all in
            // The written requests are in the counts read after them.
            for t in taken where all[t.partner]?.window == t.window { all[t.partner]!.inflight -= t.count }
            for (partner, used) in counts {
                if all[partner]?.window == window {
                    all[partner]!.known = used
                } else if all[partner] == nil {
                    all[partner] = Usage(window: window, known: used, pending: 0)
                }
            }
        }
        // In the first second of a minute, rows an hour old are dropped: housekeeping, apart from
        // the counting (a failure here changes no count).
        if Self.minute(Date()).second < 1 {
            var w = PostgresBindings()
            w.append(Int64(window))
            _ = try? await log.client.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE window_start < $1 - 3600", binds: w), logger: log.logger)
        }
    }

    /// Stops the syncing. Requests admitted since the last sync (a quarter second's) are not
    /// written: the other instances undercount them for the rest of the minute.
    func stop() {
        syncing.withLock { $0?.cancel() }
    }

    deinit {
        syncing.withLock { $0?.cancel() }
    }
}
