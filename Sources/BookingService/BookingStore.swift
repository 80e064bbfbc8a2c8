import Foundation
import HashTreeCollections
import Logging
import SlotAllocation
import Synchronization

/// A refusal as the API reports it: HTTP status, CoWIN-style error code and words.
struct APIError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
    init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
    static func badRequest(_ message: String) -> APIError { APIError(400, "USRRES0001", message) }
}

/// One change of state, as the journal keeps it; replaying them in order rebuilds the state.
enum JournalRecord: Codable, Sendable {
    /// The first record: day 0 (seconds since 1970 of its midnight in India), a hash of the
    /// topology and policy the journal's decisions were made under, and a check of the data key.
    case header(epoch: Int, topology: String, keyCheck: String)
    case beneficiary(reference: String, account: String, sealedName: Data, sealedPhotoID: Data, photoIDType: String,
                     birthYear: Int, gender: String)
    case schedule(appointment: String, account: String, beneficiaries: [String], session: String, slot: Int, dose: Int,
                  now: Int, idempotencyKey: String?)
    case cancel(appointment: String, account: String, beneficiaries: [String], now: Int, idempotencyKey: String?)
    /// Every beneficiary of the appointment moved to `session` and `slot`, all or none.
    case reschedule(appointment: String, account: String, session: String, slot: Int, now: Int, idempotencyKey: String?)
    /// Centre staff admitted a person without an appointment: a registered one, or one
    /// registered on the spot (`registration`, a `.beneficiary` record kept only if the walk-in is).
    indirect case walkIn(appointment: String, reference: String, session: String, dose: Int, now: Int, registration: JournalRecord?)
    /// Centre staff recorded the dose as given (booked or walk-in).
    /// `appointment` and `session`: the appointment the staff's centre check was made on, and its
    /// session then; the record applies to them only (not to an appointment the person made
    /// since, nor to this one moved since to another centre by a reschedule, which keeps the
    /// number). `session` is nil in records written before it was kept.
    case vaccinated(reference: String, dose: Int, now: Int, appointment: String, session: String?)
    /// Centre staff declared a booked person absent once their slot had started.
    case noShow(reference: String, dose: Int, now: Int, appointment: String, session: String?)
    /// A registration or a walk-in made under an Idempotency-Key: `key` as the client sent it
    /// (for a walk-in, after the staff key's partner name and a colon, so that partners at one
    /// centre never share keys), `fingerprint` a keyed hash of what was asked (no personal data
    /// in the clear), so that a retry gets the first answer and a different request under the key a 422.
    indirect case keyed(record: JournalRecord, key: String, fingerprint: String)
}

/// The server's state: the allocator's engine (which decides every booking), people and
/// appointments, each change written to the journal before it is acknowledged.
final class BookingStore: @unchecked Sendable {
    // @unchecked: `engine` is thread-safe; everything else mutable is behind `books`.
    struct Person: Sendable, Equatable {
        var reference: String
        var account: String
        var engineID: BeneficiaryID
        var sealedName: Data
        var sealedPhotoID: Data
        var photoIDType: String
        var birthYear: Int
        var gender: String
        /// Appointment numbers, per dose (index 0: dose 1).
        var appointments: [String?] = [nil, nil]
    }

    struct Booked: Sendable, Equatable {
        var account: String
        var session: String
        var slot: Int
        var dose: Dose
        var beneficiaries: [String]
    }

    struct Books: Sendable {
        // Persistent hash trees, not `Dictionary`: a snapshot shares them, and a change after it
        // copies the few nodes on its path instead of the whole table. (With `Dictionary`, the
        // first changes after a snapshot copied 250,000 people under the lock all requests wait
        // on, and the load test's p99 doubled; see Benchmarks/RESULTS.md.)
        var people: TreeDictionary<String, Person> = [:]
        var accounts: TreeDictionary<String, [String]> = [:]
        var appointments: TreeDictionary<String, Booked> = [:]
        /// Idempotency key (per account and operation) → the appointment number the first request got.
        var idempotent: TreeDictionary<String, String> = [:]
        /// The journal sequence of the last change (a retry waits for it to be on disk).
        var lastSequence: UInt64 = 0
        /// The embedded journal's position after the last change.
        var position: JournalPosition? = nil
        /// Records in the journal when the last snapshot written was taken; when the last one
        /// was attempted (a failed write is retried only `every` records later); whether one is being written.
        var snapshotRecords = 0
        var snapshotAttempted = 0
        var snapshotting = false
    }

    static let beneficiariesPerMobile = 4

    let engine: BookingEngine
    let published: Published
    /// Online booking for a session closes at this second of its day (the policy's).
    let bookingCloseSecond: Int
    let vault: Vault
    let storage: Storage
    let books = Mutex(Books())

    /// Where the changes are kept: the embedded journal file, or PostgreSQL shared by instances.
    enum Storage: Sendable {
        case embedded(Journal)
        case postgres(PostgresLog, PostgresWriter)

        func close() {
            switch self {
            case .embedded(let journal): journal.close()
            case .postgres(let log, let writer):
                writer.stop()
                log.close()
            }
        }
    }

    /// A ledger for the server's OTP logins: beside the shared journal on PostgreSQL (so a
    /// login may go to any instance), in memory on the embedded store.
    /// Where partner quotas are counted: here, or (PostgreSQL) shared by every instance.
    func makeQuotaLedger() -> any QuotaLedger {
        switch storage {
        case .embedded: RateLimiter(limit: 1, window: 60)
        case .postgres(let log, _): SharedQuotas(log: log)
        }
    }

    func makeOTPLedger() -> any OTPLedger {
        switch storage {
        case .embedded: MemoryOTPLedger()
        case .postgres(let log, _): PostgresOTPLedger(log: log)
        }
    }

    /// Why the store stopped writing, if it did (a restart rebuilds the state from what was stored).
    var storageFailure: String? {
        switch storage {
        case .embedded(let journal): journal.failure
        case .postgres(_, let writer): writer.failure
        }
    }

    /// Day 0 of this journal (the start date given when it was created).
    let epoch: Date

    /// Where the embedded store keeps its files, and how often it takes a snapshot.
    struct SnapshotPlan: Sendable {
        var directory: String
        /// Records between snapshots; 0: none.
        var every: Int
    }
    let snapshotPlan: SnapshotPlan?
    /// The journal's first record (a snapshot carries it, to be matched with its journal).
    let headerRecord: Data?
    /// How the state was rebuilt at start: the journal records a snapshot covered (nil: none
    /// was used), and how many records were replayed after it. Written only during init.
    private(set) var restored: (fromSnapshot: Int?, replayed: Int) = (nil, 0)
    /// One snapshot file written at a time.
    private let snapshotWriting = Mutex(())

    /// The embedded store: the journal in `dataDirectory`, replayed after its snapshot (if any).
    /// `snapshotEvery`: records between snapshots (0: none).
    convenience init(topology: ServiceTopology, vault: Vault, dataDirectory: String, epoch proposed: Date,
                     snapshotEvery: Int = 100_000) throws(ServiceError) {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .journal("cannot create the data directory \(dataDirectory): \(error.localizedDescription)")
        }
        let path = dataDirectory + "/journal.log"
        var (snapshot, damage) = snapshotEvery > 0 ? StoreSnapshot.load(directory: dataDirectory) : (nil, nil)
        var (journal, records, resumed) = try Journal.open(path: path, after: snapshot?.position)
        if snapshot != nil, !resumed || records.first != snapshot?.header {
            damage = "\(dataDirectory)/\(StoreSnapshot.fileName) is not a snapshot of \(path)"
            if resumed {
                // Read the whole journal after all.
                journal.close()
                (journal, records, resumed) = try Journal.open(path: path)
            }
            snapshot = nil
        }
        if records.isEmpty {
            // On disk before the first acknowledged change (the journal keeps order).
            let header = Self.header(topology, vault, epoch: proposed)
            _ = journal.append(header)
            records = [header]
        }
        try self.init(topology: topology, vault: vault, storage: .embedded(journal), records: records, source: path,
                      snapshot: snapshot, snapshotPlan: SnapshotPlan(directory: dataDirectory, every: snapshotEvery))
        if let damage {
            Self.warn("\(damage); the state was rebuilt from the whole journal")
        }
    }

    /// Through the server's logger (swift-log, standard error), like every other line.
    static func warn(_ message: String) {
        BookingServer.logger.warning("\(message)")
    }

    /// Runs `work` on a thread of its own at the lowest CPU priority (nice 19) and waits for it:
    /// a snapshot's encoding and write then take the CPU the requests leave, instead of a core of
    /// their own. The thread does nothing else and ends, since a thread inherits its creator's
    /// priority (work that starts tasks or threads must not run here), and it takes no lock
    /// that requests wait on. (On Linux, `setpriority` with `who` 0 applies to the calling
    /// thread only.)
    static func atLowestPriority<T: Sendable>(_ work: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        Thread.detachNewThread {
            #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #endif
            let value = work()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    static func note(_ message: String) {
        BookingServer.logger.notice("\(message)")
    }

    /// The PostgreSQL store: migrations applied, the shared journal replayed, then the writer started.
    static func postgres(topology: ServiceTopology, vault: Vault, url: String, epoch proposed: Date) async throws(ServiceError) -> BookingStore {
        let log = try PostgresLog(url: url)
        let writer = PostgresWriter()
        var records: [(Int64, Data)] = []
        do {
            // The probe reports a refused or unreachable server at once (connect timeout 5 s); the pool
            // behind migrate retries without end, so a start that still hangs is an error after 60 s
            // (long enough for a loaded machine, where a debug build's first connections are slow).
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await log.probe()
                    try await log.migrate()
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    throw ServiceError.journal("no answer in 60 s: is the server running and the URL right?")
                }
                try await group.next()
                group.cancelAll()
            }
            records = try await log.records(after: 0)
            if records.isEmpty {
                try await log.insertHeader(header(topology, vault, epoch: proposed))
                records = try await log.records(after: 0)
            }
        } catch {
            log.close()
            throw .journal("PostgreSQL at \(PostgresLog.redacted(url)): \((error as? ServiceError).map { "\($0)" } ?? String(reflecting: error))")
        }
        let store = try BookingStore(topology: topology, vault: vault, storage: .postgres(log, writer), records: records.map(\.1),
                                     source: "PostgreSQL table \(log.table)")
        writer.start(store, log: log, last: records.last?.0 ?? 0)
        return store
    }

    /// The first record of a journal: day 0, the topology's hash and a check of the data key.
    static func header(_ topology: ServiceTopology, _ vault: Vault, epoch: Date) -> Data {
        let record = JournalRecord.header(epoch: Int(epoch.timeIntervalSince1970), topology: hash(topology), keyCheck: vault.lookup(mobile: "slotsim key check"))
        return (try? JSONEncoder().encode(record)) ?? Data()
    }

    /// Builds the engine and replays `records` (the header first) — after restoring `snapshot`,
    /// if given, in which case `records` are only those after it; if it does not restore,
    /// every record of the journal at `source` is read again. On failure the storage is closed.
    private init(topology: ServiceTopology, vault: Vault, storage: Storage, records: [Data], source: String,
                 snapshot: StoreSnapshot? = nil, snapshotPlan: SnapshotPlan? = nil) throws(ServiceError) {
        var records = records
        self.snapshotPlan = snapshotPlan
        headerRecord = records.first
        do {
            engine = try BookingEngine(policy: topology.policy, configuration: BookingEngineConfiguration(
                horizonDays: topology.days + 1, sessionShards: 64, beneficiaryShards: 64, idempotencyEntriesPerShard: 0))
            published = try Published(topology, engine: engine)
            bookingCloseSecond = topology.policy.bookingCloseSecondOfDay
        } catch {
            storage.close()
            throw .configuration("\(error)")
        }
        self.vault = vault
        self.storage = storage
        let decoder = JSONDecoder()
        guard case let .header(epoch, hash, check)? = records.first.flatMap({ try? decoder.decode(JournalRecord.self, from: $0) }) else {
            storage.close()
            throw .journal("\(source) does not start with a header: not a journal of this slotsim")
        }
        guard check == vault.lookup(mobile: "slotsim key check") else {
            storage.close()
            throw .journal("the data key is not the one \(source) was written with")
        }
        guard hash == Self.hash(topology) else {
            storage.close()
            throw .journal("the scenario (centres, days or policy) differs from the one \(source) was written with; serve it with a new store")
        }
        self.epoch = Date(timeIntervalSince1970: TimeInterval(epoch))
        var first = 1  // records[n] is the journal's record first + n (the header is record 1)
        if let snapshot {
            do {
                try engine.restore(from: snapshot.engine)
                var books = snapshot.books
                books.snapshotRecords = snapshot.position.records
                books.snapshotAttempted = snapshot.position.records
                books.position = snapshot.position
                self.books.withLock { $0 = books }
                first = snapshot.position.records
                restored.fromSnapshot = first
            } catch {
                // The engine is as before the restore: rebuild from the whole journal.
                Self.warn("\(snapshotPlan?.directory ?? "")/\(StoreSnapshot.fileName) does not restore (\(error)); the state was rebuilt from the whole journal")
                let whole: Journal.Parsed
                do {
                    // The file is ours (locked), and its tail was already cut where it was torn.
                    whole = Journal.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: source))), base: 0)
                } catch {
                    storage.close()
                    throw .journal("cannot read \(source): \(error.localizedDescription)")
                }
                // The part before the snapshot was not read at open: it must be whole too, or the
                // state would silently be that of a shorter journal.
                guard case .embedded(let journal) = storage, whole.tornTail == nil, whole.end == Int(journal.position.end) else {
                    storage.close()
                    throw .journal("\(source) is damaged before its end (at byte \(whole.end)), and the snapshot does not restore: the state cannot be rebuilt")
                }
                records = whole.records
            }
        }
        for (n, data) in records.enumerated().dropFirst() {
            do { try replay(data) } catch {
                storage.close()
                throw .journal("\(source): record \(first + n) \(error.message)")
            }
        }
        restored.replayed = records.count - 1
        if case .embedded(let journal) = storage {
            let position = journal.position
            books.withLock { $0.position = position }
        }
    }

    /// Applies a record of the journal (at start, or another instance's).
    func replay(_ data: Data) throws(APIError) {
        let record: JournalRecord
        do { record = try JSONDecoder().decode(JournalRecord.self, from: data) } catch {
            throw APIError(500, "SRV0004", "cannot be read: \(error)")
        }
        if case .failure(let error) = books.withLock({ b in apply(record, &b) }) {
            throw APIError(500, "SRV0004", "does not replay: \(error.message)")
        }
    }

    /// Applies a change to the engine and the books (live or on replay). On refusal nothing changes.
    func apply(_ record: JournalRecord, _ b: inout Books) -> Result<String, APIError> {
        switch record {
        case .header: return .failure(APIError(500, "SRV0003", "a header in the middle of the journal"))
        case .keyed(let inner, _, _):
            guard let (entry, fingerprint) = Self.idempotency(record) else {
                return .failure(APIError(500, "SRV0003", "only registrations and walk-ins are keyed records"))
            }
            let outcome = apply(inner, &b)
            if case .success(let answer) = outcome { b.idempotent[entry] = answer + " " + fingerprint }
            return outcome
        case let .beneficiary(reference, account, name, photo, photoType, birthYear, gender):
            guard b.people[reference] == nil else { return .failure(APIError(409, "BENREG0009", "reference id taken; retry")) }
            guard (b.accounts[account]?.count ?? 0) < Self.beneficiariesPerMobile else {
                return .failure(APIError(400, "BENREG0004", "at most \(Self.beneficiariesPerMobile) beneficiaries per mobile number"))
            }
            let id: BeneficiaryID
            do {
                id = try engine.registerBeneficiary(BeneficiarySpec(birthYear: birthYear))
            } catch {
                return .failure(.badRequest("birth_year: \(error)"))
            }
            b.people[reference] = Person(reference: reference, account: account, engineID: id, sealedName: name, sealedPhotoID: photo,
                                         photoIDType: photoType, birthYear: birthYear, gender: gender)
            b.accounts[account, default: []].append(reference)
            return .success(reference)
        case let .schedule(appointment, account, references, sessionID, slot, doseNumber, now, key):
            guard let dose = Dose(rawValue: doseNumber) else { return .failure(.badRequest("dose must be 1 or 2")) }
            guard let session = published.sessions[sessionID] else { return .failure(APIError(400, "APPOIN0018", "no such session_id")) }
            var booked: [AppointmentID] = []
            for reference in references {
                guard let person = b.people[reference], person.account == account else {
                    rollback(booked, now)
                    return .failure(APIError(400, "APPOIN0045", "beneficiary \(reference) is not registered with this mobile number"))
                }
                switch engine.book(person.engineID, session: session.index, slot: slot, dose: dose, now: now) {
                case .success(let a): booked.append(a.id)
                case .failure(let refusal):
                    rollback(booked, now)
                    return .failure(Self.apiError(refusal))
                }
            }
            for reference in references { b.people[reference]!.appointments[dose.rawValue - 1] = appointment }
            b.appointments[appointment] = Booked(account: account, session: sessionID, slot: slot, dose: dose, beneficiaries: references)
            if let key { b.idempotent[account + "/schedule/" + key] = appointment + " " + Self.fingerprint(doseNumber, sessionID, slot, references) }
            return .success(appointment)
        case let .cancel(appointment, account, references, now, key):
            guard let booked = b.appointments[appointment], booked.account == account else {
                return .failure(APIError(400, "APPOIN0044", "no such appointment_id for this mobile number"))
            }
            let cancelling = references.isEmpty ? booked.beneficiaries : references
            guard Set(cancelling).count == cancelling.count, cancelling.allSatisfy(booked.beneficiaries.contains) else {
                return .failure(.badRequest("beneficiariesToCancel must be different beneficiaries of the appointment"))
            }
            let lives = cancelling.map { engine.liveAppointment(of: b.people[$0]!.engineID, dose: booked.dose, now: now) }
            guard lives.allSatisfy({ $0?.state == .booked }) else {
                return .failure(APIError(400, "APPOIN0046", "the appointment can no longer be cancelled: the dose was given, or it is a walk-in at the centre"))
            }
            for (reference, live) in zip(cancelling, lives) {
                if case .failure(let refusal) = engine.cancel(live!.id, now: now) { return .failure(Self.apiError(refusal)) }
                b.people[reference]!.appointments[booked.dose.rawValue - 1] = nil
            }
            let left = booked.beneficiaries.filter { !cancelling.contains($0) }
            if left.isEmpty { b.appointments[appointment] = nil } else { b.appointments[appointment]!.beneficiaries = left }
            if let key { b.idempotent[account + "/cancel/" + key] = appointment + " " + Self.fingerprint(cancelling: appointment, references) }
            return .success(appointment)
        case let .reschedule(appointment, account, sessionID, slot, now, key):
            return reschedule(appointment, account, sessionID, slot, now, key, &b)
        case .walkIn, .vaccinated, .noShow:
            return applyStaff(record, &b)
        }
    }

    /// Moves every beneficiary of an appointment, all or none (the engine decides the group under
    /// its locks, so a refused move changes nothing and a replay of the journal, which has no
    /// record of it, rebuilds the same state). An appointment whose session has closed for
    /// booking stays put: the centre's list for that day is final.
    private func reschedule(_ appointment: String, _ account: String, _ sessionID: String, _ slot: Int, _ now: Int, _ key: String?,
                            _ b: inout Books) -> Result<String, APIError> {
        guard let booked = b.appointments[appointment], booked.account == account else {
            return .failure(APIError(400, "APPOIN0044", "no such appointment_id for this mobile number"))
        }
        guard let target = published.sessions[sessionID] else { return .failure(APIError(400, "APPOIN0018", "no such session_id")) }
        guard let origin = published.sessions[booked.session] else { return .failure(APIError(500, "SRV0003", "an appointment's session is not published")) }
        let closesAt = origin.day * 86_400 + bookingCloseSecond
        guard now < closesAt else {
            return .failure(APIError(400, "APPOIN0049", "the appointment's session has closed for booking: it can be cancelled, not moved"))
        }
        let lives = booked.beneficiaries.map { engine.liveAppointment(of: b.people[$0]!.engineID, dose: booked.dose, now: now) }
        guard lives.allSatisfy({ $0?.state == .booked }) else {
            return .failure(APIError(400, "APPOIN0046", "the appointment can no longer be changed: the dose was given, or it is a walk-in at the centre"))
        }
        if case .failure(let refusal) = engine.rescheduleTogether(lives.map { $0!.id }, to: target.index, slot: slot, now: now) {
            return .failure(Self.apiError(refusal))
        }
        b.appointments[appointment]!.session = sessionID
        b.appointments[appointment]!.slot = slot
        if let key { b.idempotent[account + "/reschedule/" + key] = appointment + " " + Self.fingerprint(moving: appointment, sessionID, slot) }
        return .success(appointment)
    }

    /// The staff records: the engine decides; the books follow.
    private func applyStaff(_ record: JournalRecord, _ b: inout Books) -> Result<String, APIError> {
        switch record {
        case let .walkIn(appointment, reference, sessionID, doseNumber, now, registration):
            guard let dose = Dose(rawValue: doseNumber) else { return .failure(.badRequest("dose must be 1 or 2")) }
            guard let session = published.sessions[sessionID] else { return .failure(APIError(400, "APPOIN0018", "no such session_id")) }
            // The session's day and hours first, as the engine would: outside them the answer is
            // the same whoever the person is (a staff key learns nothing of people elsewhere), and
            // nobody is registered in the engine for a walk-in that cannot happen.
            if let spec = engine.session(session.index), let refusal = Self.walkInTimeRefusal(spec, now: now) {
                return .failure(Self.apiError(refusal))
            }
            if let registration {
                guard case .beneficiary(let registered, _, _, _, _, _, _) = registration, registered == reference else {
                    return .failure(APIError(500, "SRV0003", "a walk-in's registration is not of its beneficiary"))
                }
                if case .failure(let error) = apply(registration, &b) { return .failure(error) }
            }
            guard let person = b.people[reference] else { return .failure(APIError(400, "APPOIN0047", "no such beneficiary_reference_id")) }
            switch engine.checkInWalkIn(person.engineID, session: session.index, dose: dose, now: now) {
            case .failure(let refusal):
                if registration != nil {
                    // Registered for this walk-in only: not kept (the engine's record of the person stays unused).
                    b.people[reference] = nil
                    b.accounts[person.account]?.removeAll { $0 == reference }
                }
                return .failure(Self.apiError(refusal))
            case .success(let admitted):
                b.people[reference]!.appointments[dose.rawValue - 1] = appointment
                b.appointments[appointment] = Booked(account: person.account, session: sessionID, slot: admitted.slot, dose: dose, beneficiaries: [reference])
                return .success(appointment)
            }
        case let .vaccinated(reference, doseNumber, now, checked, checkedSession), let .noShow(reference, doseNumber, now, checked, checkedSession):
            guard let dose = Dose(rawValue: doseNumber) else { return .failure(.badRequest("dose must be 1 or 2")) }
            guard let person = b.people[reference], let live = engine.liveAppointment(of: person.engineID, dose: dose, now: now),
                  let number = person.appointments[dose.rawValue - 1], number == checked,
                  checkedSession == nil || b.appointments[number]?.session == checkedSession else {
                return .failure(APIError(400, "APPOIN0048", "the beneficiary has no appointment or walk-in for dose \(doseNumber) at this key's centres now"))
            }
            let vaccinating: Bool
            if case .vaccinated = record { vaccinating = true } else { vaccinating = false }
            let outcome = vaccinating ? engine.recordVaccination(live.id, now: now) : engine.markNoShow(live.id, now: now)
            if case .failure(let refusal) = outcome { return .failure(Self.apiError(refusal)) }
            // A given dose's appointment stays (it cannot be cancelled any more); a no-show leaves
            // the appointment, and the person may book again.
            if !vaccinating {
                if let booked = b.appointments[number] {
                    let left = booked.beneficiaries.filter { $0 != reference }
                    if left.isEmpty { b.appointments[number] = nil } else { b.appointments[number]!.beneficiaries = left }
                }
                b.people[reference]!.appointments[dose.rawValue - 1] = nil
            }
            return .success(number)
        default:
            return .failure(APIError(500, "SRV0003", "not a staff record"))
        }
    }

    /// Why a walk-in cannot happen at `now` at all (not the session's day, or outside its hours:
    /// the first window's start to the last one's end), or nil.
    static func walkInTimeRefusal(_ spec: SessionSpec, now: Int) -> BookingRefusal? {
        let day = now >= 0 ? now / 86_400 : -((-(now + 1)) / 86_400) - 1
        guard day == spec.day else { return .notSessionDay(sessionDay: spec.day) }
        let second = now - day * 86_400
        guard let first = spec.slots.first, let last = spec.slots.last,
              second >= first.startSecondOfDay, second < last.endSecondOfDay else { return .outsideSessionHours }
        return nil
    }

    /// The published session and the number of a person's live appointment for a dose (for a
    /// staff key's centre check).
    func liveAppointment(reference: String, dose: Dose, now: Int) -> (session: PublishedSession, number: String)? {
        guard let person = read({ $0.people[reference] }), let number = person.appointments[dose.rawValue - 1],
              let live = engine.liveAppointment(of: person.engineID, dose: dose, now: now),
              let session = published.byIndex[live.session] else { return nil }
        return (session, number)
    }

    /// A hash of what decides bookings: days, centres and the policy.
    static func hash(_ topology: ServiceTopology) -> String {
        var text = "\(topology.days)|"
        for d in topology.districts {
            text += d.name + "{"
            for c in d.centers { text += "\(c.name),\(c.vaccine),\(c.capacityPerDay),\(c.minAge),\(c.maxAge ?? -1),\(c.slots);" }
            text += "}"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // a stable text: key order must not vary between runs
        let policy = (try? encoder.encode(topology.policy)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Vault.sha256Hex(text + policy)
    }

    /// The idempotency entry a record would hit, and its request's fingerprint.
    static func idempotency(_ record: JournalRecord) -> (String, String)? {
        switch record {
        case let .schedule(_, account, references, session, slot, dose, _, key?):
            (account + "/schedule/" + key, fingerprint(dose, session, slot, references))
        case let .cancel(appointment, account, references, _, key?):
            (account + "/cancel/" + key, fingerprint(cancelling: appointment, references))
        case let .reschedule(appointment, account, session, slot, _, key?):
            (account + "/reschedule/" + key, fingerprint(moving: appointment, session, slot))
        case let .keyed(.beneficiary(_, account, _, _, _, _, _), key, fingerprint):
            (account + "/register/" + key, fingerprint)
        case let .keyed(.walkIn(_, _, session, _, _, _), key, fingerprint):
            ("walkin/" + session + "/" + key, fingerprint)
        default: nil
        }
    }

    /// What a schedule request asked for, to tell a retry from a different request under the same
    /// key: the beneficiaries are a set (a retry may list them in another order).
    static func fingerprint(_ dose: Int, _ session: String, _ slot: Int, _ beneficiaries: [String]) -> String {
        "\(dose)/\(session)/\(slot)/\(beneficiaries.sorted().joined(separator: ","))"
    }

    /// A schedule's fingerprint as versions before 30 Nov 2026 wrote it, with the beneficiaries
    /// in request order: a snapshot of such a version keeps them so, and a retry must still match.
    static func legacyFingerprint(_ record: JournalRecord) -> String? {
        guard case let .schedule(_, _, beneficiaries, session, slot, dose, _, _?) = record else { return nil }
        return "\(dose)/\(session)/\(slot)/\(beneficiaries.joined(separator: ","))"
    }

    /// What a cancel request asked for: the appointment and whom (none named = all), in any order.
    static func fingerprint(cancelling appointment: String, _ beneficiaries: [String]) -> String {
        "\(appointment)/\(beneficiaries.sorted().joined(separator: ","))"
    }

    /// What a reschedule request asked for.
    static func fingerprint(moving appointment: String, _ session: String, _ slot: Int) -> String {
        "\(appointment)/\(session)/\(slot)"
    }

    private func rollback(_ booked: [AppointmentID], _ now: Int) {
        for id in booked { _ = engine.cancel(id, now: now) }
    }

    static func apiError(_ refusal: BookingRefusal) -> APIError {
        switch refusal {
        case .sessionFull, .categoryFull: APIError(409, "APPOIN0040", "This vaccination center is completely booked for the selected date.")
        case .invalidSlot: APIError(400, "APPOIN0015", "invalid slot")
        case .alreadyBooked: APIError(409, "APPOIN0043", "the beneficiary already has an appointment for this dose")
        case .bookingClosed: APIError(400, "APPOIN0065", "booking for this session has closed")
        default: APIError(400, "APPOIN" + refusal.code.uppercased(), "\(refusal)")
        }
    }

    /// Applies `record` and writes it to the journal in the same critical section (so the
    /// journal's order is the order of the changes); returns once it is on disk.
    func commit(_ record: JournalRecord) async -> Result<String, APIError> {
        let encoded = record.json()
        switch storage {
        case .embedded(let journal): return await commit(record, encoded, to: journal)
        case .postgres(_, let writer): return await writer.submit(record, encoded)
        }
    }

    private func commit(_ record: JournalRecord, _ encoded: Data, to journal: Journal) async -> Result<String, APIError> {
        // After a failed write nothing more is changed: the server must be restarted (it then
        // rebuilds exactly the acknowledged state from the journal).
        if let failure = journal.failure {
            return .failure(APIError(503, "SRV0002", "storage failed (\(failure)); the server must be restarted"))
        }
        let (outcome, sequence) = books.withLock { b -> (Result<String, APIError>, UInt64?) in
            // A retry under the same idempotency key gets the first answer, once that is on disk.
            if let answer = Self.earlierAnswer(record, b) {
                guard case .success = answer else { return (answer, nil) }
                return (answer, b.lastSequence)
            }
            let outcome = apply(record, &b)
            guard case .success = outcome else { return (outcome, nil) }
            let (sequence, position) = journal.append(encoded)
            b.lastSequence = sequence
            b.position = position
            if let plan = snapshotPlan, plan.every > 0, !b.snapshotting, position.records - b.snapshotAttempted >= plan.every {
                b.snapshotting = true
                b.snapshotAttempted = position.records
                let taken = takeSnapshot(b)
                Thread.detachNewThread { [self] in
                    writeSnapshot(taken, journal: journal)
                    books.withLock { $0.snapshotting = false }
                }
            }
            return (outcome, sequence)
        }
        guard let sequence else { return outcome }
        guard await journal.durable(sequence) else {
            return .failure(APIError(503, "SRV0002", "storage failed, so the change may or may not have been stored; once the server is back, retry a request made with an Idempotency-Key under the same key, and check before repeating any other"))
        }
        return outcome
    }

    /// A snapshot as taken under the books lock: the engine's part copied but not yet sealed
    /// (its checksum is a pass over every byte, made by the writer once changes go on).
    struct TakenSnapshot: Sendable {
        var position: JournalPosition
        var header: Data
        var books: Books
        var engine: EngineSnapshot
        /// The journal sequence the snapshot covers; how long changes waited for the copy.
        var sequence: UInt64
        var pause: Duration

        consuming func sealed() -> StoreSnapshot {
            StoreSnapshot(position: position, header: header, books: books, engine: engine.sealed())
        }
    }

    /// The state now, called under the books lock, so that the engine's state and the books
    /// are of the same journal position; changes wait meanwhile. The engine's part is copied
    /// (O(people + sessions), timed in the log line of the write); the books are values, so
    /// taking them costs nothing now, and the changes after it copy only the tree nodes they
    /// touch.
    func takeSnapshot(_ b: Books) -> TakenSnapshot? {
        guard let position = b.position, case .embedded = storage, let header = headerRecord else { return nil }
        let start = ContinuousClock.now
        var books = b
        books.snapshotting = false
        let engine = engine.captureSnapshot()
        return TakenSnapshot(position: position, header: header, books: books, engine: engine, sequence: b.lastSequence,
                             pause: ContinuousClock.now - start)
    }

    /// Writes a snapshot once the journal holds every record it covers (a snapshot must never
    /// be ahead of the journal). A failure is only a warning: the journal is still whole.
    func writeSnapshot(_ taken: TakenSnapshot?, journal: Journal) {
        guard let taken, snapshotPlan != nil else { return }
        let durable = DispatchSemaphore(value: 0)
        let ok = Mutex(false)
        Task {
            let done = await journal.durable(taken.sequence)
            ok.withLock { $0 = done }
            durable.signal()
        }
        durable.wait()
        guard ok.withLock({ $0 }) else { return }
        write(taken)
    }

    private func write(_ taken: TakenSnapshot) {
        guard let plan = snapshotPlan else { return }
        snapshotWriting.withLock { _ in
            // A later snapshot may have been written meanwhile (at close).
            guard books.withLock({ $0.snapshotRecords }) < taken.position.records else { return }
            // Sealed, encoded and written at the lowest priority; the books lock is taken out here.
            let written = Self.atLowestPriority { () -> Result<(encoding: Duration, total: Duration), ServiceError> in
                let start = ContinuousClock.now
                do throws(ServiceError) {
                    let snapshot = taken.sealed()
                    let sealing = ContinuousClock.now - start
                    let encoding = try snapshot.write(directory: plan.directory) + sealing
                    return .success((encoding, ContinuousClock.now - start))
                } catch {
                    return .failure(error)
                }
            }
            switch written {
            case .success(let (encoding, total)):
                books.withLock { $0.snapshotRecords = max($0.snapshotRecords, taken.position.records) }
                let ms = { (d: Duration) in Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
                Self.note(String(format: "snapshot of record %d: changes paused %.1f ms for the copy, written in %.1f ms (%.1f ms of it encoding)",
                                 taken.position.records, ms(taken.pause), ms(total), ms(encoding)))
            case .failure(let error):
                Self.warn("\(error)")
            }
        }
    }

    /// Takes a last snapshot (if anything changed since the one before) and closes the storage.
    func close() {
        guard case .embedded(let journal) = storage, let plan = snapshotPlan, plan.every > 0 else { return storage.close() }
        let taken = books.withLock { b in b.position.map { $0.records } != b.snapshotRecords ? takeSnapshot(b) : nil }
        journal.close()  // everything queued is on disk (or the journal failed: then no snapshot)
        if journal.failure == nil, let taken { write(taken) }
    }

    /// The answer a request already got under the same idempotency key (422 if the key was used
    /// for a different request); nil if the key is new or absent.
    static func earlierAnswer(_ record: JournalRecord, _ b: Books) -> Result<String, APIError>? {
        guard let (key, fingerprint) = idempotency(record), let earlier = b.idempotent[key] else { return nil }
        let parts = earlier.split(separator: " ", maxSplits: 1)
        // A cancel remembered by an older version (a snapshot or journal from before cancels had
        // fingerprints) holds the appointment alone: it answers as it did then. A schedule's may
        // list its beneficiaries in request order (``legacyFingerprint(_:)``).
        guard parts.count == 1 || parts[1] == fingerprint || Substring(legacyFingerprint(record) ?? "") == parts[1] else {
            return .failure(APIError(422, "USRRES0422", "this Idempotency-Key was used for a different request"))
        }
        return .success(String(parts[0]))
    }

    func read<T>(_ body: (Books) -> T) -> T { books.withLock { body($0) } }
}
