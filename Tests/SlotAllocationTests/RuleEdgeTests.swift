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
