import Foundation
import SlotAllocation
import Testing

@Suite struct PolicyTests {
    @Test func standardPolicySplitsCapacityByShareAndRemainder() throws {
        let (engine, sessions) = try makeEngine(policy: .standard(walkInShare: 0.2, dose2Share: 0.4), capacity: 101)
        let counts = engine.availability(sessions[0], now: 0)!.categories.map(\.capacity)
        #expect(counts == [20, 40, 41])
    }

    @Test func policyNeedsExactlyOneRemainderCategory() {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "a", share: 0.5), CapacityCategory(name: "b", count: 3)])
        #expect(throws: SlotAllocationError.invalid("policy.categories", "exactly one category must take the remainder (no count or share), found 0")) {
            try BookingEngine(policy: policy)
        }
    }

    @Test func shareOutOfRangeNamesTheKeyPath() {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "walk-in", share: 1.5), CapacityCategory(name: "open")])
        #expect(throws: SlotAllocationError.invalid("policy.categories[0].share", "expected a number between 0 and 1, found 1.5")) {
            try BookingEngine(policy: policy)
        }
    }

    @Test func unknownBandAndBadProcessingOrderAreRejected() {
        var policy = AllocationPolicy(categories: [CapacityCategory(name: "open", ageBands: ["18-40"])])
        #expect(throws: SlotAllocationError.self) { try BookingEngine(policy: policy) }
        policy = AllocationPolicy(categories: [CapacityCategory(name: "open")], processingOrder: ["open", "open"])
        #expect(throws: SlotAllocationError.self) { try BookingEngine(policy: policy) }
        policy = AllocationPolicy(ageBands: [AgeBand(name: "a", minAge: 18, maxAge: 50), AgeBand(name: "b", minAge: 45, maxAge: nil)],
                                  categories: [CapacityCategory(name: "open")])
        #expect(throws: SlotAllocationError.invalid("ageBands[1]", "overlaps band 0 at age 45")) { try BookingEngine(policy: policy) }
    }

    @Test func fixedCountsLargerThanCapacityAreAnError() throws {
        let engine = try BookingEngine(policy: AllocationPolicy(categories: [CapacityCategory(name: "r", count: 10), CapacityCategory(name: "open")]))
        let center = try engine.addCenter(CenterSpec(externalID: 1, name: "c", district: 0))
        #expect(throws: SlotAllocationError.invalid("capacity", "fixed category counts need 10 units but the session has 5")) {
            try engine.addSession(SessionSpec(center: center, day: 0, vaccine: 0, minAge: 18, capacity: 5))
        }
    }

    @Test func policyRoundTripsThroughJSONWithDefaults() throws {
        let json = #"{"categories": [{"name": "walk-in", "share": 0.25, "channels": ["walkIn"]}, {"name": "open"}], "processingOrder": ["walk-in", "open"]}"#
        let policy = try JSONDecoder().decode(AllocationPolicy.self, from: Data(json.utf8))
        #expect(policy.categories[0].share == 0.25)
        #expect(policy.categories[1].channels == [.online])
        #expect(policy.bookingCloseSecondOfDay == 15 * 3600)
        #expect(policy.ageBands == AgeBand.india2021)
        let again = try JSONDecoder().decode(AllocationPolicy.self, from: JSONEncoder().encode(policy))
        #expect(again == policy)
    }
}
