import SlotAllocation
import Testing

/// The engine's batch face: a mechanism decides over the engine's free units, the engine books.
@Suite struct EngineBatchTests {
    @Test(arguments: [(["reserve", "open"], [true, true, false]), (["open", "reserve"], [true, false, true])])
    func pathaksExampleBooksThroughTheEngine(order: [String], booked: [Bool]) throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "reserve", count: 1, ageBands: ["60+"]),
                                                   CapacityCategory(name: "open")], processingOrder: order)
        let (engine, s) = try makeEngine(policy: policy, capacity: 2)
        let people = [try person(engine, born: 1950), try person(engine, born: 1990), try person(engine, born: 1951)]
        let requests = people.enumerated().map { BatchBookingRequest(beneficiary: $1, preferences: [s[0]], requestTime: $0) }
        let outcomes = engine.allocateBatch(requests, mechanism: .deferredAcceptance(lotterySeed: 1), now: 16 * hour)
        #expect(outcomes.map { $0.value != nil } == booked)
        #expect(outcomes.contains { $0.refusal == .outranked })
        #expect(engine.availability(s[0], now: 16 * hour)!.categories.map(\.booked) == [1, 1])
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func aBatchTakesOnlyWhatIsStillFreeAndRefusesWhatItCannotTake() throws {
        let (engine, s) = try makeEngine(capacity: 2, sessions: 2)
        let early = try person(engine)
        let existing = try #require(engine.book(early, session: s[0], slot: 0, dose: .one, now: 16 * hour).value)
        let a = try person(engine), b = try person(engine), c = try person(engine), d = try person(engine)
        let outcomes = engine.allocateBatch([
            BatchBookingRequest(beneficiary: early, preferences: [s[1]], requestTime: 0),          // already booked
            BatchBookingRequest(beneficiary: a, preferences: [s[0], s[1]], requestTime: 1),
            BatchBookingRequest(beneficiary: b, preferences: [s[0], s[0], s[1]], slot: 2, requestTime: 2),
            BatchBookingRequest(beneficiary: c, preferences: [s[0], s[1]], requestTime: 3),
            BatchBookingRequest(beneficiary: d, preferences: [s[1]], slot: 9, requestTime: 4),      // no such slot
            BatchBookingRequest(beneficiary: BeneficiaryID(rawValue: 999), preferences: [s[1]], requestTime: 5),
        ], mechanism: .firstComeFirstServed, now: 16 * hour)
        #expect(outcomes[0].refusal == .alreadyBooked(existing.id))
        #expect(outcomes[1].value?.session == s[0])
        #expect(outcomes[2].value?.session == s[1] && outcomes[2].value?.slot == 2)
        #expect(outcomes[3].value?.session == s[1])
        #expect(outcomes[4].refusal == .invalidSlot(slot: 9, slotCount: 4))
        #expect(outcomes[5].refusal == .unknownBeneficiary(BeneficiaryID(rawValue: 999)))
        #expect(engine.availability(s[0], now: 16 * hour)!.availableCapacity == 0)
        #expect(engine.availability(s[1], now: 16 * hour)!.availableCapacity == 0)
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func aPersonAskingTwiceDoesNotHoldBackAUnit() throws {
        let (engine, s) = try makeEngine(capacity: 2)
        let a = try person(engine), b = try person(engine)
        let outcomes = engine.allocateBatch([BatchBookingRequest(beneficiary: a, preferences: [s[0]], requestTime: 0),
                                             BatchBookingRequest(beneficiary: a, preferences: [s[0]], requestTime: 1),
                                             BatchBookingRequest(beneficiary: b, preferences: [s[0]], requestTime: 2)],
                                            mechanism: .firstComeFirstServed, now: 16 * hour)
        #expect(outcomes[0].value != nil && outcomes[1].refusal == .duplicateRequest && outcomes[2].value != nil)
        #expect(engine.availability(s[0], now: 16 * hour)!.availableCapacity == 0)
    }

    @Test func ineligiblePeopleGetTheirFirstRefusal() throws {
        let (engine, s) = try makeEngine(capacity: 5)
        let child = try person(engine, born: 2010)
        let outcomes = engine.allocateBatch([BatchBookingRequest(beneficiary: child, preferences: [s[0]], requestTime: 0),
                                             BatchBookingRequest(beneficiary: child, dose: .two, preferences: [], requestTime: 0)],
                                            mechanism: .priority, now: 16 * hour)
        #expect(outcomes[0].refusal == .ageNotEligible(age: 11, minAge: 18, maxAge: nil))
        #expect(outcomes[1].refusal == .noPreferences)
        #expect(engine.allocateBatch([BatchBookingRequest(beneficiary: child, preferences: [s[0]], requestTime: .max)],
                                     mechanism: .firstComeFirstServed, now: 0).first?.refusal == .timeOutOfRange(.max))
    }
}
