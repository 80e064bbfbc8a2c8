import Synchronization

/// Limits and sharding of a ``BookingEngine``.
public struct BookingEngineConfiguration: Hashable, Sendable, Codable {
    /// Sessions may be on days `0 ..< horizonDays`.
    public var horizonDays: Int
    /// Number of session shards (a power of two, 1...256). Sessions are sharded by district.
    public var sessionShards: Int
    /// Number of beneficiary shards (a power of two, 1...256).
    public var beneficiaryShards: Int
    /// Request ids remembered per beneficiary shard for idempotency.
    public var idempotencyEntriesPerShard: Int
    public var sessionsMax: Int
    public var beneficiariesMax: Int
    public var centersMax: Int

    public init(horizonDays: Int = 366, sessionShards: Int = 64, beneficiaryShards: Int = 64,
                idempotencyEntriesPerShard: Int = 65_536, sessionsMax: Int = 50_000_000,
                beneficiariesMax: Int = 1_000_000_000, centersMax: Int = 2_000_000) {
        self.horizonDays = horizonDays
        self.sessionShards = sessionShards
        self.beneficiaryShards = beneficiaryShards
        self.idempotencyEntriesPerShard = idempotencyEntriesPerShard
        self.sessionsMax = sessionsMax
        self.beneficiariesMax = beneficiariesMax
        self.centersMax = centersMax
    }

    /// One shard of each kind: for a single thread (a simulation replication).
    public static let singleThreaded = BookingEngineConfiguration(sessionShards: 1, beneficiaryShards: 1)
}

/// An appointment (or hold) as the engine reports it.
public struct Appointment: Hashable, Sendable {
    public var id: AppointmentID
    public var session: SessionIndex
    public var category: CategoryIndex
    /// Index of the slot window in the session.
    public var slot: Int
    public var state: AppointmentState
    /// For a hold: when it lapses unless confirmed.
    public var holdExpiresAt: Int?

    public var beneficiary: BeneficiaryID { id.beneficiary }
    public var dose: Dose { id.dose }
}

/// The online face of the allocator: hold, confirm, book, cancel, reschedule, walk-in
/// check-in, no-show and vaccination records, one request at a time, from any number
/// of threads. It never oversells, and every refusal is a typed ``BookingRefusal``.
///
/// ```swift
/// let engine = try BookingEngine(policy: .standard())
/// let center = try engine.addCenter(CenterSpec(externalID: 1, name: "PHC Sohna", district: 0))
/// let session = try engine.addSession(SessionSpec(center: center, day: 3, vaccine: 0, minAge: 18, capacity: 100))
/// ```
///
/// Time is an integer: seconds since an epoch the caller chooses, whose day 0 starts at
/// second 0 (day `d` is `d * 86400 ..< (d + 1) * 86400`, in the caller's local time).
/// `now` is the caller's clock and must not run backwards across requests: any request
/// that touches a session shard, ``availability(_:now:)`` included, first releases that
/// shard's holds lapsed by its `now`, and a release is final. A server passes its wall
/// clock; a simulation passes its event time.
///
/// Concurrency: sessions live in shards by district, beneficiaries in shards by id, each
/// behind a `Mutex`. A request locks its beneficiary's shard, then (nested) one session
/// shard at a time — always in that order, so there is no deadlock — and requests for
/// different districts and people proceed in parallel.
///
/// - Complexity: every request is O(categories) plus a hash lookup when it carries a
///   ``RequestID``; holds add O(log holds) for their expiry heap.
public final class BookingEngine: @unchecked Sendable {
    // @unchecked: besides `let`s and atomics the engine holds only `ShardArray`s, whose
    // every shard is behind its `Mutex` (see ShardArray for why raw memory).
    let policy: CompiledPolicy
    let configuration: BookingEngineConfiguration
    let sessionShards: ShardArray<SessionInventory>
    let beneficiaryShards: ShardArray<BeneficiaryRegistry>
    let sessionShardMask: Int
    let beneficiaryShardMask: Int
    let sessionShardBits: UInt32
    let beneficiaryShardBits: UInt32
    let centers = Mutex<[CenterSpec]>([])
    let sessionTotal = Atomic<Int>(0)
    let nextBeneficiary = Atomic<Int>(0)

    /// The policy as given.
    public var allocationPolicy: AllocationPolicy { policy.policy }

    public init(policy: AllocationPolicy, configuration: BookingEngineConfiguration = .init()) throws(SlotAllocationError) {
        self.policy = try CompiledPolicy(policy)
        for (key, value) in [("sessionShards", configuration.sessionShards), ("beneficiaryShards", configuration.beneficiaryShards)] {
            guard (1...256).contains(value), value & (value - 1) == 0 else {
                throw .invalid("configuration.\(key)", "must be a power of two from 1 to 256, found \(value)")
            }
        }
        guard (1...36_500).contains(configuration.horizonDays) else {
            throw .invalid("configuration.horizonDays", "must be between 1 and 36500, found \(configuration.horizonDays)")
        }
        guard configuration.idempotencyEntriesPerShard >= 0 else {
            throw .invalid("configuration.idempotencyEntriesPerShard", "must not be negative")
        }
        guard configuration.beneficiariesMax <= Int(UInt32.max), configuration.sessionsMax <= Int(UInt32.max) / 2 else {
            throw .invalid("configuration", "sessionsMax and beneficiariesMax must fit 32-bit ids")
        }
        self.configuration = configuration
        let categoryCount = self.policy.categoryCount
        sessionShards = ShardArray(count: configuration.sessionShards) { _ in SessionInventory(categoryCount: categoryCount) }
        let remembered = configuration.idempotencyEntriesPerShard
        beneficiaryShards = ShardArray(count: configuration.beneficiaryShards) { _ in
            BeneficiaryRegistry(idempotencyCapacity: remembered)
        }
        sessionShardMask = configuration.sessionShards - 1
        beneficiaryShardMask = configuration.beneficiaryShards - 1
        sessionShardBits = UInt32(configuration.sessionShards.trailingZeroBitCount)
        beneficiaryShardBits = UInt32(configuration.beneficiaryShards.trailingZeroBitCount)
    }

    // MARK: Topology

    /// Registers a centre. - Complexity: O(1) amortised.
    public func addCenter(_ spec: CenterSpec) throws(SlotAllocationError) -> CenterIndex {
        guard spec.district >= 0 else { throw .invalid("center.district", "must not be negative, found \(spec.district)") }
        guard spec.feeRupees >= 0 else { throw .invalid("center.feeRupees", "must not be negative, found \(spec.feeRupees)") }
        let limit = configuration.centersMax
        let index: Int? = centers.withLock { list -> Int? in
            guard list.count < limit else { return nil }
            list.append(spec)
            return list.count - 1
        }
        guard let index else { throw .limitExceeded("centers", limit: limit) }
        return CenterIndex(rawValue: UInt32(index))
    }

    /// Publishes a session; its capacity is split into the policy's categories.
    /// - Complexity: O(categories + slots) amortised.
    public func addSession(_ spec: SessionSpec) throws(SlotAllocationError) -> SessionIndex {
        let counts = try validate(spec)
        guard let district = centers.withLock({ list -> Int? in
            Int(spec.center.rawValue) < list.count ? list[Int(spec.center.rawValue)].district : nil
        }) else {
            throw .invalid("session.center", "\(spec.center) is not a registered centre")
        }
        let limit = configuration.sessionsMax
        guard sessionTotal.add(1, ordering: .relaxed).newValue <= limit else {
            sessionTotal.subtract(1, ordering: .relaxed)
            throw .limitExceeded("sessions", limit: limit)
        }
        let shard = district & sessionShardMask
        // A session id keeps the shard in its low bits, so one shard holds at most 2^(32 - bits) sessions.
        let perShardMax = 1 << (32 - Int(sessionShardBits))
        let local: Int? = sessionShards[shard].withLock { inventory -> Int? in
            guard inventory.count < perShardMax, inventory.slotStart.count + spec.slots.count <= Int(Int32.max) else { return nil }
            inventory.append(spec, counts: counts)
            return inventory.count - 1
        }
        guard let local else {
            sessionTotal.subtract(1, ordering: .relaxed)
            throw .limitExceeded("sessions of one session shard (districts \(shard) mod \(configuration.sessionShards))", limit: perShardMax)
        }
        return SessionIndex(rawValue: UInt32(local) << sessionShardBits | UInt32(shard))
    }

    private func validate(_ spec: SessionSpec) throws(SlotAllocationError) -> [Int] {
        guard (0..<configuration.horizonDays).contains(spec.day) else {
            throw .invalid("session.day", "must be within the horizon 0..<\(configuration.horizonDays), found \(spec.day)")
        }
        guard policy.policy.vaccines.indices.contains(spec.vaccine) else {
            throw .invalid("session.vaccine", "must index the policy's vaccines (0..<\(policy.policy.vaccines.count)), found \(spec.vaccine)")
        }
        guard (0...ageMax).contains(spec.minAge), (spec.maxAge ?? ageMax) >= spec.minAge, (spec.maxAge ?? 0) <= ageMax else {
            throw .invalid("session.minAge", "needs 0 <= minAge <= maxAge <= \(ageMax), found \(spec.minAge)...\(spec.maxAge.map(String.init) ?? "")")
        }
        guard (1...Int(UInt8.max)).contains(spec.slots.count) else {
            throw .invalid("session.slots", "needs 1 to 255 slot windows, found \(spec.slots.count)")
        }
        for (n, window) in spec.slots.enumerated() {
            guard 0 <= window.startSecondOfDay, window.startSecondOfDay < window.endSecondOfDay,
                  window.endSecondOfDay <= CompiledPolicy.secondsPerDay else {
                throw .invalid("session.slots[\(n)]", "needs 0 <= start < end <= 86400, found \(window)")
            }
            // Walk-in hours run from the first window's start to the last one's end.
            guard n == 0 || window.startSecondOfDay >= spec.slots[n - 1].endSecondOfDay else {
                throw .invalid("session.slots[\(n)]", "must start at or after the previous window ends (\(spec.slots[n - 1])), found \(window)")
            }
        }
        guard (0...CompiledPolicy.capacityMax).contains(spec.capacity) else {
            throw .invalid("session.capacity", "must be between 0 and \(CompiledPolicy.capacityMax), found \(spec.capacity)")
        }
        return try policy.split(capacity: spec.capacity, override: spec.categoryCapacities)
    }

    /// Registers a person and returns their id. - Complexity: O(1) amortised.
    public func registerBeneficiary(_ spec: BeneficiarySpec) throws(SlotAllocationError) -> BeneficiaryID {
        let referenceYear = policy.ageReferenceYear
        guard (referenceYear - ageMax...referenceYear).contains(spec.birthYear) else {
            throw .invalid("beneficiary.birthYear", "must give an age of 0...\(ageMax) in \(referenceYear), found \(spec.birthYear)")
        }
        guard (0..<CompiledPolicy.priorityGroupCountMax).contains(spec.priorityGroup) else {
            throw .invalid("beneficiary.priorityGroup", "must be between 0 and 63, found \(spec.priorityGroup)")
        }
        if let dose1 = spec.dose1 {
            guard policy.policy.vaccines.indices.contains(dose1.vaccine) else {
                throw .invalid("beneficiary.dose1.vaccine", "must index the policy's vaccines, found \(dose1.vaccine)")
            }
            guard (-36_500...36_500).contains(dose1.day) else {
                throw .invalid("beneficiary.dose1.day", "must be between -36500 and 36500, found \(dose1.day)")
            }
        }
        if let dose2Day = spec.dose2Day {
            guard let dose1 = spec.dose1 else { throw .invalid("beneficiary.dose2Day", "needs dose1: dose 2 comes after dose 1") }
            guard dose2Day > dose1.day, dose2Day <= 36_500 else {
                throw .invalid("beneficiary.dose2Day", "must be after dose 1's day (\(dose1.day)) and at most 36500, found \(dose2Day)")
            }
        }
        let number = nextBeneficiary.add(1, ordering: .relaxed).oldValue
        guard number < configuration.beneficiariesMax else {
            throw .limitExceeded("beneficiaries", limit: configuration.beneficiariesMax)
        }
        let shard = number & beneficiaryShardMask
        let local = number >> Int(beneficiaryShardBits)
        beneficiaryShards[shard].withLock { $0.store(local, spec) }
        return BeneficiaryID(rawValue: UInt32(local) << beneficiaryShardBits | UInt32(shard))
    }

    // MARK: Queries

    /// The session as published, or nil for an unknown index.
    public func session(_ index: SessionIndex) -> SessionSpec? {
        withSession(index.rawValue) { inventory, s in
            let record = inventory.sessions[s]
            let slots = inventory.slots(s).map {
                SlotWindow(startSecondOfDay: Int(inventory.slotStart[$0]), endSecondOfDay: Int(inventory.slotEnd[$0]))
            }
            let base = s * inventory.categoryCount
            let counts = (base..<(base + inventory.categoryCount)).map { Int(inventory.counters[$0].capacity) }
            return SessionSpec(center: CenterIndex(rawValue: record.center), day: Int(record.day), vaccine: Int(record.vaccine),
                               minAge: Int(record.minAge), maxAge: Int(record.maxAge) >= ageMax ? nil : Int(record.maxAge),
                               slots: slots, capacity: counts.reduce(0, +), categoryCapacities: counts)
        }
    }

    /// What the session has left at `now`: CoWIN's `available_capacity`, `_dose1`, `_dose2`, and every category's counters.
    public func availability(_ index: SessionIndex, now: Int) -> SessionAvailability? {
        let now = min(max(now, -CompiledPolicy.timeLimit), CompiledPolicy.timeLimit)
        return withSession(index.rawValue) { inventory, s in
            _ = inventory.releaseExpiredHolds(now: now)
            return SessionAvailability(index, inventory: inventory, local: s, policy: policy, now: now)
        }
    }

    /// The live appointment or hold of a person for a dose, if any.
    public func liveAppointment(of beneficiary: BeneficiaryID, dose: Dose, now: Int) -> Appointment? {
        let (shard, local) = locate(beneficiary)
        return beneficiaryShards[shard].withLock { registry in
            guard registry.isRegistered(local) else { return nil }
            let record = registry[live: local * 2 + dose.offset]
            guard record.state != .none else { return nil }
            if record.state == .held, record.expiresAt <= now { return nil }
            return appointment(record, beneficiary, dose, state: record.state.appointmentState)
        }
    }

    /// The day of each dose given, as recorded by ``recordVaccination(_:now:requestID:)``.
    public func doses(of beneficiary: BeneficiaryID) -> (dose1: DoseRecord?, dose2Day: Int?)? {
        let (shard, local) = locate(beneficiary)
        return beneficiaryShards[shard].withLock { registry in
            guard registry.isRegistered(local) else { return nil }
            let person = registry[person: local]
            let d1 = person.dose1Day == BeneficiaryRegistry.noDay ? nil : DoseRecord(day: Int(person.dose1Day), vaccine: Int(person.dose1Vaccine))
            return (d1, person.dose2Day == BeneficiaryRegistry.noDay ? nil : Int(person.dose2Day))
        }
    }

    public var sessionCount: Int { sessionTotal.load(ordering: .relaxed) }
    public var beneficiaryCount: Int { min(nextBeneficiary.load(ordering: .relaxed), configuration.beneficiariesMax) }

    // MARK: Plumbing

    @inline(__always)
    func locate(_ beneficiary: BeneficiaryID) -> (shard: Int, local: Int) {
        (Int(beneficiary.rawValue) & beneficiaryShardMask, Int(beneficiary.rawValue >> beneficiaryShardBits))
    }

    /// Runs `body` on the session's shard under its lock; nil if the session is unknown.
    @inline(__always)
    func withSession<R: Sendable>(_ raw: UInt32, _ body: (inout SessionInventory, Int) -> R) -> R? {
        let local = Int(raw >> sessionShardBits)
        return sessionShards[Int(raw) & sessionShardMask].withLock { inventory -> R? in
            local < inventory.count ? body(&inventory, local) : nil
        }
    }

    func appointment(_ record: BeneficiaryRegistry.Live, _ beneficiary: BeneficiaryID, _ dose: Dose,
                     state: AppointmentState) -> Appointment {
        Appointment(id: AppointmentID(beneficiary: beneficiary, dose: dose, serial: record.serial),
                    session: SessionIndex(rawValue: record.session), category: CategoryIndex(rawValue: record.category),
                    slot: Int(record.slot), state: state, holdExpiresAt: state == .held ? record.expiresAt : nil)
    }
}
