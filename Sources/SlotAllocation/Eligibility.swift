/// The facts about one person and one request that the rules need, gathered once.
struct Applicant: Sendable {
    var age: Int
    /// Index into the policy's bands, or -1.
    var band: Int
    var group: Int
    var dose: Dose
    /// Day and vaccine of dose 1, if given.
    var dose1Day: Int?
    var dose1Vaccine: Int
    var dose2Given: Bool
}

/// The facts about one session that the rules need.
struct SessionFacts: Sendable {
    var day: Int
    var vaccine: Int
    var minAge: Int
    var maxAge: Int
}

/// Booking rules shared by the online engine and the batch allocator, so that both
/// refuse for the same reasons.
extension CompiledPolicy {
    func applicant(birthYear: Int, group: Int, dose: Dose, dose1: DoseRecord?, dose2Given: Bool) -> Applicant {
        let age = ageReferenceYear - birthYear
        let band = (0...ageMax).contains(age) ? Int(bandOfAge[age]) : -1
        return Applicant(age: age, band: band, group: group, dose: dose, dose1Day: dose1?.day,
                         dose1Vaccine: dose1?.vaccine ?? -1, dose2Given: dose2Given)
    }

    /// Why `person` may not take `session` at all on day `today`, or nil if they may.
    /// Order of checks: age limits, band, band opening, dose history and interval.
    func sessionRefusal(_ person: Applicant, _ session: SessionFacts, today: Int) -> BookingRefusal? {
        if person.age < session.minAge || person.age > session.maxAge {
            return .ageNotEligible(age: person.age, minAge: session.minAge,
                                   maxAge: session.maxAge >= ageMax ? nil : session.maxAge)
        }
        guard person.band >= 0 else { return .noAgeBand(age: person.age) }
        let opens = bandOpenDay[person.band]
        if opens > today {
            return .bandNotOpen(band: policy.ageBands[person.band].name, openingDay: opens == .max ? nil : opens)
        }
        switch person.dose {
        case .one:
            if person.dose1Day != nil { return .doseAlreadyGiven(.one) }
        case .two:
            if person.dose2Given { return .doseAlreadyGiven(.two) }
            guard let given = person.dose1Day else { return .dose1NotGiven }
            if person.dose1Vaccine != session.vaccine {
                return .vaccineMismatch(required: policy.vaccines[person.dose1Vaccine].name,
                                        offered: policy.vaccines[session.vaccine].name)
            }
            let earliest = given + Int(dose2DaysMin[session.vaccine]), latest = given + Int(dose2DaysMax[session.vaccine])
            if session.day < earliest { return .doseIntervalNotMet(earliestDay: earliest) }
            if session.day > latest { return .doseIntervalExceeded(latestDay: latest) }
        }
        return nil
    }

    /// Whether category `c` of a session on `sessionDay` takes `person` through `channel` at `now`.
    @inline(__always)
    func categoryAdmits(_ c: Int, _ person: Applicant, channel: Channel, sessionDay: Int, now: Int) -> Bool {
        let secondOfSessionDay = now - sessionDay * Self.secondsPerDay
        if secondOfSessionDay >= fillSecond { return true }
        guard personFits(c, person) else { return false }
        if channelMask[c] & channel.bit != 0 { return true }
        return channel == .online && secondOfSessionDay >= releaseToOnlineSecond[c]
    }

    /// Whether a unit of category `c` freed by a no-show takes walk-in `person` at `now`:
    /// one who fits the category, or anybody once the end-of-day fill has opened every unit.
    @inline(__always)
    func noShowUnitAdmits(_ c: Int, _ person: Applicant, sessionDay: Int, now: Int) -> Bool {
        now - sessionDay * Self.secondsPerDay >= fillSecond || personFits(c, person)
    }

    /// Band, dose and priority group of `person` fit category `c` (channel aside).
    @inline(__always)
    func personFits(_ c: Int, _ person: Applicant) -> Bool {
        bandMask[c] & (1 << UInt64(person.band)) != 0
            && doseMask[c] & UInt8(1 << person.dose.offset) != 0
            && groupMask[c] & (1 << UInt64(person.group)) != 0
    }
}
