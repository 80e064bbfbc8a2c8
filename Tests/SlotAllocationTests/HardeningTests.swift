import SlotAllocation
import Testing

/// Extreme and hostile input gets a typed error or refusal, never a trap; lapsed holds never block.
@Suite struct HardeningTests {
    @Test func aLapsedHoldFreesItsUnitForOthersWithoutASweep() throws {
        let (engine, s) = try makeEngine(capacity: 1)
        let a = try person(engine), b = try person(engine)
        _ = engine.hold(a, session: s[0], slot: 0, dose: .one, now: 16 * hour)
        #expect(engine.availability(s[0], now: 16 * hour + 599)!.availableCapacity == 0)
        #expect(engine.availability(s[0], now: 16 * hour + 600)!.availableCapacity == 1)
        #expect(engine.book(b, session: s[0], slot: 0, dose: .one, now: 16 * hour + 600).value != nil)
        #expect(engine.liveAppointment(of: a, dose: .one, now: 16 * hour + 600) == nil)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func extremeNumbersAreErrorsNotTraps() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        #expect(throws: SlotAllocationError.self) { try engine.registerBeneficiary(BeneficiarySpec(birthYear: .min)) }
        #expect(throws: SlotAllocationError.self) { try engine.registerBeneficiary(BeneficiarySpec(birthYear: .max)) }
        #expect(throws: SlotAllocationError.self) {
            try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990, dose1: DoseRecord(day: .min, vaccine: 0)))
        }
        let huge = AllocationPolicy(categories: [CapacityCategory(name: "a", count: .max), CapacityCategory(name: "b", count: 1),
                                                 CapacityCategory(name: "open")])
        #expect(throws: SlotAllocationError.invalid("policy.categories[0].count", "must be between 0 and 1000000, found \(Int.max)")) {
            try BookingEngine(policy: huge)
        }
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        #expect(throws: SlotAllocationError.self) {
            try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 1, categoryCapacities: [.max]))
        }
        let session = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 1))
        let a = try person(engine)
        #expect(engine.book(a, session: session, slot: 0, dose: .one, now: .max).refusal == .timeOutOfRange(.max))
        #expect(engine.checkInWalkIn(a, session: session, dose: .one, now: .min).refusal == .timeOutOfRange(.min))
        #expect(engine.availability(session, now: .min)?.capacity == 1)
        #expect(engine.releaseExpiredHolds(now: .max) == 0)

        let allocator = try BatchAllocator(policy: .singleCategory())
        var sessions = BatchSessions()
        sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 1)
        var registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, requestTime: .min, preferences: [0])
        registrants.append(birthYear: 1990, requestTime: 0, preferences: [0])
        #expect(throws: SlotAllocationError.invalid("registrants[0].requestTime", "must be within ±2^40 seconds of the epoch, found \(Int.min)")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .firstComeFirstServed, now: 0)
        }
        registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, dose: .two, dose1: DoseRecord(day: Int(Int32.min) - 5, vaccine: 0), requestTime: 0, preferences: [0])
        #expect(throws: SlotAllocationError.invalid("registrants[0].dose1.day", "is out of range")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .priority, now: 0)
        }
        // Int32.min is the "no dose 1" mark inside: as a day it is refused, not taken for "none".
        registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, dose: .one, dose1: DoseRecord(day: Int(Int32.min), vaccine: 0), requestTime: 0, preferences: [0])
        #expect(throws: SlotAllocationError.invalid("registrants[0].dose1.day", "is out of range")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .firstComeFirstServed, now: 0)
        }
        registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, requestTime: 0, preferences: [0])
        #expect(throws: SlotAllocationError.invalid("now", "must be within ±1099511627776 seconds of the epoch, found \(Int.min)")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .deferredAcceptance(lotterySeed: 1), now: .min)
        }
        sessions.append(district: 1 << 40, day: 1, vaccine: 0, minAge: 18, capacity: 1)
        #expect(throws: SlotAllocationError.invalid("sessions[1].district", "must fit in 32 bits (±2147483647)")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .firstComeFirstServed, now: 0)
        }
    }

    @Test func ageBandNamesAreUniqueAndSharesSplitAsDocumented() throws {
        let twice = [AgeBand(name: "x", minAge: 18, maxAge: 44), AgeBand(name: "x", minAge: 45, maxAge: nil)]
        #expect(throws: SlotAllocationError.invalid("ageBands[1].name", "must be unique, \"x\" is used twice")) {
            try BatchAllocator(policy: .singleCategory(ageBands: twice))
        }
        // 0.29 × 100 is 28.999999999999996 in binary: the floor of that, as documented (a count
        // gives exact units); stored journals were decided under this split.
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "reserve", share: 0.29), CapacityCategory(name: "open")])
        let engine = try BookingEngine(policy: policy)
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        let session = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 100))
        #expect(engine.session(session)?.categoryCapacities == [28, 72])
    }

    @Test func slotWindowsMustBeInOrderAndApart() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        #expect(throws: SlotAllocationError.invalid("session.slots[1]", "must start at or after the previous window ends (13:00-15:00), found 09:00-11:00")) {
            try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18,
                                              slots: [.init(hours: 13, 15), .init(hours: 9, 11)], capacity: 1))
        }
    }

    /// Hours far out of range saturate instead of trapping, and the engine refuses the window.
    @Test func slotWindowHoursOutOfRangeAreRefusedNotTrapped() throws {
        let engine = try BookingEngine(policy: .singleCategory())
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        for window in [SlotWindow(hours: .max, 1), SlotWindow(hours: 9, .max), SlotWindow(hours: .min, 11)] {
            #expect(throws: SlotAllocationError.self) {
                try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, slots: [window], capacity: 1))
            }
        }
    }

    @Test func walkInsUseCategoriesOpenToThemAndNoShowUnitsGoBackToWalkIns() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "online", count: 1),
                                                   CapacityCategory(name: "open", channels: [.online, .walkIn])])
        let (engine, s) = try makeEngine(policy: policy, capacity: 2)
        let booked = try #require(engine.book(try person(engine), session: s[0], slot: 0, dose: .one, now: 16 * hour).value)
        #expect(booked.category == CategoryIndex(0))
        let walkIn = try #require(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 9 * hour).value)
        #expect(walkIn.category == CategoryIndex(1))
        _ = engine.markNoShow(booked.id, now: day + 9 * hour + 60)
        let late = try #require(engine.checkInWalkIn(try person(engine), session: s[0], dose: .one, now: day + 10 * hour).value)
        #expect(late.category == CategoryIndex(0))
        _ = engine.cancel(late.id, now: day + 10 * hour + 60)
        let a = engine.availability(s[0], now: day + 10 * hour + 60)!
        #expect(a.categories[0].noShowFreed == 1 && a.categories[0].free == 0, "the no-show unit must stay with walk-ins")
        #expect(engine.invariantViolations().isEmpty)
    }
}
