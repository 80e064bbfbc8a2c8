/// Snapshots: the engine's whole state as bytes, and back.
///
/// A booking server keeps a journal of changes; replaying a long journal at start costs
/// time, so it saves a snapshot now and then and replays only the changes after it.
extension BookingEngine {
    static let snapshotMagic: UInt64 = 0x3147_4e45_544f_4c53  // "SLOTENG1", little-endian
    static let snapshotVersion: UInt32 = 1

    /// The engine's state — centres, sessions and their counters, holds, people, live
    /// appointments and remembered request ids — as bytes that ``restore(from:)`` reads.
    ///
    /// Holds every lock at once (beneficiary shards, then session shards, the order
    /// requests use), so the snapshot is one consistent state even while requests run;
    /// they wait meanwhile. - Complexity: O(sessions × categories + beneficiaries).
    public func snapshot() -> [UInt8] {
        captureSnapshot().sealed()
    }

    /// The part of ``snapshot()`` that holds the locks: the state copied out, still without its
    /// checksum. A server that must stop its own changes while the engine is copied (to pair
    /// the copy with its journal position) calls this, and takes ``EngineSnapshot/sealed()`` (the
    /// checksum, a pass over every byte) after it lets the changes go on.
    public func captureSnapshot() -> EngineSnapshot {
        // Room for the bulk, the people's records and the sessions', so a large copy is not grown
        // by doubling (remembered request ids and holds, if many, may still grow it).
        let people = min(nextBeneficiary.load(ordering: .relaxed), configuration.beneficiariesMax)
        let sessionBytes = MemoryLayout<SessionInventory.Record>.stride + 2 * MemoryLayout<Int32>.stride * 4
            + MemoryLayout<SessionInventory.Counters>.stride * policy.categoryCount
        var out = SnapshotWriter(reserving: people * MemoryLayout<BeneficiaryRegistry.Record>.stride + sessionCount * sessionBytes + (1 << 16))
        out.integer(Self.snapshotMagic)
        out.integer(Self.snapshotVersion)
        out.integer(FNV1a.hash(String(describing: policy.policy)))
        for value in [configuration.sessionShards, configuration.beneficiaryShards, policy.categoryCount,
                      MemoryLayout<SessionInventory.Record>.stride, MemoryLayout<SessionInventory.Counters>.stride,
                      MemoryLayout<BeneficiaryRegistry.Record>.stride] {
            out.int(value)
        }
        func lockBeneficiaries(from shard: Int) {
            guard shard < configuration.beneficiaryShards else {
                // (A registration refused at the limit has moved the counter past it.)
                out.int(min(nextBeneficiary.load(ordering: .relaxed), configuration.beneficiariesMax))
                return lockSessions(from: 0)
            }
            beneficiaryShards[shard].withLock { registry in
                registry.withRecordBytes { raw in out.raw(raw, stride: MemoryLayout<BeneficiaryRegistry.Record>.stride, padding: Self.recordPadding) }
                let entries = registry.requests.entries
                out.int(entries.count)
                for entry in entries {
                    out.integer(entry.key.request)
                    out.integer(entry.key.beneficiary)
                    out.integer(entry.kind.rawValue)
                    write(entry.outcome, to: &out)
                }
                lockBeneficiaries(from: shard + 1)
            }
        }
        func lockSessions(from shard: Int) {
            guard shard < configuration.sessionShards else {
                // Centres last: every session that references one was added after it.
                let list = centers.withLock { $0 }
                out.int(list.count)
                for c in list {
                    out.int(c.externalID)
                    out.text(c.name)
                    out.int(c.district)
                    out.text(c.ownership.rawValue)
                    out.int(c.feeRupees)
                }
                return
            }
            sessionShards[shard].withLock { inventory in
                inventory.sessions.withRawBytes { out.raw($0) }
                inventory.slotStart.withRawBytes { out.raw($0) }
                inventory.slotEnd.withRawBytes { out.raw($0) }
                inventory.counters.withRawBytes { out.raw($0) }
                out.int(inventory.holds.count)
                for (id, hold) in inventory.holds.sorted(by: { $0.key < $1.key }) {
                    out.integer(id)
                    out.integer(hold.session)
                    out.integer(hold.category)
                    out.int(hold.expiresAt)
                }
                lockSessions(from: shard + 1)
            }
        }
        lockBeneficiaries(from: 0)
        return EngineSnapshot(writer: out)
    }

    /// Brings back the state of a ``snapshot()``, into an engine that has registered no
    /// beneficiary yet and was made with the same policy and shard counts.
    ///
    /// Either the engine has no centres (the snapshot's centres and sessions are taken),
    /// or it has exactly the snapshot's centres and sessions (a caller that rebuilds its
    /// topology from its own source and then restores the bookings); anything else is
    /// refused. A damaged snapshot (checksum, bounds, or any broken invariant) is a
    /// thrown ``SlotAllocationError`` and leaves the engine as it was.
    /// Call it before serving requests. - Complexity: O(snapshot size).
    public func restore(from bytes: [UInt8]) throws(SlotAllocationError) {
        guard nextBeneficiary.load(ordering: .relaxed) == 0 else {
            throw .invalid("snapshot", "can only be restored into an engine with no beneficiaries registered")
        }
        var input = try SnapshotReader(bytes)
        guard try input.integer(UInt64.self) == Self.snapshotMagic else { throw .invalid("snapshot", "is not a slotsim engine snapshot") }
        let version = try input.integer(UInt32.self)
        guard version == Self.snapshotVersion else { throw .invalid("snapshot", "has format version \(version); this build reads \(Self.snapshotVersion)") }
        guard try input.integer(UInt64.self) == FNV1a.hash(String(describing: policy.policy)) else {
            throw .invalid("snapshot", "was taken under a different policy")
        }
        let expected = [("session shards", configuration.sessionShards), ("beneficiary shards", configuration.beneficiaryShards),
                        ("categories", policy.categoryCount),
                        ("session record size", MemoryLayout<SessionInventory.Record>.stride),
                        ("counter record size", MemoryLayout<SessionInventory.Counters>.stride),
                        ("person record size", MemoryLayout<BeneficiaryRegistry.Record>.stride)]
        for (what, value) in expected {
            let found = try input.int()
            guard found == value else { throw .invalid("snapshot", "has \(found) \(what), this engine \(value)") }
        }
        let (people, next) = try readBeneficiaries(&input)
        let inventories = try readSessions(&input)
        let centerList = try readCenters(&input)
        guard input.isAtEnd else { throw .invalid("snapshot", "has bytes after its end") }
        try checkTopology(inventories, centerList)
        try checkPeople(people.map(\.0), inventories)
        let categoryCount = policy.categoryCount
        let known = centers.withLock { $0.count }

        // Install: beneficiary shards first, then sessions, as requests lock them.
        for (shard, (records, entries)) in people.enumerated() {
            beneficiaryShards[shard].withLock { registry in
                registry.replaceRecords(records.aligned())
                registry.requests = IdempotencyCache(capacity: registry.requests.capacity)
                for entry in entries { registry.requests.store(entry.key, entry.kind, entry.outcome) }
            }
        }
        for (shard, parts) in inventories.enumerated() {
            sessionShards[shard].withLock { inventory in
                if known == 0 {
                    inventory = SessionInventory(categoryCount: categoryCount)
                    inventory.sessions = parts.sessions.aligned()
                    inventory.slotStart = parts.slotStart.aligned()
                    inventory.slotEnd = parts.slotEnd.aligned()
                }
                inventory.counters = parts.counters.aligned()
                inventory.holds = parts.holds
                inventory.expiries = ExpiryHeap()
                for (id, hold) in parts.holds.sorted(by: { $0.key < $1.key }) { inventory.expiries.push(hold.expiresAt, id) }
            }
        }
        if known == 0 {
            centers.withLock { $0 = centerList }
            sessionTotal.store(inventories.reduce(0) { $0 + $1.sessions.count }, ordering: .relaxed)
        }
        nextBeneficiary.store(next, ordering: .relaxed)
        let problems = invariantViolations()
        guard problems.isEmpty else {
            resetAfterFailedRestore(topologyTaken: known == 0)
            throw .invalid("snapshot", "breaks the engine's invariants: " + problems.prefix(3).joined(separator: "; "))
        }
    }
}

// MARK: Padding

extension BookingEngine {
    /// The bytes of a person's record that belong to no field: written as zeros, so that
    /// equal states give equal snapshots (padding holds whatever memory held before).
    static let recordPadding: [Range<Int>] = {
        typealias R = BeneficiaryRegistry.Record
        func field<V>(_ path: KeyPath<R, V>) -> Range<Int> {
            let start = MemoryLayout<R>.offset(of: path)!
            return start..<(start + MemoryLayout<V>.size)
        }
        var fields = [field(\.person.birthYear), field(\.person.group), field(\.person.dose1Vaccine), field(\.person.dose1Day),
                      field(\.person.dose2Day)]
        for live in [\R.dose1, \R.dose2] {
            fields += [field(live.appending(path: \.expiresAt)), field(live.appending(path: \.session)), field(live.appending(path: \.serial)),
                       field(live.appending(path: \.state)), field(live.appending(path: \.category)), field(live.appending(path: \.slot)),
                       field(live.appending(path: \.fromNoShowUnit))]
        }
        var covered = [Bool](repeating: false, count: MemoryLayout<R>.stride)
        for range in fields { for k in range { covered[k] = true } }
        var gaps: [Range<Int>] = []
        var k = 0
        while k < covered.count {
            if covered[k] { k += 1; continue }
            let start = k
            while k < covered.count, !covered[k] { k += 1 }
            gaps.append(start..<k)
        }
        return gaps
    }()
}

// MARK: Reading the parts

extension BookingEngine {
    typealias RememberedRequest = (key: IdempotencyCache.Key, kind: IdempotencyCache.Kind, outcome: Result<Appointment, BookingRefusal>)

    struct RestoredSessions {
        var sessions: RawRecords<SessionInventory.Record>
        var slotStart: RawRecords<Int32>
        var slotEnd: RawRecords<Int32>
        var counters: RawRecords<SessionInventory.Counters>
        var holds: [UInt64: SessionInventory.HoldRecord] = [:]
    }

    private func readBeneficiaries(_ input: inout SnapshotReader) throws(SlotAllocationError)
        -> ([(RawRecords<BeneficiaryRegistry.Record>, [RememberedRequest])], Int) {
        var shards: [(RawRecords<BeneficiaryRegistry.Record>, [RememberedRequest])] = []
        for shard in 0..<configuration.beneficiaryShards {
            input.part = "beneficiary shard \(shard)"
            let records = try input.raw(BeneficiaryRegistry.Record.self)
            try Self.checkEnumBytes(records, shard: shard)
            var entries: [RememberedRequest] = []
            var keys = Set<IdempotencyCache.Key>()
            let n = try input.count(limit: configuration.idempotencyEntriesPerShard)
            for _ in 0..<n {
                let key = IdempotencyCache.Key(request: try input.integer(UInt64.self), beneficiary: try input.integer(UInt32.self))
                guard keys.insert(key).inserted else { throw input.failure("remembers one request id twice") }
                guard let kind = IdempotencyCache.Kind(rawValue: try input.integer(UInt8.self)) else { throw input.failure("has an unknown request kind") }
                entries.append((key, kind, try Self.readOutcome(&input)))
            }
            shards.append((records, entries))
        }
        input.part = "beneficiary count"
        let next = try input.count(limit: configuration.beneficiariesMax)
        let shardBits = Int(beneficiaryShardBits)
        for (shard, parts) in shards.enumerated() {
            // Ids handed out in this shard: shard, shard + n, shard + 2n, ... below `next`.
            let issued = next > shard ? (next - shard - 1) >> shardBits + 1 : 0
            guard parts.0.count <= issued else {
                throw .invalid("snapshot: beneficiary shard \(shard)", "has \(parts.0.count) people but only \(issued) ids were issued")
            }
        }
        return (shards, next)
    }

    /// A live record's state and flag are enums in memory: their bytes must be valid values
    /// before any record is read as a typed value.
    private static func checkEnumBytes(_ records: RawRecords<BeneficiaryRegistry.Record>, shard: Int) throws(SlotAllocationError) {
        let stride = MemoryLayout<BeneficiaryRegistry.Record>.stride
        let lives = [MemoryLayout<BeneficiaryRegistry.Record>.offset(of: \.dose1)!, MemoryLayout<BeneficiaryRegistry.Record>.offset(of: \.dose2)!]
        let state = MemoryLayout<BeneficiaryRegistry.Live>.offset(of: \.state)!
        let flag = MemoryLayout<BeneficiaryRegistry.Live>.offset(of: \.fromNoShowUnit)!
        let bad: Int? = records.bytes.withUnsafeBytes { raw in
            for k in 0..<records.count {
                for live in lives where raw[k * stride + live + state] > 3 || raw[k * stride + live + flag] > 1 { return k }
            }
            return nil
        }
        if let bad { throw .invalid("snapshot: beneficiary shard \(shard)", "person \(bad) has a live appointment in no valid state") }
    }

    private func readSessions(_ input: inout SnapshotReader) throws(SlotAllocationError) -> [RestoredSessions] {
        var shards: [RestoredSessions] = []
        let categoryCount = policy.categoryCount
        for shard in 0..<configuration.sessionShards {
            input.part = "session shard \(shard)"
            var parts = RestoredSessions(sessions: try input.raw(SessionInventory.Record.self), slotStart: try input.raw(Int32.self),
                                         slotEnd: try input.raw(Int32.self), counters: try input.raw(SessionInventory.Counters.self))
            guard parts.slotStart.count == parts.slotEnd.count, parts.counters.count == parts.sessions.count * categoryCount else {
                throw input.failure("has \(parts.sessions.count) sessions, \(parts.slotStart.count)/\(parts.slotEnd.count) slot windows and \(parts.counters.count) counters: they do not fit together")
            }
            for s in 0..<parts.sessions.count {
                let r = parts.sessions[s]
                guard r.slotOffset >= 0, Int(r.slotOffset) + Int(r.slotCount) <= parts.slotStart.count, r.slotCount > 0,
                      (0..<configuration.horizonDays).contains(Int(r.day)), Int(r.vaccine) < policy.policy.vaccines.count,
                      r.minAge <= r.maxAge, Int(r.maxAge) <= ageMax else {
                    throw input.failure("session \(s) has slot windows, a day, a vaccine or age limits out of range")
                }
                for c in 0..<categoryCount {
                    let n = parts.counters[s * categoryCount + c]
                    // Each counter within 0...capacityMax first, so that the sums of `isConsistent` cannot overflow.
                    let range = 0...Int32(CompiledPolicy.capacityMax)
                    guard range.contains(n.capacity), range.contains(n.booked), range.contains(n.held), range.contains(n.walkIns),
                          range.contains(n.noShowFreed), range.contains(n.noShows), range.contains(n.vaccinated), n.isConsistent else {
                        throw input.failure("session \(s) category \(c) uses more units than its capacity, or a counter is out of range")
                    }
                }
            }
            let n = try input.count(limit: parts.sessions.count * CompiledPolicy.capacityMax)
            for _ in 0..<n {
                let id = try input.integer(UInt64.self)
                let hold = SessionInventory.HoldRecord(session: try input.integer(Int32.self), category: try input.integer(UInt8.self),
                                                       expiresAt: try input.int())
                guard hold.session >= 0, Int(hold.session) < parts.sessions.count, Int(hold.category) < categoryCount,
                      parts.holds.updateValue(hold, forKey: id) == nil else {
                    throw input.failure("has a hold of a session or category out of range, or twice")
                }
            }
            // Every held unit has its hold record, at the same session and category (releasing a
            // hold decrements the counter its record names).
            var held: [Int: Int32] = [:]
            for hold in parts.holds.values { held[Int(hold.session) * categoryCount + Int(hold.category), default: 0] += 1 }
            for i in 0..<parts.counters.count where parts.counters[i].held != held[i, default: 0] {
                throw input.failure("session \(i / categoryCount) category \(i % categoryCount) counts \(parts.counters[i].held) held units but has \(held[i, default: 0]) hold records")
            }
            shards.append(parts)
        }
        return shards
    }

    private func readCenters(_ input: inout SnapshotReader) throws(SlotAllocationError) -> [CenterSpec] {
        input.part = "centres"
        let n = try input.count(limit: configuration.centersMax)
        var list: [CenterSpec] = []
        for _ in 0..<n {
            let externalID = try input.int(), name = try input.text(), district = try input.int()
            guard let ownership = CenterSpec.Ownership(rawValue: try input.text()) else { throw input.failure("has an unknown ownership") }
            list.append(CenterSpec(externalID: externalID, name: name, district: district, ownership: ownership, feeRupees: try input.int()))
        }
        return list
    }

    /// The snapshot's sessions must be this engine's (when it has any), and reference its centres.
    private func checkTopology(_ shards: [RestoredSessions], _ centerList: [CenterSpec]) throws(SlotAllocationError) {
        let current = centers.withLock { $0 }
        guard current.isEmpty || current == centerList else {
            throw .invalid("snapshot", "has other centres (\(centerList.count)) than this engine (\(current.count))")
        }
        for shard in 0..<configuration.sessionShards {
            let parts = shards[shard]
            for s in 0..<parts.sessions.count {
                let center = Int(parts.sessions[s].center)
                guard center < centerList.count, centerList[center].district & sessionShardMask == shard else {
                    throw .invalid("snapshot: session shard \(shard)", "session \(s) belongs to no centre of this shard")
                }
            }
            guard !current.isEmpty else { continue }
            let same = sessionShards[shard].withLock { inventory -> Bool in
                guard inventory.count == parts.sessions.count, inventory.slotStart.count == parts.slotStart.count else { return false }
                for s in 0..<inventory.count {
                    let a = inventory.sessions[s], b = parts.sessions[s]
                    guard a.day == b.day, a.center == b.center, a.slotOffset == b.slotOffset, a.slotCount == b.slotCount,
                          a.vaccine == b.vaccine, a.minAge == b.minAge, a.maxAge == b.maxAge else { return false }
                    let base = s * inventory.categoryCount
                    for c in 0..<inventory.categoryCount where inventory.counters[base + c].capacity != parts.counters[base + c].capacity {
                        return false
                    }
                }
                for w in 0..<inventory.slotStart.count where inventory.slotStart[w] != parts.slotStart[w] || inventory.slotEnd[w] != parts.slotEnd[w] {
                    return false
                }
                return true
            }
            guard same else { throw .invalid("snapshot: session shard \(shard)", "has other sessions than this engine") }
        }
    }

    /// Every person's facts in range, and every live appointment at an existing session,
    /// category and slot window (requests index tables with them).
    private func checkPeople(_ shards: [RawRecords<BeneficiaryRegistry.Record>], _ sessions: [RestoredSessions]) throws(SlotAllocationError) {
        let referenceYear = policy.ageReferenceYear
        for (shard, records) in shards.enumerated() {
            for k in 0..<records.count {
                let record = records[k], person = record.person
                guard person.birthYear != Int16.min else {
                    guard record.dose1.state == .none, record.dose2.state == .none else {
                        throw .invalid("snapshot: beneficiary shard \(shard)", "person \(k) is not registered but has a live appointment")
                    }
                    continue
                }
                guard (referenceYear - ageMax...referenceYear).contains(Int(person.birthYear)),
                      Int(person.group) < CompiledPolicy.priorityGroupCountMax,
                      person.dose1Day == BeneficiaryRegistry.noDay
                        || (Int(person.dose1Vaccine) < policy.policy.vaccines.count && (-36_500...36_500).contains(person.dose1Day)) else {
                    throw .invalid("snapshot: beneficiary shard \(shard)", "person \(k) has a birth year, group, dose-1 vaccine or dose-1 day out of range")
                }
                // (Two plain checks: an array of the two would be allocated for every person.)
                func exists(_ live: BeneficiaryRegistry.Live) -> Bool {
                    guard live.state != .none else { return true }
                    let sessionShard = Int(live.session) & sessionShardMask, local = Int(live.session >> sessionShardBits)
                    return local < sessions[sessionShard].sessions.count && Int(live.category) < policy.categoryCount
                        && live.slot < sessions[sessionShard].sessions[local].slotCount && live.serial < 1 << 31
                }
                guard exists(record.dose1), exists(record.dose2) else {
                    throw .invalid("snapshot: beneficiary shard \(shard)", "person \(k) has an appointment at a session, category or slot that does not exist, or an impossible serial")
                }
            }
        }
    }

    /// Back to the state before ``restore(from:)``: no beneficiaries, no bookings (and no
    /// topology if it came from the snapshot).
    private func resetAfterFailedRestore(topologyTaken: Bool) {
        let categoryCount = policy.categoryCount
        for shard in 0..<configuration.beneficiaryShards {
            beneficiaryShards[shard].withLock { registry in
                registry.replaceRecords(AlignedArray())
                registry.requests = IdempotencyCache(capacity: registry.requests.capacity)
            }
        }
        for shard in 0..<configuration.sessionShards {
            sessionShards[shard].withLock { inventory in
                if topologyTaken {
                    inventory = SessionInventory(categoryCount: categoryCount)
                    return
                }
                var counters = AlignedArray<SessionInventory.Counters>()
                for i in 0..<inventory.counters.count { counters.append(SessionInventory.Counters(capacity: inventory.counters[i].capacity)) }
                inventory.counters = counters
                inventory.holds = [:]
                inventory.expiries = ExpiryHeap()
            }
        }
        if topologyTaken {
            centers.withLock { $0 = [] }
            sessionTotal.store(0, ordering: .relaxed)
        }
        nextBeneficiary.store(0, ordering: .relaxed)
    }
}

// MARK: Remembered outcomes

extension BookingEngine {
    static let appointmentStates: [AppointmentState] = [.held, .booked, .walkIn, .vaccinated, .cancelled, .noShow]

    func write(_ outcome: Result<Appointment, BookingRefusal>, to out: inout SnapshotWriter) {
        switch outcome {
        case .success(let a):
            out.integer(UInt8(0))
            out.integer(a.id.rawValue)
            out.integer(a.session.rawValue)
            out.integer(a.category.rawValue)
            out.int(a.slot)
            out.int(Self.appointmentStates.firstIndex(of: a.state)!)
            out.optional(a.holdExpiresAt)
        case .failure(let refusal):
            out.integer(UInt8(1))
            let (ints, texts) = refusal.payload
            out.text(refusal.code)
            out.int(ints.count)
            for value in ints { out.optional(value) }
            out.int(texts.count)
            for text in texts { out.text(text) }
        }
    }

    static func readOutcome(_ input: inout SnapshotReader) throws(SlotAllocationError) -> Result<Appointment, BookingRefusal> {
        switch try input.integer(UInt8.self) {
        case 0:
            let id = AppointmentID(rawValue: try input.integer(UInt64.self))
            let session = SessionIndex(rawValue: try input.integer(UInt32.self))
            let category = CategoryIndex(rawValue: try input.integer(UInt8.self))
            let slot = try input.int()
            let state = try input.int()
            guard appointmentStates.indices.contains(state) else { throw input.failure("has an unknown appointment state") }
            return .success(Appointment(id: id, session: session, category: category, slot: slot, state: appointmentStates[state],
                                        holdExpiresAt: try input.optional()))
        case 1:
            let code = try input.text()
            var ints: [Int?] = []
            for _ in 0..<(try input.count(limit: 4)) { ints.append(try input.optional()) }
            var texts: [String] = []
            for _ in 0..<(try input.count(limit: 4)) { texts.append(try input.text()) }
            guard let refusal = BookingRefusal(code: code, ints: ints, texts: texts) else {
                throw input.failure("has a remembered refusal \"\(code)\" that this build does not know")
            }
            return .failure(refusal)
        default:
            throw input.failure("has a remembered outcome of unknown kind")
        }
    }
}

extension BookingRefusal {
    /// The refusal's values, as integers and texts (for a snapshot).
    var payload: (ints: [Int?], texts: [String]) {
        switch self {
        case let .unknownBeneficiary(id): ([Int(id.rawValue)], [])
        case let .unknownSession(id): ([Int(id.rawValue)], [])
        case let .unknownAppointment(id): ([Int(bitPattern: UInt(id.rawValue))], [])
        case let .invalidSlot(slot, count): ([slot, count], [])
        case let .ageNotEligible(age, lo, hi): ([age, lo, hi], [])
        case let .noAgeBand(age): ([age], [])
        case let .bandNotOpen(band, day), let .walkInsNotOpen(band, day): ([day], [band])
        case let .doseAlreadyGiven(dose): ([dose.rawValue], [])
        case let .vaccineMismatch(required, offered): ([], [required, offered])
        case let .doseIntervalNotMet(day), let .doseIntervalExceeded(day): ([day], [])
        case let .alreadyBooked(id): ([Int(bitPattern: UInt(id.rawValue))], [])
        case let .tooManyPreferences(limit), let .batchTooLarge(limit): ([limit], [])
        case let .bookingClosed(at), let .notSessionDay(at), let .slotWindowNotStarted(at), let .timeOutOfRange(at): ([at], [])
        case let .wrongState(state): ([BookingEngine.appointmentStates.firstIndex(of: state)!], [])
        case .dose1NotGiven, .sessionFull, .categoryFull, .outranked, .noPreferences, .duplicateRequest,
             .outsideSessionHours, .holdExpired, .requestIDReused: ([], [])
        }
    }

    /// The refusal with this ``code`` and ``payload``; nil if they do not fit.
    init?(code: String, ints: [Int?], texts: [String]) {
        func int(_ k: Int) -> Int? { k < ints.count ? ints[k] : nil }
        func text(_ k: Int) -> String? { k < texts.count ? texts[k] : nil }
        func u32(_ k: Int) -> UInt32? { int(k).flatMap { UInt32(exactly: $0) } }
        func u64(_ k: Int) -> UInt64? { int(k).map { UInt64(UInt(bitPattern: $0)) } }
        let value: BookingRefusal?
        switch code {
        case "unknown_beneficiary": value = u32(0).map { .unknownBeneficiary(BeneficiaryID(rawValue: $0)) }
        case "unknown_session": value = u32(0).map { .unknownSession(SessionIndex(rawValue: $0)) }
        case "unknown_appointment": value = u64(0).map { .unknownAppointment(AppointmentID(rawValue: $0)) }
        case "invalid_slot": value = int(0).flatMap { s in int(1).map { .invalidSlot(slot: s, slotCount: $0) } }
        case "age_not_eligible": value = int(0).flatMap { a in int(1).map { .ageNotEligible(age: a, minAge: $0, maxAge: int(2)) } }
        case "no_age_band": value = int(0).map { .noAgeBand(age: $0) }
        case "band_not_open": value = text(0).map { .bandNotOpen(band: $0, openingDay: int(0)) }
        case "walk_ins_not_open": value = text(0).map { .walkInsNotOpen(band: $0, openingDay: int(0)) }
        case "dose1_not_given": value = .dose1NotGiven
        case "dose_already_given": value = int(0).flatMap(Dose.init(rawValue:)).map { .doseAlreadyGiven($0) }
        case "vaccine_mismatch": value = text(0).flatMap { r in text(1).map { .vaccineMismatch(required: r, offered: $0) } }
        case "dose_interval_not_met": value = int(0).map { .doseIntervalNotMet(earliestDay: $0) }
        case "dose_interval_exceeded": value = int(0).map { .doseIntervalExceeded(latestDay: $0) }
        case "already_booked": value = u64(0).map { .alreadyBooked(AppointmentID(rawValue: $0)) }
        case "session_full": value = .sessionFull
        case "category_full": value = .categoryFull
        case "outranked": value = .outranked
        case "no_preferences": value = .noPreferences
        case "too_many_preferences": value = int(0).map { .tooManyPreferences(limit: $0) }
        case "batch_too_large": value = int(0).map { .batchTooLarge(limit: $0) }
        case "duplicate_request": value = .duplicateRequest
        case "booking_closed": value = int(0).map { .bookingClosed(closedAt: $0) }
        case "not_session_day": value = int(0).map { .notSessionDay(sessionDay: $0) }
        case "outside_session_hours": value = .outsideSessionHours
        case "hold_expired": value = .holdExpired
        case "wrong_state": value = int(0).flatMap { BookingEngine.appointmentStates.indices.contains($0) ? .wrongState(BookingEngine.appointmentStates[$0]) : nil }
        case "slot_window_not_started": value = int(0).map { .slotWindowNotStarted(startsAt: $0) }
        case "request_id_reused": value = .requestIDReused
        case "time_out_of_range": value = int(0).map { .timeOutOfRange($0) }
        default: value = nil
        }
        guard let value else { return nil }
        self = value
    }
}
