/// A request for the batch face of the engine: a person, a dose and ranked sessions.
public struct BatchBookingRequest: Hashable, Sendable {
    public var beneficiary: BeneficiaryID
    public var dose: Dose
    /// Sessions, most preferred first.
    public var preferences: [SessionIndex]
    /// The slot window to book in whichever session is assigned.
    public var slot: Int
    /// When the request was made (first come, first served ranks by it).
    public var requestTime: Int
    public var registrationTime: Int?

    public init(beneficiary: BeneficiaryID, dose: Dose = .one, preferences: [SessionIndex], slot: Int = 0,
                requestTime: Int, registrationTime: Int? = nil) {
        self.beneficiary = beneficiary
        self.dose = dose
        self.preferences = preferences
        self.slot = slot
        self.requestTime = requestTime
        self.registrationTime = registrationTime
    }
}

/// The two faces on one state: a batch mechanism decides, the engine books.
extension BookingEngine {
    /// Allocates `requests` over the engine's free online units with `mechanism` (the
    /// ``BatchAllocator`` on the engine's own policy), then books each assignment through
    /// the same rules and counters as ``book(_:session:slot:dose:now:requestID:)``. Returns
    /// one outcome per request, in order: the appointment, or why not — a request refused up
    /// front (unknown person, live appointment, dose already given), the allocator's reason
    /// (ineligible everywhere: the refusal at the first known preference; ``BookingRefusal/outranked``,
    /// which also covers units that were gone before the batch; ``BookingRefusal/noPreferences``),
    /// or the engine's if the unit went meanwhile to a concurrent request. A person asking twice
    /// for one dose gets ``BookingRefusal/duplicateRequest`` for the later copy.
    ///
    /// ```swift
    /// let outcomes = engine.allocateBatch(requests, mechanism: .deferredAcceptance(lotterySeed: 7), now: 16 * 3600)
    /// ```
    /// - Complexity: the mechanism's, plus one booking per assignment.
    public func allocateBatch(_ requests: [BatchBookingRequest], mechanism: BatchMechanism,
                              now: Int) -> [Result<Appointment, BookingRefusal>] {
        guard (-CompiledPolicy.timeLimit...CompiledPolicy.timeLimit).contains(now) else {
            return requests.map { _ in .failure(.timeOutOfRange(now)) }
        }
        guard requests.count <= BatchAllocator.registrantsMax else {
            return requests.map { _ in .failure(.batchTooLarge(limit: BatchAllocator.registrantsMax)) }
        }
        var outcomes = [Result<Appointment, BookingRefusal>?](repeating: nil, count: requests.count)
        // The sessions involved, with the units each category has free for online now.
        var batchIndex: [SessionIndex: Int] = [:], sessionOf: [SessionIndex] = [], slotCount: [Int] = []
        var sessions = BatchSessions()
        for request in requests {
            for session in request.preferences where batchIndex[session] == nil {
                let snapshot: (SessionFacts, [Int], Int)? = withSession(session.rawValue) { inventory, s in
                    _ = inventory.releaseExpiredHolds(now: now)
                    let base = s * inventory.categoryCount
                    return (inventory.sessions[s].facts, (base..<(base + inventory.categoryCount)).map { Int(inventory.counters[$0].free) },
                            Int(inventory.sessions[s].slotCount))
                }
                guard let (facts, free, slots) = snapshot else { continue }
                batchIndex[session] = sessions.count
                sessionOf.append(session)
                slotCount.append(slots)
                sessions.append(district: 0, day: facts.day, vaccine: facts.vaccine, minAge: facts.minAge,
                                maxAge: facts.maxAge, capacity: free.reduce(0, +), categoryCapacities: free)
            }
        }
        // The people, refused up front where the batch could not take them.
        var registrants = BatchRegistrants(), registrantOf: [Int] = [], requested = Set<AppointmentID>()
        for (r, request) in requests.enumerated() {
            let times = -CompiledPolicy.timeLimit...CompiledPolicy.timeLimit
            for time in [request.requestTime, request.registrationTime ?? request.requestTime] where !times.contains(time) {
                outcomes[r] = .failure(.timeOutOfRange(time))
            }
            if outcomes[r] != nil { continue }
            // A person may ask once per dose in a batch; a second copy would hold back units.
            guard requested.insert(AppointmentID(beneficiary: request.beneficiary, dose: request.dose, serial: 0)).inserted else {
                outcomes[r] = .failure(.duplicateRequest)
                continue
            }
            guard request.preferences.count <= BatchAllocator.preferencesPerRegistrantMax else {
                outcomes[r] = .failure(.tooManyPreferences(limit: BatchAllocator.preferencesPerRegistrantMax))
                continue
            }
            let (shard, local) = locate(request.beneficiary)
            let person: Result<BeneficiaryRegistry.Person, BookingRefusal> = beneficiaryShards[shard].withLock { registry in
                guard registry.isRegistered(local) else { return .failure(.unknownBeneficiary(request.beneficiary)) }
                let live = registry[live: local * 2 + request.dose.offset]
                if live.state != .none, !(live.state == .held && live.expiresAt <= now) {
                    return .failure(.alreadyBooked(AppointmentID(beneficiary: request.beneficiary, dose: request.dose, serial: live.serial)))
                }
                let person = registry[person: local]
                if request.dose == .two, person.dose2Day != BeneficiaryRegistry.noDay { return .failure(.doseAlreadyGiven(.two)) }
                return .success(person)
            }
            switch person {
            case .failure(let refusal): outcomes[r] = .failure(refusal)
            case .success(let person):
                // Known sessions that have the requested slot window, each once, in the given order.
                var known: [Int] = [], listed = Set<Int>()
                for session in request.preferences {
                    guard let b = batchIndex[session], request.slot >= 0, request.slot < slotCount[b], listed.insert(b).inserted else { continue }
                    known.append(b)
                }
                if known.isEmpty, let first = request.preferences.first {
                    outcomes[r] = .failure(batchIndex[first].map { .invalidSlot(slot: request.slot, slotCount: slotCount[$0]) }
                        ?? .unknownSession(first))
                    continue
                }
                registrants.append(birthYear: Int(person.birthYear), priorityGroup: Int(person.group), dose: request.dose,
                                   dose1: person.dose1Day == BeneficiaryRegistry.noDay ? nil
                                       : DoseRecord(day: Int(person.dose1Day), vaccine: Int(person.dose1Vaccine)),
                                   requestTime: request.requestTime, registrationTime: request.registrationTime,
                                   preferences: known)
                registrantOf.append(r)
            }
        }
        let allocator = BatchAllocator(compiled: policy)
        let result: BatchResult
        do {
            result = try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: mechanism, now: now)
        } catch {
            // Unreachable: people, sessions, times, preferences and slots were all checked above.
            preconditionFailure("batch over the engine's own state failed validation: \(error)")
        }
        for (i, r) in registrantOf.enumerated() {
            let request = requests[r]
            if let reason = allocator.unassignedReason(of: i, sessions: sessions, registrants: registrants, result: result, now: now) {
                switch reason {
                case .noPreferences: outcomes[r] = .failure(.noPreferences)
                case .ineligibleAtEveryPreference(let refusal): outcomes[r] = .failure(refusal)
                case .outrankedAtEveryEligiblePreference: outcomes[r] = .failure(.outranked)
                }
                continue
            }
            let session = sessionOf[Int(result.session[i])], category = Int(result.category[i])
            outcomes[r] = withBeneficiary(request.beneficiary, now, nil, .book) { registry, local in
                takeOnline(&registry, local, request.beneficiary, session, request.slot, request.dose, now: now, hold: false,
                           category: category)
            }
        }
        // Every request got its outcome above: refused up front, left out, or booked.
        return outcomes.map { $0! }
    }
}
