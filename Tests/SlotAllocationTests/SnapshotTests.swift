@testable import SlotAllocation
import Testing

/// An engine restored from a snapshot is the engine it was taken from: every later
/// request gets the same answer from both, remembered request ids included.
@Suite struct SnapshotTests {
    static let policy = AllocationPolicy.standard(walkInShare: 0.3, dose2Share: 0.3, walkInReleaseSecondOfDay: 12 * hour)
    static let configuration = BookingEngineConfiguration(horizonDays: 200, sessionShards: 2, beneficiaryShards: 4, idempotencyEntriesPerShard: 8)

    /// Three districts with two sessions each; the same calls give the same indices.
    static func topology(_ engine: BookingEngine, capacities: [Int]) throws -> [SessionIndex] {
        var sessions: [SessionIndex] = []
        for district in 0..<3 {
            let center = try engine.addCenter(CenterSpec(externalID: district, name: "c\(district)", district: district))
            for k in 0..<2 {
                sessions.append(try engine.addSession(SessionSpec(center: center, day: 1 + k, vaccine: district % 2,
                                                                  minAge: district == 2 ? 45 : 18, capacity: capacities[district * 2 + k])))
            }
        }
        return sessions
    }

    struct World {
        var people: [(BeneficiaryID, Dose)] = []
        var now = 12 * hour
        var live: [BeneficiaryID: AppointmentID] = [:]
    }

    /// One random request, sent to every engine; returns their answers.
    static func step(_ engines: [BookingEngine], _ sessions: [SessionIndex], _ world: inout World,
                     _ random: inout SeededGenerator) -> [Result<Appointment, BookingRefusal>] {
        world.now += Int.random(in: 0...(30 * 60), using: &random)
        let (who, dose) = world.people.randomElement(using: &random)!
        let session = sessions.randomElement(using: &random)!
        let slot = Int.random(in: 0...4, using: &random)
        // Request ids from a small range, so retries (and reuse for another kind) happen.
        let request = Bool.random(using: &random) ? RequestID(UInt64.random(in: 0..<6, using: &random)) : nil
        let id = world.live[who] ?? AppointmentID(rawValue: UInt64(who.rawValue) << 32)
        let now = world.now
        let kind = Int.random(in: 0..<8, using: &random)
        let answers = engines.map { engine -> Result<Appointment, BookingRefusal> in
            switch kind {
            case 0: engine.book(who, session: session, slot: slot, dose: dose, now: now, requestID: request)
            case 1: engine.hold(who, session: session, slot: slot, dose: dose, now: now, requestID: request)
            case 2: engine.confirm(id, now: now, requestID: request)
            case 3: engine.cancel(id, now: now, requestID: request)
            case 4: engine.reschedule(id, to: session, slot: slot, now: now, requestID: request)
            case 5: engine.checkInWalkIn(who, session: session, dose: dose, now: now, requestID: request)
            case 6: engine.markNoShow(id, now: now, requestID: request)
            default: engine.recordVaccination(id, now: now, requestID: request)
            }
        }
        if case .success(let a) = answers[0] { world.live[who] = a.id }
        return answers
    }

    @Test(arguments: 0..<20)
    func aRestoredEngineAnswersLikeTheOriginal(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed))
        let capacities = (0..<6).map { _ in Int.random(in: 0...8, using: &random) }
        let original = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        let sessions = try Self.topology(original, capacities: capacities)
        var world = World()
        for _ in 0..<16 {
            let dueDose2 = Bool.random(using: &random)
            let dose1 = dueDose2 ? DoseRecord(day: -Int.random(in: 20...100, using: &random), vaccine: Int.random(in: 0...1, using: &random)) : nil
            world.people.append((try original.registerBeneficiary(BeneficiarySpec(birthYear: Int.random(in: 1940...2003, using: &random), dose1: dose1)),
                                 dueDose2 ? .two : .one))
        }
        for _ in 0..<Int.random(in: 0...120, using: &random) { _ = Self.step([original], sessions, &world, &random) }

        let bytes = original.snapshot()
        let fromEmpty = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        try fromEmpty.restore(from: bytes)
        let rebuilt = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        #expect(try Self.topology(rebuilt, capacities: capacities) == sessions)
        try rebuilt.restore(from: bytes)
        #expect(fromEmpty.snapshot() == bytes)
        #expect(rebuilt.snapshot() == bytes)
        #expect(fromEmpty.sessionCount == original.sessionCount && fromEmpty.beneficiaryCount == original.beneficiaryCount)

        for _ in 0..<120 {
            let answers = Self.step([original, fromEmpty, rebuilt], sessions, &world, &random)
            #expect(answers[1] == answers[0] && answers[2] == answers[0])
            for session in sessions {
                let expected = original.availability(session, now: world.now)
                #expect(fromEmpty.availability(session, now: world.now) == expected && rebuilt.availability(session, now: world.now) == expected)
            }
        }
        #expect(fromEmpty.invariantViolations().isEmpty)
        #expect(rebuilt.invariantViolations().isEmpty)
    }
}

extension SnapshotTests {
    static func engineWithBookings() throws -> (BookingEngine, [UInt8]) {
        let engine = try BookingEngine(policy: policy, configuration: configuration)
        let sessions = try topology(engine, capacities: [4, 4, 4, 4, 4, 4])
        for k in 0..<6 {
            let who = try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1950 + k))
            _ = engine.book(who, session: sessions[k % 2], slot: k % 4, dose: .one, now: 12 * hour, requestID: RequestID(UInt64(k)))
        }
        _ = engine.hold(try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1980)), session: sessions[0], slot: 1, dose: .one, now: 12 * hour)
        return (engine, engine.snapshot())
    }

    /// Re-seals bytes after a change, as a deliberately crafted snapshot would be.
    static func resealed(_ sealed: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var body = Array(sealed.dropLast(8))
        change(&body)
        var out = SnapshotWriter()
        for byte in body { out.integer(byte) }
        return out.sealed()
    }

    func refusal(_ bytes: [UInt8], into engine: BookingEngine? = nil) throws -> String {
        let target = try engine ?? BookingEngine(policy: Self.policy, configuration: Self.configuration)
        do {
            try target.restore(from: bytes)
        } catch {
            // A refused snapshot leaves the engine empty and usable.
            #expect(target.invariantViolations().isEmpty)
            #expect(target.beneficiaryCount == 0)
            return error.description
        }
        Issue.record("the snapshot was accepted")
        return ""
    }

    @Test func damagedOrForeignSnapshotsAreRefusedWithTheirReason() throws {
        let (_, bytes) = try Self.engineWithBookings()
        var flipped = bytes
        flipped[flipped.count / 2] ^= 0x40
        #expect(try refusal(flipped).contains("checksum mismatch"))
        #expect(try refusal(Array(bytes.prefix(bytes.count - 100))).contains("checksum mismatch"))
        #expect(try refusal([1, 2, 3]).contains("too short"))
        #expect(try refusal(Self.resealed(bytes) { $0[0] = 0 }).contains("not a slotsim engine snapshot"))

        let otherPolicy = try BookingEngine(policy: .standard(walkInShare: 0.2), configuration: Self.configuration)
        #expect(try refusal(bytes, into: otherPolicy).contains("different policy"))
        var shards = Self.configuration
        shards.sessionShards = 4
        #expect(try refusal(bytes, into: BookingEngine(policy: Self.policy, configuration: shards)).contains("session shards"))

        let busy = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        _ = try busy.registerBeneficiary(BeneficiarySpec(birthYear: 1990))
        #expect(throws: SlotAllocationError.self) { try busy.restore(from: bytes) }

        let otherSessions = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        _ = try Self.topology(otherSessions, capacities: [4, 4, 4, 4, 4, 5])
        #expect(try refusal(bytes, into: otherSessions).contains("other sessions"))
    }

    /// A snapshot with a valid checksum but impossible contents: every field that
    /// indexes a table is checked before the engine uses it.
    @Test func craftedSnapshotsNeverTrap() throws {
        let (engine, bytes) = try Self.engineWithBookings()
        #expect(engine.invariantViolations().isEmpty)
        // Every single-byte change, re-sealed: refused with a reason, or accepted with every invariant intact.
        var accepted = 0
        for offset in stride(from: 8, to: bytes.count - 8, by: 3) {
            for value: UInt8 in [0x00, 0x7f, 0xff] where bytes[offset] != value {
                let crafted = Self.resealed(bytes) { $0[offset] = value }
                let target = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
                do {
                    try target.restore(from: crafted)
                    accepted += 1
                } catch {
                    #expect(target.beneficiaryCount == 0)
                }
                #expect(target.invariantViolations().isEmpty, "byte \(offset) = \(value)")
            }
        }
        #expect(accepted > 0)  // e.g. a changed birth year or hold expiry is a valid state
    }
}

extension SnapshotTests {
    /// States no request sequence makes, written into a snapshot through the engine's
    /// internals: restore refuses each with a reason, never traps, and leaves the engine empty.
    @Test func impossibleStatesAreRefused() throws {
        func refusedAfter(_ damage: (BookingEngine) -> Void) throws -> String {
            let (engine, _) = try Self.engineWithBookings()
            damage(engine)
            return try refusal(engine.snapshot())
        }
        // Two counters whose Int32 sum overflows.
        #expect(try refusedAfter { engine in
            engine.sessionShards[0].withLock { $0.counters[0].booked = Int32.max; $0.counters[0].held = 1 }
        }.contains("out of range"))
        // An appointment serial beyond 31 bits (an AppointmentID could not hold it).
        #expect(try refusedAfter { engine in
            engine.beneficiaryShards[0].withLock { registry in
                var live = registry[live: 0]
                live.serial = 1 << 31
                registry[live: 0] = live
            }
        }.contains("impossible serial"))
        // A held unit counted on another category than its hold record names.
        #expect(try refusedAfter { engine in
            let holder = try! engine.registerBeneficiary(BeneficiarySpec(birthYear: 1950))
            // District 1's first session (shard 1, untouched by engineWithBookings).
            let held = engine.hold(holder, session: SessionIndex(rawValue: 1), slot: 0, dose: .one, now: 12 * hour)
            precondition(held.value != nil, "the hold this test moves: \(held)")
            engine.sessionShards[1].withLock { inventory in
                let k = inventory.categoryCount
                let c = (0..<inventory.counters.count).first { inventory.counters[$0].held > 0 }!
                let other = c % k == 0 ? c + 1 : c - 1
                inventory.counters[c].held -= 1
                inventory.counters[other].held += 1
                inventory.counters[other].capacity += 1
            }
        }.contains("hold records"))
        // A dose-1 day and session age limits that registration and addSession refuse (the
        // batch allocator's validation would stop on them after a restore).
        #expect(try refusedAfter { engine in
            engine.beneficiaryShards[0].withLock { registry in
                var person = registry[person: 0]
                person.dose1Day = 40_000
                person.dose1Vaccine = 0
                registry[person: 0] = person
            }
        }.contains("dose-1 day out of range"))
        #expect(try refusedAfter { engine in
            engine.sessionShards[0].withLock { $0.sessions[0].maxAge = 200 }
        }.contains("age limits out of range"))
        #expect(try refusedAfter { engine in
            engine.sessionShards[0].withLock { $0.sessions[0].minAge = 90; $0.sessions[0].maxAge = 60 }
        }.contains("age limits out of range"))
    }

    /// A request id remembered twice (two ring slots, one answer) would trap the next snapshot after an eviction.
    @Test func aRequestIDRememberedTwiceIsRefused() throws {
        let (engine, _) = try Self.engineWithBookings()
        engine.beneficiaryShards[0].withLock { registry in
            let key = IdempotencyCache.Key(request: 999, beneficiary: 0)
            registry.requests.store(key, .book, .failure(.sessionFull))
            registry.requests.store(key, .book, .failure(.sessionFull))
        }
        #expect(try refusal(engine.snapshot()).contains("remembers one request id twice"))
    }

    /// Values at the edges of what requests can leave behind still round-trip.
    @Test func edgeValuesRoundTrip() throws {
        let (engine, _) = try Self.engineWithBookings()
        let who = try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990))
        let refused = engine.book(who, session: SessionIndex(rawValue: 0), slot: Int.min, dose: .one, now: 12 * hour, requestID: RequestID(77))
        let bytes = engine.snapshot()
        let restored = try BookingEngine(policy: Self.policy, configuration: Self.configuration)
        try restored.restore(from: bytes)
        #expect(restored.book(who, session: SessionIndex(rawValue: 0), slot: 0, dose: .one, now: 12 * hour, requestID: RequestID(77)) == refused,
                "the remembered refusal (slot Int.min) answers the retry")

        // A registration refused at the limit moves the counter past it.
        var small = Self.configuration
        small.beneficiariesMax = 2
        let full = try BookingEngine(policy: Self.policy, configuration: small)
        _ = try Self.topology(full, capacities: [1, 1, 1, 1, 1, 1])
        _ = try full.registerBeneficiary(BeneficiarySpec(birthYear: 1990))
        _ = try full.registerBeneficiary(BeneficiarySpec(birthYear: 1991))
        #expect(throws: SlotAllocationError.self) { try full.registerBeneficiary(BeneficiarySpec(birthYear: 1992)) }
        let again = try BookingEngine(policy: Self.policy, configuration: small)
        try again.restore(from: full.snapshot())
        #expect(again.beneficiaryCount == 2)
    }
}
