import SlotAllocation
import Testing

/// Rules that the other suites reach only through random sequences or not at all, one test each.
@Suite struct RuleEdgeTests {
    /// Walk-ins of a band may open later than its online booking.
    @Test func walkInsOpenOnTheirOwnDay() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.categories[0].channels = [.online, .walkIn]
        policy.phases = [EligibilityPhase(ageBand: "18-44", openDay: 0, walkInOpenDay: 2), EligibilityPhase(ageBand: "60+", openDay: 0)]
        let (engine, s) = try makeEngine(policy: policy, capacity: 5)
        let young = try person(engine, born: 1990)
        #expect(engine.checkInWalkIn(young, session: s[0], dose: .one, now: day + 10 * hour).refusal == .walkInsNotOpen(band: "18-44", openingDay: 2))
        #expect(engine.book(young, session: s[0], slot: 0, dose: .one, now: 10 * hour).value != nil, "online is open")
        #expect(engine.checkInWalkIn(try person(engine, born: 1950), session: s[0], dose: .one, now: day + 10 * hour).value != nil)
    }

    /// A walk-in who comes before the band's online opening is told the day walk-ins open, not
    /// the (earlier) online opening day, on which a walk-in would still be refused.
    @Test func aWalkInBeforeEveryOpeningIsToldTheWalkInDay() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.categories[0].channels = [.online, .walkIn]
        policy.phases = [EligibilityPhase(ageBand: "18-44", openDay: 2, walkInOpenDay: 3), EligibilityPhase(ageBand: "60+", openDay: 0)]
        let (engine, s) = try makeEngine(policy: policy, capacity: 5)
        let young = try person(engine, born: 1990)
        #expect(engine.checkInWalkIn(young, session: s[0], dose: .one, now: day + 10 * hour).refusal == .walkInsNotOpen(band: "18-44", openingDay: 3))
        #expect(engine.book(young, session: s[0], slot: 0, dose: .one, now: 10 * hour).refusal == .bandNotOpen(band: "18-44", openingDay: 2))
    }

    /// With `noShowCapacityToWalkIns` off, a no-show's unit goes back to its category for anybody it admits.
    @Test func noShowUnitsGoBackToTheirCategoryWhenNotGivenToWalkIns() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.noShowCapacityToWalkIns = false
        policy.bookingCloseSecondOfDay = 86_400
        let (engine, s) = try makeEngine(policy: policy, capacity: 1)
        let booked = try #require(engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: 10 * hour).value)
        #expect(engine.markNoShow(booked.id, now: day + 9 * hour).value?.state == .noShow)
        let a = try #require(engine.availability(s[0], now: day + 9 * hour))
        #expect(a.availableCapacity == 1 && a.categories[0].noShowFreed == 0)
        #expect(engine.book(try person(engine), session: s[0], slot: 1, dose: .one, now: day + 9 * hour + 60).value != nil)
        #expect(engine.invariantViolations().isEmpty)
    }

    /// A category for a priority group (say health workers) takes only that group.
    @Test func aPriorityGroupCategoryTakesOnlyItsGroup() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "health workers", priorityGroups: [1])])
        let (engine, s) = try makeEngine(policy: policy, capacity: 2)
        #expect(engine.book(try person(engine, group: 0), session: s[0], slot: 0, dose: .one, now: 10 * hour).refusal == .categoryFull)
        #expect(engine.book(try person(engine, group: 1), session: s[0], slot: 0, dose: .one, now: 10 * hour).value != nil)
    }

    /// Booking closes at the policy's hour, not always 15:00.
    @Test func bookingClosesAtThePolicysHour() throws {
        var policy = AllocationPolicy.singleCategory()
        policy.bookingCloseSecondOfDay = 12 * hour
        let (engine, s) = try makeEngine(policy: policy, capacity: 5)
        let close = day + 12 * hour
        #expect(engine.book(try person(engine), session: s[0], slot: 3, dose: .one, now: close - 1).value != nil)
        #expect(engine.book(try person(engine), session: s[0], slot: 3, dose: .one, now: close).refusal == .bookingClosed(closedAt: close))
        #expect(engine.availability(s[0], now: close)!.availableCapacity == 0, "closed: nothing to book online")
    }

    /// Covaxin's dose 2 is due 28 to 42 days after dose 1, both ends included.
    @Test(arguments: [(-26, BookingRefusal.doseIntervalNotMet(earliestDay: 2)), (-27, nil), (-41, nil), (-42, .doseIntervalExceeded(latestDay: 0))])
    func covaxinsDose2Window(dose1Day: Int, refusal: BookingRefusal?) throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let covaxin = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 1, minAge: 18, capacity: 5))
        let who = try person(engine, dose1: DoseRecord(day: dose1Day, vaccine: 1))
        let outcome = engine.book(who, session: covaxin, slot: 0, dose: .two, now: 10 * hour)
        #expect(outcome.refusal == refusal && (refusal != nil || outcome.value != nil))
    }

    /// A person already given dose 1 may not book it again.
    @Test func aGivenDoseIsNotBookedAgain() throws {
        let (engine, s) = try makeEngine(capacity: 5)
        let given = try person(engine, dose1: DoseRecord(day: -90, vaccine: 0))
        #expect(engine.book(given, session: s[0], slot: 0, dose: .one, now: 10 * hour).refusal == .doseAlreadyGiven(.one))
    }
}

/// Several bookings moved together: all or none, and a refused group leaves every counter as
/// it was (moving them back one by one would not: a booking moved back takes the first
/// category with room).
@Suite struct GroupRescheduleTests {
    @Test func aGroupMovesWholeOrLeavesEveryCounterAsItWas() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "dose 2", count: 1, doses: [.two]), CapacityCategory(name: "open")])
        let engine = try BookingEngine(policy: policy, configuration: .init(horizonDays: 400, sessionShards: 4, beneficiaryShards: 4))
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "PHC", district: 0))
        let a = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 3))
        let small = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 1))
        let roomy = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 2))
        let now = 10 * hour
        let dose1 = DoseRecord(day: -90, vaccine: 0)
        let x = try #require(engine.book(try person(engine, dose1: dose1), session: a, slot: 0, dose: .two, now: now).value)
        let p = try #require(engine.book(try person(engine, dose1: dose1), session: a, slot: 0, dose: .two, now: now).value)
        let q = try #require(engine.book(try person(engine), session: a, slot: 0, dose: .one, now: now).value)
        #expect(x.category == CategoryIndex(0) && p.category == CategoryIndex(1) && q.category == CategoryIndex(1))
        _ = engine.cancel(x.id, now: now)  // the dose-2 unit is free again; p stays in "open"
        func counts() -> [[Int]] { [a, small, roomy].map { s in engine.availability(s, now: now)!.categories.map(\.booked) } }
        let before = counts()
        // p fits the small session, q does not: nobody moves.
        #expect(engine.rescheduleTogether([p.id, q.id], to: small, slot: 1, now: now).refusal == .sessionFull)
        #expect(counts() == before, "a refused group changes no counter")
        #expect(engine.liveAppointment(of: p.beneficiary, dose: .two, now: now)?.category == CategoryIndex(1))
        #expect(engine.invariantViolations().isEmpty)
        // Both fit the roomy one: both move, and their old units are free.
        let moved = try #require(engine.rescheduleTogether([p.id, q.id], to: roomy, slot: 2, now: now).value)
        #expect(moved.map(\.session) == [roomy, roomy] && moved.allSatisfy { $0.slot == 2 && $0.state == .booked })
        #expect(counts() == [[0, 0], [0, 0], [1, 1]])
        #expect(engine.cancel(p.id, now: now).refusal == .unknownAppointment(p.id), "the old appointment ids are gone")
        // Within its session a group changes only the slot; bad groups are refused.
        #expect(engine.rescheduleTogether(moved.map(\.id), to: roomy, slot: 0, now: now).value?.map(\.slot) == [0, 0])
        #expect(counts() == [[0, 0], [0, 0], [1, 1]])
        let current = [p.beneficiary, q.beneficiary].map { engine.liveAppointment(of: $0, dose: $0 == p.beneficiary ? .two : .one, now: now)!.id }
        #expect(engine.rescheduleTogether([current[0], current[0]], to: a, slot: 0, now: now).refusal == .duplicateRequest)
        #expect(engine.rescheduleTogether(current, to: SessionIndex(rawValue: 999), slot: 0, now: now).refusal == .unknownSession(SessionIndex(rawValue: 999)))
        #expect(engine.rescheduleTogether([p.id], to: a, slot: 0, now: now).refusal == .unknownAppointment(p.id))
        #expect(engine.invariantViolations().isEmpty)
    }
}
