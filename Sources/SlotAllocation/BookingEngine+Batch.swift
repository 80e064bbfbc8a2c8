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
        guard requests.count <= BatchAllocator.registrantsMax,
              requests.reduce(0, { $0 + $1.preferences.count }) < Int(Int32.max) else {
            return requests.map { _ in .failure(.batchTooLarge(limit: BatchAllocator.registrantsMax)) }
        }
        var outcomes = [Result<Appointment, BookingRefusal>?](repeating: nil, count: requests.count)
        let snapshot = snapshotSessions(requests, now: now)
        let (registrants, registrantOf) = admitRequests(requests, snapshot, now: now, &outcomes)
        let allocator = BatchAllocator(compiled: policy)
        let result: BatchResult
        do {
            result = try allocator.allocate(sessions: snapshot.sessions, registrants: registrants, mechanism: mechanism, now: now)
        } catch {
            // Unreachable: people, sessions, times, preferences, slots and sizes were all checked
            // above. Should it happen, every request still undecided gets a typed refusal.
            assertionFailure("batch over the engine's own state failed validation: \(error)")
            return outcomes.map { $0 ?? .failure(.batchTooLarge(limit: BatchAllocator.registrantsMax)) }
        }
        for (i, r) in registrantOf.enumerated() {
            let request = requests[r]
            let reason: UnassignedReason?
            do {
                reason = try allocator.unassignedReason(of: i, sessions: snapshot.sessions, registrants: registrants, result: result, now: now)
            } catch {
                // Unreachable: these are the sessions and registrants `result` came from.
                assertionFailure("a batch's own result did not match it: \(error)")
                outcomes[r] = .failure(.batchTooLarge(limit: BatchAllocator.registrantsMax))
                continue
            }
            if let reason {
                switch reason {
                case .noPreferences: outcomes[r] = .failure(.noPreferences)
                case .ineligibleAtEveryPreference(let refusal): outcomes[r] = .failure(refusal)
                case .outrankedAtEveryEligiblePreference: outcomes[r] = .failure(.outranked)
                }
                continue
            }
            let session = snapshot.sessionOf[Int(result.session[i])], category = Int(result.category[i])
            outcomes[r] = withBeneficiary(request.beneficiary, now, nil, .book) { registry, local in
                takeOnline(&registry, local, request.beneficiary, session, request.slot, request.dose, now: now, hold: false,
                           category: category)
            }
        }
        // Every request got its outcome: refused up front, left out, or booked.
        return outcomes.map { $0! }
    }

    /// The sessions a batch refers to, with the units each category has free for online now.
    struct BatchSnapshot {
        var sessions = BatchSessions()
        var batchIndex: [SessionIndex: Int] = [:]
        var sessionOf: [SessionIndex] = []
        var slotCount: [Int] = []
    }

    private func snapshotSessions(_ requests: [BatchBookingRequest], now: Int) -> BatchSnapshot {
        var snapshot = BatchSnapshot()
        for request in requests {
            for session in request.preferences where snapshot.batchIndex[session] == nil {
                let taken: (SessionFacts, [Int], Int)? = withSession(session.rawValue) { inventory, s in
                    _ = inventory.releaseExpiredHolds(now: now)
                    let base = s * inventory.categoryCount
                    return (inventory.sessions[s].facts, (base..<(base + inventory.categoryCount)).map { Int(inventory.counters[$0].free) },
                            Int(inventory.sessions[s].slotCount))
                }
                guard let (facts, free, slots) = taken else { continue }
                snapshot.batchIndex[session] = snapshot.sessions.count
                snapshot.sessionOf.append(session)
                snapshot.slotCount.append(slots)
                snapshot.sessions.append(district: 0, day: facts.day, vaccine: facts.vaccine, minAge: facts.minAge,
                                         maxAge: facts.maxAge, capacity: free.reduce(0, +), categoryCapacities: free)
            }
        }
        return snapshot
    }

    /// The requests the batch can take, as registrants (and which request each one is); the
    /// others get their refusal in `outcomes` now.
    private func admitRequests(_ requests: [BatchBookingRequest], _ snapshot: BatchSnapshot, now: Int,
                               _ outcomes: inout [Result<Appointment, BookingRefusal>?]) -> (BatchRegistrants, [Int]) {
        var registrants = BatchRegistrants(), registrantOf: [Int] = [], requested = Set<AppointmentID>()
        let times = -CompiledPolicy.timeLimit...CompiledPolicy.timeLimit
        for (r, request) in requests.enumerated() {
            if let bad = [request.requestTime, request.registrationTime ?? request.requestTime].first(where: { !times.contains($0) }) {
                outcomes[r] = .failure(.timeOutOfRange(bad))
                continue
            }
            // A person may ask once per dose in a batch; a second copy would hold back units.
            guard requested.insert(AppointmentID(beneficiary: request.beneficiary, dose: request.dose, serial: 0)).inserted else {
                outcomes[r] = .failure(.duplicateRequest)
                continue
            }
            guard request.preferences.count <= BatchAllocator.preferencesPerRegistrantMax else {
                outcomes[r] = .failure(.tooManyPreferences(limit: BatchAllocator.preferencesPerRegistrantMax))
                continue
            }
            let person: BeneficiaryRegistry.Person
            switch personForBatch(request, now: now) {
            case .failure(let refusal):
                outcomes[r] = .failure(refusal)
                continue
            case .success(let found): person = found
            }
            // Known sessions that have the requested slot window, each once, in the given order.
            var known: [Int] = [], listed = Set<Int>()
            for session in request.preferences {
                guard let b = snapshot.batchIndex[session], request.slot >= 0, request.slot < snapshot.slotCount[b],
                      listed.insert(b).inserted else { continue }
                known.append(b)
            }
            if known.isEmpty, let first = request.preferences.first {
                outcomes[r] = .failure(snapshot.batchIndex[first].map { .invalidSlot(slot: request.slot, slotCount: snapshot.slotCount[$0]) }
                    ?? .unknownSession(first))
                continue
            }
            registrants.append(birthYear: Int(person.birthYear), priorityGroup: Int(person.group), dose: request.dose,
                               dose1: person.dose1Day == BeneficiaryRegistry.noDay ? nil
                                   : DoseRecord(day: Int(person.dose1Day), vaccine: Int(person.dose1Vaccine)),
                               requestTime: request.requestTime, registrationTime: request.registrationTime, preferences: known)
            registrantOf.append(r)
        }
        return (registrants, registrantOf)
    }

    /// The person behind a request, unless they hold a live appointment for the dose or had dose 2.
    private func personForBatch(_ request: BatchBookingRequest, now: Int) -> Result<BeneficiaryRegistry.Person, BookingRefusal> {
        let (shard, local) = locate(request.beneficiary)
        return beneficiaryShards[shard].withLock { registry in
            guard registry.isRegistered(local) else { return .failure(.unknownBeneficiary(request.beneficiary)) }
            let live = registry[live: local * 2 + request.dose.offset]
            if live.state != .none, !(live.state == .held && live.expiresAt <= now) {
                return .failure(.alreadyBooked(AppointmentID(beneficiary: request.beneficiary, dose: request.dose, serial: live.serial)))
            }
            let person = registry[person: local]
            if request.dose == .two, person.dose2Day != BeneficiaryRegistry.noDay { return .failure(.doseAlreadyGiven(.two)) }
            return .success(person)
        }
    }
}
