import SlotAllocation
import Testing

@Suite struct BookingRulesTests {
    let evening = 16 * hour  // day 0, 16:00: the release

    @Test func bookingUsesAUnitAndCancellingReturnsIt() throws {
        let (engine, s) = try makeEngine(capacity: 1)
        let a = try person(engine), b = try person(engine)
        let appointment = try #require(engine.book(a, session: s[0], slot: 0, dose: .one, now: evening).value)
        #expect(engine.book(b, session: s[0], slot: 0, dose: .one, now: evening).refusal == .sessionFull)
        #expect(engine.cancel(appointment.id, now: evening).value?.state == .cancelled)
        #expect(engine.book(b, session: s[0], slot: 0, dose: .one, now: evening).value != nil)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func oneLiveAppointmentPerDose() throws {
        let (engine, s) = try makeEngine(capacity: 5, sessions: 2)
        let a = try person(engine)
        let first = try #require(engine.book(a, session: s[0], slot: 0, dose: .one, now: evening).value)
        #expect(engine.book(a, session: s[1], slot: 1, dose: .one, now: evening).refusal == .alreadyBooked(first.id))
        #expect(engine.hold(a, session: s[1], slot: 1, dose: .one, now: evening).refusal == .alreadyBooked(first.id))
    }

    @Test func sessionAgeLimitsAreEnforced() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let session = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 45, capacity: 5))
        let young = try person(engine, born: 1990)
        #expect(engine.book(young, session: session, slot: 0, dose: .one, now: evening).refusal
            == .ageNotEligible(age: 31, minAge: 45, maxAge: nil))
    }

    @Test func bandThatIsNotOpenSaysWhenItOpens() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.phases = [EligibilityPhase(ageBand: "60+", openDay: 0), EligibilityPhase(ageBand: "18-44", openDay: 5)]
        let (engine, s) = try makeEngine(policy: policy)
        #expect(engine.book(try person(engine, born: 1990), session: s[0], slot: 0, dose: .one, now: evening).refusal
            == .bandNotOpen(band: "18-44", openingDay: 5))
        #expect(engine.book(try person(engine, born: 1970), session: s[0], slot: 0, dose: .one, now: evening).refusal
            == .bandNotOpen(band: "45-59", openingDay: nil))
        #expect(engine.book(try person(engine, born: 1950), session: s[0], slot: 0, dose: .one, now: evening).value != nil)
    }

    @Test func dose2OnlyInsideTheIntervalWithTheSameVaccine() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let on100 = try engine.addSession(SessionSpec(center: center, day: 100, vaccine: 0, minAge: 18, capacity: 5))
        let on100covaxin = try engine.addSession(SessionSpec(center: center, day: 100, vaccine: 1, minAge: 18, capacity: 5))
        let now = 99 * day
        let early = try person(engine, dose1: DoseRecord(day: 50, vaccine: 0))      // due from day 134
        let late = try person(engine, dose1: DoseRecord(day: -20, vaccine: 0))      // due by day 92
        let due = try person(engine, dose1: DoseRecord(day: 10, vaccine: 0))        // due 94...122
        let none = try person(engine)
        #expect(engine.book(early, session: on100, slot: 0, dose: .two, now: now).refusal == .doseIntervalNotMet(earliestDay: 134))
        #expect(engine.book(late, session: on100, slot: 0, dose: .two, now: now).refusal == .doseIntervalExceeded(latestDay: 92))
        #expect(engine.book(due, session: on100covaxin, slot: 0, dose: .two, now: now).refusal
            == .vaccineMismatch(required: "COVISHIELD", offered: "COVAXIN"))
        #expect(engine.book(none, session: on100, slot: 0, dose: .two, now: now).refusal == .dose1NotGiven)
        #expect(engine.book(due, session: on100, slot: 0, dose: .one, now: now).refusal == .doseAlreadyGiven(.one))
        #expect(engine.book(due, session: on100, slot: 0, dose: .two, now: now).value != nil)
    }

    @Test func aPersonRegisteredWithBothDosesBooksNeither() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let on100 = try engine.addSession(SessionSpec(center: center, day: 100, vaccine: 0, minAge: 18, capacity: 5))
        let done = try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990, dose1: DoseRecord(day: 10, vaccine: 0), dose2Day: 95))
        #expect(engine.doses(of: done)?.dose2Day == 95)
        #expect(engine.book(done, session: on100, slot: 0, dose: .two, now: 99 * day).refusal == .doseAlreadyGiven(.two))
        #expect(engine.book(done, session: on100, slot: 0, dose: .one, now: 99 * day).refusal == .doseAlreadyGiven(.one))
        #expect(throws: SlotAllocationError.invalid("beneficiary.dose2Day", "needs dose1: dose 2 comes after dose 1")) {
            try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990, dose2Day: 95))
        }
        #expect(throws: SlotAllocationError.invalid("beneficiary.dose2Day", "must be after dose 1's day (10) and at most 36500, found 10")) {
            try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990, dose1: DoseRecord(day: 10, vaccine: 0), dose2Day: 10))
        }
        // A snapshot keeps the history.
        let restored = try BookingEngine(policy: .singleCategory())
        try restored.restore(from: engine.snapshot())
        #expect(restored.doses(of: done)?.dose2Day == 95)
    }

    @Test func vaccinationEntersTheHistoryAndOpensDose2() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let first = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 1, minAge: 18, capacity: 5))
        let second = try engine.addSession(SessionSpec(center: center, day: 30, vaccine: 1, minAge: 18, capacity: 5))
        let a = try person(engine)
        let booked = try #require(engine.book(a, session: first, slot: 0, dose: .one, now: evening).value)
        #expect(engine.recordVaccination(booked.id, now: 2 * day + 10 * hour).refusal == .notSessionDay(sessionDay: 1))
        #expect(engine.recordVaccination(booked.id, now: day + 10 * hour).value?.state == .vaccinated)
        #expect(engine.doses(of: a)?.dose1 == DoseRecord(day: 1, vaccine: 1))
        #expect(engine.liveAppointment(of: a, dose: .one, now: day + 11 * hour) == nil)
        #expect(engine.book(a, session: second, slot: 0, dose: .two, now: 20 * day).value != nil)
        #expect(engine.availability(first, now: 2 * day)!.categories[0].vaccinated == 1)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func bookingForADayClosesAt1500() throws {
        let (engine, s) = try makeEngine()
        #expect(engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: day + 15 * hour).refusal
            == .bookingClosed(closedAt: day + 15 * hour))
        #expect(engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: day + 15 * hour - 1).value != nil)
    }

    @Test func invalidSlotAndUnknownIdsAreTypedRefusals() throws {
        let (engine, s) = try makeEngine()
        let a = try person(engine)
        #expect(engine.book(a, session: s[0], slot: 4, dose: .one, now: evening).refusal == .invalidSlot(slot: 4, slotCount: 4))
        #expect(engine.book(a, session: s[0], slot: -1, dose: .one, now: evening).refusal == .invalidSlot(slot: -1, slotCount: 4))
        let ghost = SessionIndex(rawValue: 999)
        #expect(engine.book(a, session: ghost, slot: 0, dose: .one, now: evening).refusal == .unknownSession(ghost))
        let nobody = BeneficiaryID(rawValue: 12345)
        #expect(engine.book(nobody, session: s[0], slot: 0, dose: .one, now: evening).refusal == .unknownBeneficiary(nobody))
        let fake = AppointmentID(rawValue: UInt64(a.rawValue) << 32 | 7)
        #expect(engine.cancel(fake, now: evening).refusal == .unknownAppointment(fake))
        #expect(engine.availability(ghost, now: 0) == nil)
    }

    @Test func badSessionsAreErrorsNotTraps() throws {
        let engine = try BookingEngine(policy: .singleCategory(), configuration: .init(horizonDays: 30))
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        #expect(throws: SlotAllocationError.invalid("session.capacity", "must be between 0 and 1000000, found -3")) {
            try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: -3))
        }
        #expect(throws: SlotAllocationError.invalid("session.day", "must be within the horizon 0..<30, found 30")) {
            try engine.addSession(SessionSpec(center: center, day: 30, vaccine: 0, minAge: 18, capacity: 3))
        }
        #expect(throws: SlotAllocationError.invalid("session.center", "center#9 is not a registered centre")) {
            try engine.addSession(SessionSpec(center: CenterIndex(rawValue: 9), day: 1, vaccine: 0, minAge: 18, capacity: 3))
        }
        #expect(throws: SlotAllocationError.self) {
            try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 5, minAge: 18, capacity: 3))
        }
        #expect(throws: SlotAllocationError.self) {
            try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18,
                                              slots: [SlotWindow(startSecondOfDay: 7200, endSecondOfDay: 3600)], capacity: 3))
        }
        #expect(throws: SlotAllocationError.self) { try engine.registerBeneficiary(BeneficiarySpec(birthYear: 2500)) }
        #expect(throws: SlotAllocationError.self) { try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990, priorityGroup: 64)) }
        #expect(throws: SlotAllocationError.self) {
            try BookingEngine(policy: .singleCategory(), configuration: .init(sessionShards: 3))
        }
    }

    @Test func aRepeatedRequestIDReturnsTheFirstOutcomeAndChangesNothing() throws {
        let (engine, s) = try makeEngine(capacity: 3)
        let a = try person(engine)
        let first = engine.book(a, session: s[0], slot: 0, dose: .one, now: evening, requestID: RequestID(42))
        let again = engine.book(a, session: s[0], slot: 0, dose: .one, now: evening, requestID: RequestID(42))
        #expect(first == again)
        #expect(engine.availability(s[0], now: evening)!.availableCapacity == 2)
        let id = try #require(first.value?.id)
        #expect(engine.cancel(id, now: evening, requestID: RequestID(43)).value?.state == .cancelled)
        #expect(engine.cancel(id, now: evening, requestID: RequestID(43)).value?.state == .cancelled)
        #expect(engine.availability(s[0], now: evening)!.availableCapacity == 3)
        #expect(engine.hold(a, session: s[0], slot: 0, dose: .one, now: evening, requestID: RequestID(42)).refusal == .requestIDReused)
    }

    @Test func holdsCountAtOnceAndLapseUnlessConfirmed() throws {
        let (engine, s) = try makeEngine(capacity: 1)
        let a = try person(engine), b = try person(engine)
        let held = try #require(engine.hold(a, session: s[0], slot: 0, dose: .one, now: evening).value)
        #expect(held.state == .held && held.holdExpiresAt == evening + 600)
        #expect(engine.book(b, session: s[0], slot: 0, dose: .one, now: evening + 10).refusal == .sessionFull)
        #expect(engine.confirm(held.id, now: evening + 600).refusal == .holdExpired)
        #expect(engine.book(b, session: s[0], slot: 0, dose: .one, now: evening + 601).value != nil)
        #expect(engine.invariantViolations().isEmpty)
    }

    /// A hold made near the 15:00 close lapses at the close: it cannot become a booking after
    /// booking has closed, even with a day-long timeout.
    @Test func aHoldLapsesAtTheBookingClose() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.holdTimeoutSeconds = 86_400
        let (engine, s) = try makeEngine(policy: policy, capacity: 2)
        let close = day + 15 * hour
        let early = try #require(engine.hold(try person(engine), session: s[0], slot: 3, dose: .one, now: close - 3600).value)
        let late = try #require(engine.hold(try person(engine), session: s[0], slot: 3, dose: .one, now: close - 60).value)
        #expect(early.holdExpiresAt == close && late.holdExpiresAt == close)
        #expect(engine.confirm(early.id, now: close - 1).value?.state == .booked)
        #expect(engine.confirm(late.id, now: close).refusal == .holdExpired)
        #expect(engine.availability(s[0], now: close)!.categories[0].held == 0)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func aConfirmedHoldIsABooking() throws {
        let (engine, s) = try makeEngine(capacity: 1)
        let a = try person(engine)
        let held = try #require(engine.hold(a, session: s[0], slot: 0, dose: .one, now: evening).value)
        #expect(engine.confirm(held.id, now: evening + 599).value?.state == .booked)
        #expect(engine.releaseExpiredHolds(now: evening + 10_000) == 0)
        #expect(engine.availability(s[0], now: evening)!.categories[0].booked == 1)
        #expect(engine.confirm(held.id, now: evening + 700).refusal == .wrongState(.booked))
    }

    @Test func theSweeperReleasesLapsedHolds() throws {
        let (engine, s) = try makeEngine(capacity: 3)
        for _ in 0..<3 { _ = engine.hold(try person(engine), session: s[0], slot: 0, dose: .one, now: evening) }
        #expect(engine.availability(s[0], now: evening)!.availableCapacity == 0)
        #expect(engine.releaseExpiredHolds(now: evening + 599) == 0)
        #expect(engine.releaseExpiredHolds(now: evening + 600) == 3)
        #expect(engine.availability(s[0], now: evening)!.availableCapacity == 3)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func rescheduleIsAtomic() throws {
        let (engine, s) = try makeEngine(capacity: 1, sessions: 2)
        let a = try person(engine), b = try person(engine)
        let mine = try #require(engine.book(a, session: s[0], slot: 0, dose: .one, now: evening).value)
        _ = engine.book(b, session: s[1], slot: 0, dose: .one, now: evening)
        #expect(engine.reschedule(mine.id, to: s[1], slot: 2, now: evening).refusal == .sessionFull)
        #expect(engine.liveAppointment(of: a, dose: .one, now: evening)?.id == mine.id)
        #expect(engine.availability(s[0], now: evening)!.categories[0].booked == 1)
        let moved = try #require(engine.reschedule(mine.id, to: s[0], slot: 3, now: evening).value)
        #expect(moved.slot == 3 && moved.session == s[0])
        #expect(engine.cancel(mine.id, now: evening).refusal == .unknownAppointment(mine.id))
        _ = engine.cancel(try #require(engine.liveAppointment(of: b, dose: .one, now: evening)).id, now: evening)
        let again = try #require(engine.reschedule(moved.id, to: s[1], slot: 1, now: evening).value)
        #expect(again.session == s[1])
        #expect(engine.availability(s[0], now: evening)!.availableCapacity == 1)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func processingOrderDecidesWhichUnitAReserveEligiblePersonTakes() throws {
        // Pathak et al.'s example online: one reserve unit (60+ only) and one open unit.
        for (order, servedReserveEligible) in [(["reserve", "open"], 1), (["open", "reserve"], 2)] {
            let policy = AllocationPolicy(categories: [CapacityCategory(name: "reserve", count: 1, ageBands: ["60+"]),
                                                       CapacityCategory(name: "open")], processingOrder: order)
            let (engine, s) = try makeEngine(policy: policy, capacity: 2)
            let b1 = try person(engine, born: 1950), n1 = try person(engine, born: 1990), b2 = try person(engine, born: 1951)
            var served = 0
            for someone in [b1, n1, b2] where engine.book(someone, session: s[0], slot: 0, dose: .one, now: evening).value != nil {
                served += someone == n1 ? 0 : 1
            }
            #expect(served == servedReserveEligible, "order \(order)")
        }
    }

    @Test func fullSessionAndFullCategoryAreTold() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "walk-in", count: 1, channels: [.walkIn]),
                                                   CapacityCategory(name: "open")])
        let (engine, s) = try makeEngine(policy: policy, capacity: 2)
        _ = engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: evening)
        #expect(engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: evening).refusal == .categoryFull)
        _ = engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 10 * hour)
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 10 * hour).refusal == .sessionFull)
    }
}
