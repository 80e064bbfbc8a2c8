/// The requests of ``BookingEngine``. Each takes the current time `now` (seconds since
/// the caller's epoch) and an optional ``RequestID``: a request repeated with the same
/// id and beneficiary returns the first outcome and changes nothing.
typealias LiveState = BeneficiaryRegistry.LiveState

extension BookingEngine {
    /// Books a unit of `session` for `beneficiary`'s `dose` in slot window `slot`.
    ///
    /// ```swift
    /// switch engine.book(person, session: session, slot: 0, dose: .one, now: now) {
    /// case .success(let appointment): print("booked", appointment.id)
    /// case .failure(let refusal): print("refused:", refusal.code)
    /// }
    /// ```
    /// - Complexity: O(categories).
    public func book(_ beneficiary: BeneficiaryID, session: SessionIndex, slot: Int, dose: Dose, now: Int,
                     requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(beneficiary, now, requestID, .book) { registry, local in
            takeOnline(&registry, local, beneficiary, session, slot, dose, now: now, hold: false)
        }
    }

    /// Holds a unit: it counts against capacity at once and lapses after the policy's
    /// `holdTimeoutSeconds`, or at the session's booking close if that comes sooner, unless
    /// ``confirm(_:now:requestID:)`` comes first.
    public func hold(_ beneficiary: BeneficiaryID, session: SessionIndex, slot: Int, dose: Dose, now: Int,
                     requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(beneficiary, now, requestID, .hold) { registry, local in
            takeOnline(&registry, local, beneficiary, session, slot, dose, now: now, hold: true)
        }
    }

    /// Turns a hold into a booking, if it has not lapsed.
    public func confirm(_ id: AppointmentID, now: Int, requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(id.beneficiary, now, requestID, .confirm) { registry, local in
            let live = local * 2 + id.dose.offset
            let record = registry[live: live]
            if let refusal = liveRefusal(record, id, allowed: LiveState.held.bit) { return .failure(refusal) }
            let confirmed = withSession(record.session) { inventory, _ in inventory.confirmHold(id.rawValue, now: now) } ?? false
            guard confirmed else {
                registry[live: live].state = .none
                return .failure(.holdExpired)
            }
            registry[live: live].state = .booked
            return .success(appointment(registry[live: live], id.beneficiary, id.dose, state: .booked))
        }
    }

    /// Cancels a booking, a hold or a walk-in check-in; the unit goes back to its category.
    public func cancel(_ id: AppointmentID, now: Int, requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(id.beneficiary, now, requestID, .cancel) { registry, local in
            let live = local * 2 + id.dose.offset
            let record = registry[live: live]
            if let refusal = liveRefusal(record, id, allowed: LiveState.held.bit | LiveState.booked.bit | LiveState.walkIn.bit) { return .failure(refusal) }
            if record.state == .held, record.expiresAt <= now {
                clearLapsedHold(&registry, live, id.beneficiary, id.dose, now: now)
                return .failure(.holdExpired)
            }
            _ = withSession(record.session) { inventory, s in
                let i = s * inventory.categoryCount + Int(record.category)
                switch record.state {
                case .held: inventory.releaseHold(id.rawValue)
                case .booked: inventory.counters[i].booked -= 1
                case .walkIn:
                    inventory.counters[i].walkIns -= 1
                    // A unit freed by a no-show goes back to the walk-ins, not to online.
                    if record.fromNoShowUnit { inventory.counters[i].noShowFreed += 1 }
                case .none: break
                }
                assert(inventory.counters[i].isConsistent)
            }
            registry[live: live].state = .none
            return .success(appointment(record, id.beneficiary, id.dose, state: .cancelled))
        }
    }

    /// Moves a booking to another session or slot, atomically: if the new one cannot be
    /// had, the old booking is kept unchanged and the refusal says why.
    public func reschedule(_ id: AppointmentID, to session: SessionIndex, slot: Int, now: Int,
                           requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(id.beneficiary, now, requestID, .reschedule) { registry, local in
            let live = local * 2 + id.dose.offset
            let old = registry[live: live]
            if let refusal = liveRefusal(old, id, allowed: LiveState.booked.bit) { return .failure(refusal) }
            let person = registry.applicant(local, dose: id.dose, policy: policy)
            let sameSession = old.session == session.rawValue
            let taken: Result<Int, BookingRefusal>? = withSession(session.rawValue) { inventory, s in
                if let refusal = onlineRefusal(inventory, s, slot, person, now: now) { return .failure(refusal) }
                // Within one session only the slot changes: the unit stays where it is.
                if sameSession { return .success(Int(old.category)) }
                return inventory.takeOnline(s, person, now: now, policy: policy, hold: nil)
            }
            guard let taken else { return .failure(.unknownSession(session)) }
            let category: Int
            switch taken {
            case .failure(let refusal): return .failure(refusal)
            case .success(let taken): category = taken
            }
            if !sameSession {
                _ = withSession(old.session) { inventory, s in
                    let i = s * inventory.categoryCount + Int(old.category)
                    inventory.counters[i].booked -= 1
                    assert(inventory.counters[i].isConsistent)
                }
            }
            registry[live: live] = .init(session: session.rawValue, serial: nextSerial(old), state: .booked,
                                        category: UInt8(category), slot: UInt8(slot))
            return .success(appointment(registry[live: live], id.beneficiary, id.dose, state: .booked))
        }
    }

    /// Admits a walk-in at the centre on the session's day, within its hours: a unit of a
    /// category open to walk-ins, or one freed by an online no-show.
    public func checkInWalkIn(_ beneficiary: BeneficiaryID, session: SessionIndex, dose: Dose, now: Int,
                              requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(beneficiary, now, requestID, .walkIn) { registry, local in
            let live = local * 2 + dose.offset
            let old: BeneficiaryRegistry.Live
            switch freeLiveRecord(&registry, live, beneficiary, dose, now: now) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let record): old = record
            }
            let person = registry.applicant(local, dose: dose, policy: policy)
            let taken: Result<(SessionInventory.WalkInUnit, Int), BookingRefusal>? = withSession(session.rawValue) { inventory, s in
                let facts = inventory.sessions[s].facts
                guard CompiledPolicy.day(of: now) == facts.day else { return .failure(.notSessionDay(sessionDay: facts.day)) }
                let second = now - facts.day * CompiledPolicy.secondsPerDay
                let windows = inventory.slots(s)
                guard second >= inventory.slotStart[windows.lowerBound], second < inventory.slotEnd[windows.upperBound - 1] else {
                    return .failure(.outsideSessionHours)
                }
                switch policy.sessionRefusal(person, facts, today: facts.day) {
                // Walk-ins open no earlier than online booking, so the check below refuses this
                // one too, with the day a walk-in is welcome rather than the online day.
                case nil, .bandNotOpen?: break
                case let refusal?: return .failure(refusal)
                }
                let walkInDay = policy.bandWalkInOpenDay[person.band]
                if walkInDay > facts.day {
                    return .failure(.walkInsNotOpen(band: policy.policy.ageBands[person.band].name, openingDay: walkInDay == .max ? nil : walkInDay))
                }
                let seat = windows.lastIndex { Int(inventory.slotStart[$0]) <= second }! - windows.lowerBound
                return inventory.takeWalkIn(s, person, now: now, policy: policy).map { ($0, seat) }
            }
            guard let taken else { return .failure(.unknownSession(session)) }
            switch taken {
            case .failure(let refusal): return .failure(refusal)
            case .success(let (unit, seat)):
                registry[live: live] = .init(session: session.rawValue, serial: nextSerial(old), state: .walkIn,
                                            category: UInt8(unit.category), slot: UInt8(seat), fromNoShowUnit: unit.fromNoShow)
                return .success(appointment(registry[live: live], beneficiary, dose, state: .walkIn))
            }
        }
    }

    /// Records that the dose was given on the session's day: the unit stays used, the
    /// appointment is finished and the dose enters the person's history (dose 2 rules use it).
    public func recordVaccination(_ id: AppointmentID, now: Int, requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(id.beneficiary, now, requestID, .vaccinate) { registry, local in
            let live = local * 2 + id.dose.offset
            let record = registry[live: live]
            if let refusal = liveRefusal(record, id, allowed: LiveState.booked.bit | LiveState.walkIn.bit) { return .failure(refusal) }
            let given: Result<(day: Int, vaccine: Int), BookingRefusal>? = withSession(record.session) { inventory, s in
                let facts = inventory.sessions[s].facts
                guard CompiledPolicy.day(of: now) == facts.day else { return .failure(.notSessionDay(sessionDay: facts.day)) }
                inventory.counters[s * inventory.categoryCount + Int(record.category)].vaccinated += 1
                return .success((facts.day, facts.vaccine))
            }
            switch given {
            case nil: return .failure(.unknownSession(SessionIndex(rawValue: record.session)))
            case .failure(let refusal)?: return .failure(refusal)
            case .success(let given)?:
                if id.dose == .one {
                    registry[person: local].dose1Day = Int32(given.day)
                    registry[person: local].dose1Vaccine = UInt8(given.vaccine)
                } else {
                    registry[person: local].dose2Day = Int32(given.day)
                }
                registry[live: live].state = .none
                return .success(appointment(record, id.beneficiary, id.dose, state: .vaccinated))
            }
        }
    }

    /// Declares a booked person absent once their slot window has started. The unit is
    /// freed for walk-ins if the policy says so (else for anybody), and the person may book again.
    public func markNoShow(_ id: AppointmentID, now: Int, requestID: RequestID? = nil) -> Result<Appointment, BookingRefusal> {
        withBeneficiary(id.beneficiary, now, requestID, .noShow) { registry, local in
            let live = local * 2 + id.dose.offset
            let record = registry[live: live]
            if let refusal = liveRefusal(record, id, allowed: LiveState.booked.bit) { return .failure(refusal) }
            let toWalkIns = policy.policy.noShowCapacityToWalkIns
            let startsAt: Int?? = withSession(record.session) { inventory, s -> Int? in
                let start = Int(inventory.sessions[s].day) * CompiledPolicy.secondsPerDay
                    + Int(inventory.slotStart[inventory.slots(s).lowerBound + Int(record.slot)])
                guard now >= start else { return start }
                let i = s * inventory.categoryCount + Int(record.category)
                inventory.counters[i].booked -= 1
                inventory.counters[i].noShows += 1
                if toWalkIns { inventory.counters[i].noShowFreed += 1 }
                assert(inventory.counters[i].isConsistent)
                return nil
            }
            guard let startsAt else { return .failure(.unknownSession(SessionIndex(rawValue: record.session))) }
            if let startsAt { return .failure(.slotWindowNotStarted(startsAt: startsAt)) }
            registry[live: live].state = .none
            return .success(appointment(record, id.beneficiary, id.dose, state: .noShow))
        }
    }

    /// Releases every hold that lapsed at or before `now`, in every shard; returns how many.
    /// Holds also lapse lazily when their owner makes another request. Walk-in reserves need
    /// no sweep: every request compares its `now` with the policy's release cut-off, so unused
    /// reserve units are online units from that second on (``availability(_:now:)`` counts them).
    /// - Complexity: O(shards + released × log holds).
    @discardableResult
    public func releaseExpiredHolds(now: Int) -> Int {
        let now = min(max(now, -CompiledPolicy.timeLimit), CompiledPolicy.timeLimit)
        return (0..<configuration.sessionShards).reduce(0) { total, shard in
            total + sessionShards[shard].withLock { $0.releaseExpiredHolds(now: now) }
        }
    }

    // MARK: Shared steps

    @inline(__always)
    func withBeneficiary(_ beneficiary: BeneficiaryID, _ now: Int, _ requestID: RequestID?, _ kind: IdempotencyCache.Kind,
                         _ body: (inout BeneficiaryRegistry, Int) -> Result<Appointment, BookingRefusal>) -> Result<Appointment, BookingRefusal> {
        guard (-CompiledPolicy.timeLimit...CompiledPolicy.timeLimit).contains(now) else { return .failure(.timeOutOfRange(now)) }
        let (shard, local) = locate(beneficiary)
        return beneficiaryShards[shard].withLock { registry -> Result<Appointment, BookingRefusal> in
            guard registry.isRegistered(local) else { return .failure(.unknownBeneficiary(beneficiary)) }
            guard let requestID else { return body(&registry, local) }
            let key = IdempotencyCache.Key(request: requestID.rawValue, beneficiary: beneficiary.rawValue)
            if let first = registry.requests.lookup(key, kind) { return first }
            let outcome = body(&registry, local)
            registry.requests.store(key, kind, outcome)
            return outcome
        }
    }

    @inline(__always)
    func takeOnline(_ registry: inout BeneficiaryRegistry, _ local: Int, _ beneficiary: BeneficiaryID, _ session: SessionIndex,
                    _ slot: Int, _ dose: Dose, now: Int, hold: Bool, category forced: Int? = nil) -> Result<Appointment, BookingRefusal> {
        let live = local * 2 + dose.offset
        let old: BeneficiaryRegistry.Live
        switch freeLiveRecord(&registry, live, beneficiary, dose, now: now) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let record): old = record
        }
        let person = registry.applicant(local, dose: dose, policy: policy)
        let serial = nextSerial(old)
        let id = AppointmentID(beneficiary: beneficiary, dose: dose, serial: serial)
        var expiresAt = now + policy.holdTimeout
        let taken: Result<Int, BookingRefusal>? = withSession(session.rawValue) { inventory, s in
            if let refusal = onlineRefusal(inventory, s, slot, person, now: now) { return .failure(refusal) }
            if hold {  // a hold never outlives the booking close: it could not be confirmed into a booking after it
                expiresAt = min(expiresAt, Int(inventory.sessions[s].day) * CompiledPolicy.secondsPerDay + policy.closeSecond)
            }
            if let forced {
                // The batch allocator applied the category rules for this `now`; they must still hold.
                assert(policy.categoryAdmits(forced, person, channel: .online, sessionDay: Int(inventory.sessions[s].day), now: now))
                return inventory.takeOnline(s, category: forced, now: now)
            }
            return inventory.takeOnline(s, person, now: now, policy: policy, hold: hold ? (id.rawValue, expiresAt) : nil)
        }
        guard let taken else { return .failure(.unknownSession(session)) }
        switch taken {
        case .failure(let refusal): return .failure(refusal)
        case .success(let category):
            let record = BeneficiaryRegistry.Live(expiresAt: hold ? expiresAt : 0, session: session.rawValue, serial: serial,
                                                  state: hold ? .held : .booked, category: UInt8(category), slot: UInt8(slot))
            registry[live: live] = record
            return .success(appointment(record, beneficiary, dose, state: hold ? .held : .booked))
        }
    }

    /// Why an online request for session `s` is refused before capacity is looked at, or nil.
    @inline(__always)
    func onlineRefusal(_ inventory: borrowing SessionInventory, _ s: Int, _ slot: Int, _ person: Applicant, now: Int) -> BookingRefusal? {
        let record = inventory.sessions[s]
        guard slot >= 0, slot < Int(record.slotCount) else { return .invalidSlot(slot: slot, slotCount: Int(record.slotCount)) }
        let closesAt = Int(record.day) * CompiledPolicy.secondsPerDay + policy.closeSecond
        if now >= closesAt { return .bookingClosed(closedAt: closesAt) }
        return policy.sessionRefusal(person, record.facts, today: CompiledPolicy.day(of: now))
    }

    /// Why `record` is not the live appointment `id` in one of the `allowed` states, or nil.
    @inline(__always)
    func liveRefusal(_ record: BeneficiaryRegistry.Live, _ id: AppointmentID, allowed: UInt8) -> BookingRefusal? {
        guard record.state != .none, record.serial == id.serial else { return .unknownAppointment(id) }
        return allowed & record.state.bit != 0 ? nil : .wrongState(record.state.appointmentState)
    }

    /// The person's record for this dose if it holds no live appointment (a lapsed hold is
    /// released first), else `alreadyBooked` with the live one.
    @inline(__always)
    func freeLiveRecord(_ registry: inout BeneficiaryRegistry, _ live: Int, _ beneficiary: BeneficiaryID, _ dose: Dose,
                        now: Int) -> Result<BeneficiaryRegistry.Live, BookingRefusal> {
        clearLapsedHold(&registry, live, beneficiary, dose, now: now)
        let record = registry[live: live]
        guard record.state == .none else {
            return .failure(.alreadyBooked(AppointmentID(beneficiary: beneficiary, dose: dose, serial: record.serial)))
        }
        return .success(record)
    }

    /// A hold whose time is up no longer blocks its owner: release it (if the sweeper has not).
    @inline(__always)
    func clearLapsedHold(_ registry: inout BeneficiaryRegistry, _ live: Int, _ beneficiary: BeneficiaryID, _ dose: Dose, now: Int) {
        let record = registry[live: live]
        guard record.state == .held, record.expiresAt <= now else { return }
        let id = AppointmentID(beneficiary: beneficiary, dose: dose, serial: record.serial)
        _ = withSession(record.session) { inventory, _ in inventory.releaseHold(id.rawValue) }
        registry[live: live].state = .none
    }

    @inline(__always)
    func nextSerial(_ record: BeneficiaryRegistry.Live) -> UInt32 {
        (record.serial &+ 1) & 0x7fff_ffff
    }
}
