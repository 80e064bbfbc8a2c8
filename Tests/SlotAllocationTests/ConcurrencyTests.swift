import SlotAllocation
import Testing

@Suite struct ConcurrencyTests {
    @Test func racersGetExactlyTheCapacityAndNobodyTwice() async throws {
        let (engine, sessions) = try makeEngine(capacity: 50, sessions: 5,
                                                configuration: .init(sessionShards: 8, beneficiaryShards: 8))
        let people = try (0..<2_000).map { _ in try person(engine) }
        let winners = await withTaskGroup(of: [Appointment].self) { group in
            for task in 0..<16 {
                group.addTask {
                    var random = SeededGenerator(seed: UInt64(task))
                    var won: [Appointment] = []
                    for _ in 0..<1_000 {
                        let who = people.randomElement(using: &random)!
                        if let a = engine.book(who, session: sessions.randomElement(using: &random)!, slot: 0, dose: .one, now: 0).value {
                            won.append(a)
                        }
                    }
                    return won
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(winners.count == 250)
        #expect(Set(winners.map(\.beneficiary)).count == 250)
        for session in sessions { #expect(engine.availability(session, now: 0)!.categories[0].booked == 50) }
        #expect(engine.invariantViolations().isEmpty)
    }

    @Test func mixedRacingRequestsNeverOversell() async throws {
        let policy = AllocationPolicy.standard(walkInShare: 0.2, dose2Share: 0.2)
        let (engine, sessions) = try makeEngine(policy: policy, capacity: 20, sessions: 3,
                                                configuration: .init(sessionShards: 4, beneficiaryShards: 4))
        let people = try (0..<300).map { _ in try person(engine) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<12 {
                group.addTask {
                    var random = SeededGenerator(seed: UInt64(100 + task))
                    for step in 0..<3_000 {
                        let who = people.randomElement(using: &random)!
                        let now = 16 * hour + step
                        let session = sessions.randomElement(using: &random)!
                        switch Int.random(in: 0..<8, using: &random) {
                        case 0: _ = engine.hold(who, session: session, slot: 1, dose: .one, now: now)
                        case 5: _ = engine.checkInWalkIn(who, session: session, dose: .one, now: day + 10 * hour)
                        case 6:
                            if let live = engine.liveAppointment(of: who, dose: .one, now: now) {
                                _ = engine.markNoShow(live.id, now: day + 12 * hour)
                            }
                        case 7:
                            if let live = engine.liveAppointment(of: who, dose: .one, now: now) {
                                _ = engine.recordVaccination(live.id, now: day + 12 * hour)
                            }
                        case 1:
                            if let live = engine.liveAppointment(of: who, dose: .one, now: now) { _ = engine.cancel(live.id, now: now) }
                        case 2:
                            if let live = engine.liveAppointment(of: who, dose: .one, now: now) {
                                if live.state == .held { _ = engine.confirm(live.id, now: now) } else {
                                    _ = engine.reschedule(live.id, to: session, slot: 2, now: now)
                                }
                            }
                        case 3: engine.releaseExpiredHolds(now: now)
                        default: _ = engine.book(who, session: session, slot: 0, dose: .one, now: now, requestID: RequestID(UInt64(step)))
                        }
                    }
                }
            }
        }
        #expect(engine.invariantViolations().isEmpty)
        for session in sessions {
            let a = engine.availability(session, now: 16 * hour)!
            #expect(a.categories.allSatisfy { $0.booked + $0.held + $0.walkIns + $0.noShowFreed <= $0.capacity && $0.free >= 0 })
        }
    }
}
