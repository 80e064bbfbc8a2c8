import SlotAllocation
import Testing

@Suite struct ReleaseRulesTests {
    /// 2 walk-in units (released to online at 13:00), 2 open units.
    func reservePolicy(fill: Int? = nil) -> AllocationPolicy {
        AllocationPolicy(categories: [CapacityCategory(name: "walk-in", count: 2, channels: [.walkIn], releaseToOnlineAtSecondOfDay: 13 * hour),
                                      CapacityCategory(name: "open")], endOfDayFillSecondOfDay: fill)
    }

    @Test func walkInReserveIsReleasedToOnlineAtCutoff() throws {
        let (engine, s) = try makeEngine(policy: reservePolicy(), capacity: 4)
        for _ in 0..<2 { _ = engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: 16 * hour) }
        #expect(engine.availability(s[0], now: day + 12 * hour)!.availableCapacity == 0)
        #expect(engine.book(try person(engine), session: s[0], slot: 3, dose: .one, now: day + 13 * hour - 1).refusal == .categoryFull)
        #expect(engine.availability(s[0], now: day + 13 * hour)!.availableCapacity == 2)
        let late = try #require(engine.book(try person(engine), session: s[0], slot: 3, dose: .one, now: day + 13 * hour).value)
        #expect(late.category == CategoryIndex(0))
    }

    @Test func walkInsTakeTheReserveThenOpenUnitsOnlyIfTheirCategoryAllows() throws {
        let (engine, s) = try makeEngine(policy: reservePolicy(), capacity: 4)
        let now = day + 9 * hour
        for _ in 0..<2 { #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: now).value?.category == CategoryIndex(0)) }
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: now).refusal == .categoryFull)
    }

    @Test func endOfDayFillOpensEveryUnitToEveryone() throws {
        let (engine, s) = try makeEngine(policy: reservePolicy(fill: 14 * hour), capacity: 4)
        let now = day + 9 * hour
        for _ in 0..<2 { _ = engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: now) }
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 14 * hour - 1).refusal == .categoryFull)
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 14 * hour).value?.category == CategoryIndex(1))
    }

    @Test func noShowUnitsGoToWalkInsOnceTheWindowHasStarted() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "open")])
        let (engine, s) = try makeEngine(policy: policy, capacity: 1)
        let booked = try #require(engine.book(try person(engine), session: s[0], slot: 1, dose: .one, now: 16 * hour).value)
        let windowStart = day + 11 * hour
        #expect(engine.markNoShow(booked.id, now: windowStart - 1).refusal == .slotWindowNotStarted(startsAt: windowStart))
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: windowStart).refusal == .sessionFull)
        #expect(engine.markNoShow(booked.id, now: windowStart).value?.state == .noShow)
        let a = engine.availability(s[0], now: windowStart)!
        #expect(a.availableWalkIn == 1 && a.categories[0].noShows == 1 && a.categories[0].noShowFreed == 1)
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: windowStart + 60).value != nil)
        #expect(engine.invariantViolations().isEmpty)
    }

    /// A unit freed by a dose-2 no-show serves only dose-2 walk-ins until the end-of-day
    /// fill, then anybody: it is not wasted at the end of the day.
    @Test func noShowUnitsOpenToEveryoneAtTheEndOfDayFill() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "dose 2", channels: [.online, .walkIn], doses: [.two])],
                                      endOfDayFillSecondOfDay: 16 * hour)
        let (engine, s) = try makeEngine(policy: policy, capacity: 1)
        let second = try person(engine, dose1: DoseRecord(day: -90, vaccine: 0))
        let booked = try #require(engine.book(second, session: s[0], slot: 0, dose: .two, now: 10 * hour).value)
        #expect(engine.markNoShow(booked.id, now: day + 9 * hour).value?.state == .noShow)
        #expect(engine.availability(s[0], now: day + 15 * hour)!.availableWalkIn == 1)
        #expect(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 16 * hour - 1).refusal == .categoryFull)
        let late = try #require(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 16 * hour).value)
        #expect(late.state == .walkIn && late.category == CategoryIndex(0))
        #expect(engine.availability(s[0], now: day + 16 * hour)!.availableWalkIn == 0)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func walkInsComeOnTheSessionDayWithinItsHours() throws {
        let (engine, s) = try makeEngine(capacity: 5)
        let a = try person(engine)
        #expect(engine.checkInWalkIn(a, session: s[0], dose: .one, now: 2 * day + 10 * hour).refusal == .notSessionDay(sessionDay: 1))
        #expect(engine.checkInWalkIn(a, session: s[0], dose: .one, now: day + 8 * hour).refusal == .outsideSessionHours)
        #expect(engine.checkInWalkIn(a, session: s[0], dose: .one, now: day + 17 * hour).refusal == .outsideSessionHours)
        let walkIn = try #require(engine.checkInWalkIn(a, session: s[0], dose: .one, now: day + 12 * hour).value)
        #expect(walkIn.slot == 1 && walkIn.state == .walkIn)
        #expect(engine.checkInWalkIn(a, session: s[0], dose: .one, now: day + 12 * hour).refusal == .alreadyBooked(walkIn.id))
    }

    @Test func availabilityShowsDoseSplitLikeCowin() throws {
        let (engine, s) = try makeEngine(policy: .standard(walkInShare: 0.2, dose2Share: 0.4), capacity: 100)
        let a = engine.availability(s[0], now: 16 * hour)!
        #expect(a.capacity == 100 && a.availableCapacity == 80)
        #expect(a.availableCapacityDose1 == 40 && a.availableCapacityDose2 == 80)
        #expect(a.availableWalkIn == 60)
        #expect(a.minAgeLimit == 18 && a.maxAgeLimit == nil && a.vaccine == "COVISHIELD")
    }
}
