import Foundation
import PostgresNIO
import Synchronization

/// Writes an instance's changes to the shared PostgreSQL journal, one batch at a time: under
/// the advisory lock it replays what other instances wrote since it last looked, decides the
/// batch on that whole state (idempotency, then the engine), appends the accepted records
/// and commits; only then are the requests answered. Between writes it catches up every
/// 200 ms, so availability reflects other instances' bookings within that time.
final class PostgresWriter: Sendable {
    struct Job: Sendable {
        let record: JournalRecord
        let encoded: Data
        let done: CheckedContinuation<Result<String, APIError>, Never>
    }

    private let state = Mutex((jobs: [Job](), last: Int64(0), failure: String?.none))
    private let signals: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let tasks = Mutex([Task<Void, Never>]())
    static let catchUpInterval: Duration = .milliseconds(200)

    init() { (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1)) }

    func start(_ store: BookingStore, log: PostgresLog, last: Int64) {
        state.withLock { $0.last = last }
        let (signals, wake) = (signals, wake)
        let writer = Task {
            for await _ in signals { await self.drain(store, log) }
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.catchUpInterval)
                wake.yield()
            }
        }
        tasks.withLock { $0 = [writer, ticker] }
    }

    /// Why writing stopped (not set by ``stop()``'s own stopping).
    var failure: String? { state.withLock { s in s.failure == Self.stopping ? nil : s.failure } }
    static let stopping = "the server is stopping"

    func stop() {
        let left = state.withLock { s in
            s.failure = s.failure ?? Self.stopping  // a later submit is answered at once
            defer { s.jobs = [] }
            return s.jobs
        }
        wake.finish()
        for task in tasks.withLock({ $0 }) { task.cancel() }
        for job in left { job.done.resume(returning: .failure(APIError(503, "SRV0002", "the server is stopping; try again"))) }
    }

    /// Queues a change; returns once it is committed in PostgreSQL (or refused).
    func submit(_ record: JournalRecord, _ encoded: Data) async -> Result<String, APIError> {
        await withCheckedContinuation { continuation in
            let failure = state.withLock { s -> String? in
                if s.failure == nil { s.jobs.append(Job(record: record, encoded: encoded, done: continuation)) }
                return s.failure
            }
            if failure != nil {
                continuation.resume(returning: .failure(Self.unavailable))
            } else {
                wake.yield()
            }
        }
    }

    private func drain(_ store: BookingStore, _ log: PostgresLog) async {
        while true {
            let (batch, last) = state.withLock { s in
                defer { s.jobs = [] }
                return (s.jobs, s.last)
            }
            if batch.isEmpty {
                await catchUp(store, log, after: last)
                return
            }
            await write(batch, store, log)
        }
    }

    /// Replays records other instances committed (no lock needed: they commit in sequence order).
    private func catchUp(_ store: BookingStore, _ log: PostgresLog, after last: Int64) async {
        guard state.withLock({ $0.failure }) == nil, let records = try? await log.records(after: last) else { return }
        for (sequence, data) in records {
            do { try store.replay(data) } catch {
                fail("record \(sequence) of another instance \(error.message)", log)
                return
            }
            state.withLock { $0.last = sequence }
        }
    }

    /// The answer once writing stopped; the reason is in the log, not in answers to clients.
    static let unavailable = APIError(503, "SRV0002", "the booking store is unavailable on this instance; try again later")

    /// Stops writing: the engine may hold a change PostgreSQL does not (or miss one it does),
    /// and only a restart rebuilds the state from the table.
    private func fail(_ why: String, _ log: PostgresLog) {
        let left = state.withLock { s in
            s.failure = why
            defer { s.jobs = [] }
            return s.jobs
        }
        log.logger.critical("PostgreSQL store stopped writing; restart this instance", metadata: ["reason": "\(why)"])
        for job in left { job.done.resume(returning: .failure(Self.unavailable)) }
    }

    private func write(_ batch: [Job], _ store: BookingStore, _ log: PostgresLog) async {
        if state.withLock({ $0.failure }) != nil {
            for job in batch { job.done.resume(returning: .failure(Self.unavailable)) }
            return
        }
        let changedLocally = Mutex(false)
        do {
            let (outcomes, written) = try await log.client.withTransaction(logger: log.logger) { connection -> ([Result<String, APIError>], Int64) in
                // (Every connection runs at READ COMMITTED with lock and statement timeouts: PostgresLog.init.)
                try await connection.query("SELECT pg_advisory_xact_lock(\(log.lockKey))", logger: log.logger)
                var last = state.withLock { $0.last }
                for (sequence, data) in try await log.records(after: last, on: connection) {
                    // Another instance's committed record: if it does not replay, this instance has diverged.
                    do throws(APIError) { try store.replay(data) } catch {
                        changedLocally.withLock { $0 = true }
                        throw APIError(500, "SRV0004", "record \(sequence) of another instance \(error.message)")
                    }
                    last = sequence
                    state.withLock { $0.last = sequence }
                }
                var toWrite: [Data] = []
                let outcomes = store.books.withLock { b in
                    batch.map { job -> Result<String, APIError> in
                        if let answer = BookingStore.earlierAnswer(job.record, b) { return answer }
                        let outcome = store.apply(job.record, &b)
                        if case .success = outcome { toWrite.append(job.encoded) }
                        return outcome
                    }
                }
                if !toWrite.isEmpty { changedLocally.withLock { $0 = true } }
                try await log.insert(toWrite, from: last + 1, on: connection)
                return (outcomes, Int64(toWrite.count))
            }
            state.withLock { $0.last += written }
            for (job, outcome) in zip(batch, outcomes) { job.done.resume(returning: outcome) }
        } catch {
            if changedLocally.withLock({ $0 }) {
                // The engine holds changes PostgreSQL may not: stop writing until a restart rebuilds the state.
                fail("a PostgreSQL write failed after the batch was applied: \(String(reflecting: error))", log)
            } else {
                log.logger.warning("PostgreSQL write failed before anything changed; answered 503", metadata: ["error": "\(String(reflecting: error))"])
            }
            for job in batch { job.done.resume(returning: .failure(APIError(503, "SRV0002", "storage failed, so the change may or may not have been stored; once the server is back, retry a request made with an Idempotency-Key under the same key, and check before repeating any other"))) }
        }
    }
}
