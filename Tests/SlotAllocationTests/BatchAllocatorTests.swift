@testable import SlotAllocation
import Testing

@Suite struct BatchAllocatorTests {
    /// Pathak, Sönmez, Ünver and Yenmez's example: one open and one reserve unit,
    /// priority b1 > n1 > b2, b1 and b2 reserve-eligible (60+), n1 not.
    @Test(arguments: [(["reserve", "open"], [0, 1]), (["open", "reserve"], [0, 2])])
    func processingOrderChangesWhoIsServed(order: [String], served: [Int]) throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "reserve", count: 1, ageBands: ["60+"]),
                                                   CapacityCategory(name: "open")], processingOrder: order)
        var sessions = BatchSessions()
        sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 2)
        var registrants = BatchRegistrants()
        for (time, born) in [(0, 1950), (1, 1990), (2, 1951)] {  // b1, n1, b2 by request time
            registrants.append(birthYear: born, requestTime: time, preferences: [0])
        }
        let result = try BatchAllocator(policy: policy).allocate(sessions: sessions, registrants: registrants,
                                                                 mechanism: .deferredAcceptance(lotterySeed: 1), now: 0)
        #expect((0..<3).filter { result.session[$0] == 0 } == served)
        let reserveHolder = order[0] == "reserve" ? 0 : 2
        #expect(result.category[reserveHolder] == 0)
        // And the properties the random tests check: compliant, non-wasteful, no blocking pair.
        check(Instance(policy: policy, sessions: sessions, registrants: registrants), result, seed: 1, stable: true)
    }

    /// Deferred acceptance through the proposal rounds (the categories rank by different orders,
    /// so no shortcut), worked by hand. A senior reserve ranks by age, the open unit by request
    /// time; each of sessions A and B has one of each.
    /// Round 1: r0, r1, r2 and r3 propose to A, r4 to B. At A, r1 takes the reserve and r2
    /// (older) displaces r1, who flows on to the open unit and loses it to r0 (earlier); r3 loses
    /// it too. Round 2: r1 has no preference left; r3 proposes to B and takes its open unit.
    @Test func deferredAcceptanceThroughDisplacementsByHand() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "senior", count: 1, ageBands: ["60+"], priorityOrder: [.ageDescending]),
                                                   CapacityCategory(name: "open", priorityOrder: [.requestTime])])
        var sessions = BatchSessions()
        let a = sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 2)
        let b = sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 2)
        var registrants = BatchRegistrants()
        for (time, born, preferences) in [(0, 1990, [a, b]), (1, 1950, [a]), (2, 1940, [a, b]), (3, 1995, [a, b]), (4, 1960, [b, a])] {
            registrants.append(birthYear: born, requestTime: time, preferences: preferences)
        }
        let allocator = try BatchAllocator(policy: policy)
        let result = try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .deferredAcceptance(lotterySeed: 1), now: 0)
        #expect(result.session == [Int32(a), -1, Int32(a), Int32(b), Int32(b)])
        #expect([0, 2, 3, 4].map { result.category[$0] } == [1, 0, 1, 0])
        // Cutoffs per (session, category): who, and their place in the category's order
        // (by age: r2 0, r1 1, r4 2; by request time: r0 0, r3 3).
        #expect(result.cutoffRegistrant == [2, 0, 4, 3])
        #expect(result.cutoffRank == [0, 0, 2, 3])
        #expect(try allocator.unassignedReason(of: 1, sessions: sessions, registrants: registrants, result: result, now: 0)
            == .outrankedAtEveryEligiblePreference)
        check(Instance(policy: policy, sessions: sessions, registrants: registrants), result, seed: 1, stable: true)
        // A result that is not of these registrants is refused, not read out of range.
        #expect(throws: SlotAllocationError.self) {
            try allocator.unassignedReason(of: 5, sessions: sessions, registrants: registrants, result: result, now: 0)
        }
        var fewer = registrants
        fewer.append(birthYear: 1990, requestTime: 9, preferences: [Int]())
        #expect(throws: SlotAllocationError.self) {
            try allocator.unassignedReason(of: 0, sessions: sessions, registrants: fewer, result: result, now: 0)
        }
    }

    /// Huge sessions and few registrants: the heaps are sized by who can propose, not by capacity.
    @Test func hugeSessionsWithFewRegistrantsNeedLittleMemory() throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "senior", share: 0.5, ageBands: ["60+"], priorityOrder: [.ageDescending]),
                                                   CapacityCategory(name: "open", priorityOrder: [.requestTime])])
        var sessions = BatchSessions()
        for _ in 0..<5_000 { sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 1_000_000) }  // 5 billion units
        var registrants = BatchRegistrants()
        for i in 0..<2_000 { registrants.append(birthYear: 1940 + i % 60, requestTime: i, preferences: [i % 7, 4_999 - i % 5]) }
        let room = BatchAllocator.heapRoom(try BatchAllocator(policy: policy).validate(sessions: sessions, registrants: registrants),
                                           registrants, categoryCount: 2)
        #expect(room.reduce(0) { $0 + Int($1) } <= 2 * registrants.preferences.count)
        let result = try BatchAllocator(policy: policy).allocate(sessions: sessions, registrants: registrants,
                                                                 mechanism: .deferredAcceptance(lotterySeed: 1), now: 0)
        #expect(result.assignedCount == 2_000)
    }

    /// "Any session in my district between these dates" as a preference list: the calendar's
    /// answer is the brute-force one, and an allocation over such lists stays in range.
    @Test func anySessionInADistrictBetweenDates() throws {
        var random = SeededGenerator(seed: 42)
        var sessions = BatchSessions()
        for _ in 0..<400 {
            sessions.append(district: Int.random(in: 0..<5, using: &random), day: Int.random(in: 0..<10, using: &random), vaccine: 0, minAge: 18, capacity: 2)
        }
        let calendar = DistrictCalendar(sessions)
        for _ in 0..<200 {
            let d = Int.random(in: -1..<6, using: &random), a = Int.random(in: -2..<11, using: &random), b = Int.random(in: a..<12, using: &random)
            let brute = (0..<sessions.count).filter { Int(sessions.district[$0]) == d && (a...b).contains(Int(sessions.day[$0])) }
                .sorted { (sessions.day[$0], $0) < (sessions.day[$1], $1) }
            #expect(calendar.sessions(inDistrict: d, days: a...b) == brute)
            #expect(calendar.sessions(inDistrict: d, days: a...b, limit: 3) == Array(brute.prefix(3)))
            #expect(sessions.sessions(inDistrict: d, days: a...b) == brute)
        }
        var registrants = BatchRegistrants()
        for i in 0..<300 {
            registrants.append(birthYear: 1990, requestTime: i, preferences: calendar.sessions(inDistrict: i % 5, days: 2...4, limit: BatchAllocator.preferencesPerRegistrantMax))
        }
        let result = try BatchAllocator(policy: .singleCategory()).allocate(sessions: sessions, registrants: registrants,
                                                                            mechanism: .deferredAcceptance(lotterySeed: 1), now: 0)
        for i in 0..<300 where result.session[i] >= 0 {
            let s = Int(result.session[i])
            #expect(Int(sessions.district[s]) == i % 5 && (2...4).contains(Int(sessions.day[s])))
        }
        #expect(result.assignedCount > 0)
    }

    /// Two packed records to a cache line, never one across two (see PackedRegistrants).
    @Test func aPackedRecordIsHalfACacheLine() {
        #expect(MemoryLayout<PackedRegistrants.Record>.stride == 32)
    }

    @Test func unassignedRegistrantsAreToldWhy() throws {
        let allocator = try BatchAllocator(policy: .singleCategory())
        var sessions = BatchSessions()
        sessions.append(district: 0, day: 1, vaccine: 0, minAge: 45, capacity: 1)
        var registrants = BatchRegistrants()
        registrants.append(birthYear: 1960, requestTime: 0, preferences: [0])
        registrants.append(birthYear: 1961, requestTime: 1, preferences: [0])
        registrants.append(birthYear: 1990, requestTime: 2, preferences: [0])
        registrants.append(birthYear: 1990, requestTime: 3, preferences: [Int]())
        for mechanism in [BatchMechanism.firstComeFirstServed, .priority, .lottery(seed: 3), .deferredAcceptance(lotterySeed: 3)] {
            let result = try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: mechanism, now: 0)
            let reasons = try (0..<4).map { try allocator.unassignedReason(of: $0, sessions: sessions, registrants: registrants, result: result, now: 0) }
            #expect(reasons.filter { $0 == nil }.count == 1)
            #expect(reasons.contains(.outrankedAtEveryEligiblePreference))
            #expect(reasons[2] == .ineligibleAtEveryPreference(firstRefusal: .ageNotEligible(age: 31, minAge: 45, maxAge: nil)))
            #expect(reasons[3] == .noPreferences)
            check(Instance(policy: .singleCategory(), sessions: sessions, registrants: registrants), result, seed: 3,
                  stable: mechanism == .deferredAcceptance(lotterySeed: 3))  // stable under the categories' own orders
        }
    }

    @Test func badInstancesAreErrorsWithThePath() throws {
        let allocator = try BatchAllocator(policy: .singleCategory())
        var sessions = BatchSessions()
        sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 1)
        var registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, requestTime: 0, preferences: [0, -1])
        #expect(throws: SlotAllocationError.invalid("registrants[0].preferences[1]", "must be a session index 0..<1")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .priority, now: 0)
        }
        registrants = BatchRegistrants()
        registrants.append(birthYear: 1990, requestTime: 0, preferences: [0, 0])
        #expect(throws: SlotAllocationError.invalid("registrants[0].preferences", "must not list a session twice")) {
            try allocator.allocate(sessions: sessions, registrants: registrants, mechanism: .priority, now: 0)
        }
        var badSessions = BatchSessions()
        badSessions.append(district: 0, day: 1, vaccine: 0, minAge: -4, capacity: 1)
        #expect(throws: SlotAllocationError.self) {
            try allocator.allocate(sessions: badSessions, registrants: BatchRegistrants(), mechanism: .priority, now: 0)
        }
        // Lists longer than eight are checked with a table instead of pairwise; at most 255 entries.
        var many = BatchSessions()
        for _ in 0..<300 { many.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: 1) }
        for (preferences, error) in [
            (Array(0..<9) + [3], SlotAllocationError.invalid("registrants[1].preferences", "must not list a session twice")),
            (Array(0..<9) + [300], .invalid("registrants[1].preferences[9]", "must be a session index 0..<300")),
            (Array(0..<256), .invalid("registrants[1].preferences", "at most 255, found 256")),
        ] {
            registrants = BatchRegistrants()
            registrants.append(birthYear: 1990, requestTime: 0, preferences: Array(0..<255))
            registrants.append(birthYear: 1990, requestTime: 1, preferences: preferences)
            for mechanism in [BatchMechanism.priority, .deferredAcceptance(lotterySeed: 0)] {
                #expect(throws: error) {
                    try allocator.allocate(sessions: many, registrants: registrants, mechanism: mechanism, now: 0)
                }
            }
        }
        badSessions = BatchSessions()
        badSessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: -1)
        #expect(throws: SlotAllocationError.invalid("sessions[0].capacity", "must be between 0 and 1000000, found -1")) {
            try allocator.allocate(sessions: badSessions, registrants: BatchRegistrants(), mechanism: .priority, now: 0)
        }
    }

    // MARK: Random instances against the definitions

    struct Instance {
        var policy: AllocationPolicy
        var sessions = BatchSessions()
        var registrants = BatchRegistrants()
        var now = 0
    }

    static func randomInstance(_ random: inout SeededGenerator) -> Instance {
        let orders: [[PriorityKey]] = [[.requestTime], [.ageDescending, .registrationTime], [.lottery]]
        var categories = [CapacityCategory(name: "60+", share: 0.3, ageBands: ["60+"], priorityOrder: orders.randomElement(using: &random)!),
                          CapacityCategory(name: "health workers", share: 0.1, priorityGroups: [1], priorityOrder: orders.randomElement(using: &random)!),
                          CapacityCategory(name: "dose-2", share: 0.2, doses: [.two], priorityOrder: orders.randomElement(using: &random)!),
                          CapacityCategory(name: "walk-in", share: 0.2, channels: [.walkIn], releaseToOnlineAtSecondOfDay: 13 * hour),
                          CapacityCategory(name: "open", priorityOrder: orders.randomElement(using: &random)!)]
        categories.shuffle(using: &random)
        var policy = AllocationPolicy(categories: categories, processingOrder: categories.map(\.name).shuffled(using: &random))
        policy.phases = [EligibilityPhase(ageBand: "60+", openDay: 0), EligibilityPhase(ageBand: "45-59", openDay: 0),
                         EligibilityPhase(ageBand: "18-44", openDay: Int.random(in: 0...2, using: &random))]
        policy.endOfDayFillSecondOfDay = [nil, 12 * hour].randomElement(using: &random)!
        var instance = Instance(policy: policy, now: Int.random(in: 0...(2 * day), using: &random))
        let sessionCount = Int.random(in: 1...12, using: &random)
        for _ in 0..<sessionCount {
            instance.sessions.append(district: 0, day: Int.random(in: 1...2, using: &random), vaccine: Int.random(in: 0...1, using: &random),
                                     minAge: [18, 18, 45].randomElement(using: &random)!, capacity: Int.random(in: 0...9, using: &random))
        }
        for _ in 0..<Int.random(in: 1...80, using: &random) {
            let dose2 = Int.random(in: 0..<4, using: &random) == 0
            // Up to 8: more than the 5 a packed record holds inline.
            let prefs = Array((0..<sessionCount).shuffled(using: &random).prefix(Int.random(in: 0...8, using: &random)))
            instance.registrants.append(
                birthYear: Int.random(in: 1930...2003, using: &random), priorityGroup: Int.random(in: 0...1, using: &random),
                dose: dose2 ? .two : .one,
                dose1: dose2 ? DoseRecord(day: -Int.random(in: 20...110, using: &random), vaccine: Int.random(in: 0...1, using: &random)) : nil,
                requestTime: Int.random(in: 0...50, using: &random), registrationTime: Int.random(in: 0...50, using: &random), preferences: prefs)
        }
        return instance
    }

    /// Categories of session `s` that registrant `i` may take, written from the rules directly.
    static func eligible(_ x: Instance, _ i: Int, _ s: Int) -> Set<Int> {
        let policy = x.policy, r = x.registrants, ss = x.sessions
        let age = policy.ageReferenceYear - Int(r.birthYear[i])
        guard x.now < Int(ss.day[s]) * day + policy.bookingCloseSecondOfDay else { return [] }
        guard age >= Int(ss.minAge[s]), age <= Int(ss.maxAge[s]) else { return [] }
        guard let band = policy.ageBands.firstIndex(where: { $0.contains(age: age) }) else { return [] }
        guard let phase = policy.phases.first(where: { $0.ageBand == policy.ageBands[band].name }), phase.openDay <= x.now / day else { return [] }
        if r.dose[i] == .two {
            let vaccine = policy.vaccines[Int(ss.vaccine[s])]
            let since = Int(ss.day[s]) - Int(r.dose1Day[i])
            guard Int(r.dose1Vaccine[i]) == Int(ss.vaccine[s]), since >= vaccine.dose2IntervalDaysMin, since <= vaccine.dose2IntervalDaysMax else { return [] }
        }
        let second = x.now - Int(ss.day[s]) * day
        if second >= (policy.endOfDayFillSecondOfDay ?? .max) { return Set(policy.categories.indices) }
        return Set(policy.categories.indices.filter { c in
            let category = policy.categories[c]
            let channelOK = category.channels.contains(.online) || second >= (category.releaseToOnlineAtSecondOfDay ?? .max)
            return channelOK && (category.ageBands?.contains(policy.ageBands[band].name) ?? true)
                && (category.doses?.contains(r.dose[i]) ?? true)
                && (category.priorityGroups?.contains(Int(r.priorityGroup[i])) ?? true)
        })
    }

    /// Rank of every registrant under a priority order, from a plain comparison sort.
    static func ranks(_ x: Instance, _ keys: [PriorityKey], seed: UInt64) -> [Int] {
        let r = x.registrants
        func value(_ key: PriorityKey, _ i: Int) -> Int {
            switch key {
            case .requestTime: r.requestTime[i]
            case .registrationTime: r.registrationTime[i]
            case .ageDescending: -(x.policy.ageReferenceYear - Int(r.birthYear[i]))
            case .lottery: Int(PriorityRanking.lotteryNumber(seed: seed, registrant: i))
            }
        }
        let sorted = (0..<r.count).sorted { a, b in
            for key in keys where value(key, a) != value(key, b) { return value(key, a) < value(key, b) }
            return a < b
        }
        var rank = [Int](repeating: 0, count: r.count)
        for (position, i) in sorted.enumerated() { rank[i] = position }
        return rank
    }

    /// The sequential reserve choice of session `s` from `pool`, computed from scratch.
    static func choose(_ x: Instance, _ s: Int, _ pool: [Int], _ capacity: [Int32], _ ranks: [[Int]]) -> [Int: Int] {
        let k = x.policy.categories.count
        var chosen: [Int: Int] = [:]
        for name in x.policy.processingOrder {
            let c = x.policy.categories.firstIndex { $0.name == name }!
            let candidates = pool.filter { chosen[$0] == nil && eligible(x, $0, s).contains(c) }.sorted { ranks[c][$0] < ranks[c][$1] }
            for i in candidates.prefix(Int(capacity[s * k + c])) { chosen[i] = c }
        }
        return chosen
    }

    func check(_ x: Instance, _ result: BatchResult, seed: UInt64, stable: Bool) {
        let k = x.policy.categories.count
        var used = [Int](repeating: 0, count: result.capacity.count)
        func position(_ i: Int, _ s: Int) -> Int {
            x.registrants.preferences(of: i).firstIndex(of: UInt32(s)).map { $0 - Int(x.registrants.preferenceStart[i]) } ?? .max
        }
        for i in 0..<x.registrants.count where result.session[i] >= 0 {
            let s = Int(result.session[i]), c = Int(result.category[i])
            #expect(Self.eligible(x, i, s).contains(c), "registrant \(i) is not eligible for session \(s) category \(c)")
            #expect(position(i, s) != .max, "registrant \(i) got a session they did not ask for")
            used[s * k + c] += 1
        }
        #expect(zip(used, result.capacity).allSatisfy { $0 <= Int($1) }, "over capacity")
        // Non-wasteful: nobody prefers a session that has a free unit in a category they may take.
        for i in 0..<x.registrants.count {
            let mine = result.session[i] >= 0 ? position(i, Int(result.session[i])) : .max
            for s in x.registrants.preferences(of: i).map(Int.init) where position(i, s) < mine {
                for c in Self.eligible(x, i, s) {
                    #expect(used[s * k + c] == Int(result.capacity[s * k + c]), "wasteful: \(i) wanted \(s) and category \(c) had room")
                }
            }
        }
        guard stable else { return }
        let ranks = x.policy.categories.map { Self.ranks(x, $0.priorityOrder, seed: seed) }
        for i in 0..<x.registrants.count {
            let mine = result.session[i] >= 0 ? position(i, Int(result.session[i])) : .max
            for s in x.registrants.preferences(of: i).map(Int.init) where position(i, s) < mine {
                let pool = (0..<x.registrants.count).filter { result.session[$0] == Int32(s) } + [i]
                #expect(Self.choose(x, s, pool, result.capacity, ranks)[i] == nil, "blocking pair: \(i) and session \(s)")
            }
        }
    }

    @Test(arguments: 0..<10)
    func deferredAcceptanceIsCompliantNonWastefulAndStable(batch: Int) throws {
        for run in 0..<60 {
            var random = SeededGenerator(seed: UInt64(batch * 100 + run))
            let x = Self.randomInstance(&random)
            let seed = UInt64(run)
            let result = try BatchAllocator(policy: x.policy).allocate(sessions: x.sessions, registrants: x.registrants,
                                                                       mechanism: .deferredAcceptance(lotterySeed: seed), now: x.now)
            check(x, result, seed: seed, stable: true)
            // Heaps partitioned into as many groups as the code allows: the same outcome.
            var grouped = try BatchAllocator(policy: x.policy)
            grouped.heapBytesPerGroup = 1
            let inGroups = try grouped.allocate(sessions: x.sessions, registrants: x.registrants,
                                                mechanism: .deferredAcceptance(lotterySeed: seed), now: x.now, commonPriorityShortcut: false)
            #expect(inGroups.session == result.session && inGroups.category == result.category && inGroups.reasonCode == result.reasonCode
                    && inGroups.cutoffRegistrant == result.cutoffRegistrant && inGroups.cutoffRank == result.cutoffRank, "run \(run): groups")
            // The registrant-optimal stable matching is unique: a from-scratch deferred acceptance must agree.
            let reference = referenceDeferredAcceptance(x, result.capacity, seed: seed)
            #expect(result.session == reference.session)
            #expect(zip(result.category, reference.category).enumerated().allSatisfy { i, pair in
                result.session[i] < 0 || Int(pair.0) == pair.1
            }, "categories differ from the reference")
        }
    }

    /// Positions computed directly (one counting sort, when the less significant keys are in
    /// the registrants' own order) or by inverting the permutation agree with a comparison
    /// sort, for time spans below and beyond 32 bits.
    @Test func ranksAreTheInverseOfTheOrder() {
        var random = SeededGenerator(seed: 31)
        let keyLists: [[PriorityKey]] = [[.requestTime], [.ageDescending, .requestTime], [.ageDescending, .registrationTime],
                                         [.lottery], [.registrationTime, .ageDescending], [.ageDescending], []]
        for run in 0..<48 {
            var x = Instance(policy: AllocationPolicy(categories: [CapacityCategory(name: "open")]))
            // Spans past 2^32 seconds take two 32-bit passes (validation allows ±2^40).
            let spread = [3, 1_000, 100_000, 1 << 40][run % 4], sorted = run % 3 == 0
            var time = 0
            for _ in 0..<Int.random(in: 0...300, using: &random) {
                time = sorted ? time + Int.random(in: 0...spread, using: &random) : Int.random(in: -spread...spread, using: &random)
                x.registrants.append(birthYear: Int.random(in: 1930...2003, using: &random), requestTime: time,
                                     registrationTime: Int.random(in: 0...spread, using: &random), preferences: [])
            }
            let ages = (0..<x.registrants.count).map { UInt8(x.policy.ageReferenceYear - Int(x.registrants.birthYear[$0])) }
            for keys in keyLists {
                let inputs = PriorityRanking.Inputs(registrants: x.registrants, ages: ages, lotterySeed: UInt64(run))
                let expected = Self.ranks(x, keys, seed: UInt64(run)).map { UInt32($0) }
                #expect(PriorityRanking.ranks(keys, inputs) == expected, "run \(run), keys \(keys)")
            }
        }
    }

    /// With one priority order for every category, deferred acceptance is computed as serial
    /// dictatorship: it must match the reference and the proposing algorithm in every field.
    @Test(arguments: 0..<4)
    func deferredAcceptanceWithOneOrderIsSerialDictatorship(batch: Int) throws {
        let orders: [[PriorityKey]] = [[.requestTime], [.ageDescending, .registrationTime], [.lottery], [.ageDescending]]
        for run in 0..<60 {
            var random = SeededGenerator(seed: UInt64(7000 + batch * 100 + run))
            var x = Self.randomInstance(&random)
            let common = orders[run % orders.count]
            for c in x.policy.categories.indices { x.policy.categories[c].priorityOrder = common }
            let seed = UInt64(run), allocator = try BatchAllocator(policy: x.policy)
            #expect(allocator.distinctOrders().orders.count == 1)
            let shortcut = try allocator.allocate(sessions: x.sessions, registrants: x.registrants,
                                                  mechanism: .deferredAcceptance(lotterySeed: seed), now: x.now)
            let proposing = try allocator.allocate(sessions: x.sessions, registrants: x.registrants,
                                                   mechanism: .deferredAcceptance(lotterySeed: seed), now: x.now,
                                                   commonPriorityShortcut: false)
            check(x, shortcut, seed: seed, stable: true)
            #expect(shortcut.session == referenceDeferredAcceptance(x, shortcut.capacity, seed: seed).session, "run \(run)")
            #expect(shortcut.session == proposing.session && shortcut.reasonCode == proposing.reasonCode, "run \(run)")
            #expect(shortcut.cutoffRegistrant == proposing.cutoffRegistrant && shortcut.cutoffRank == proposing.cutoffRank,
                    "run \(run): cutoffs")
            #expect(zip(shortcut.category, proposing.category).enumerated().allSatisfy { i, pair in
                shortcut.session[i] < 0 || pair.0 == pair.1
            }, "run \(run): categories")
        }
    }

    @Test(arguments: [BatchMechanism.firstComeFirstServed, .priority, .lottery(seed: 9)])
    func serialDictatorshipIsCompliantNonWastefulAndFollowsItsOrder(mechanism: BatchMechanism) throws {
        for run in 0..<300 {
            var random = SeededGenerator(seed: UInt64(5000 + run))
            let x = Self.randomInstance(&random)
            let result = try BatchAllocator(policy: x.policy).allocate(sessions: x.sessions, registrants: x.registrants,
                                                                       mechanism: mechanism, now: x.now)
            check(x, result, seed: 9, stable: false)
            let keys: [PriorityKey] = switch mechanism {
            case .firstComeFirstServed: [.requestTime]
            case .priority: x.policy.batchPriorityOrder
            default: [.lottery]
            }
            let rank = Self.ranks(x, keys, seed: 9)
            // The whole outcome equals serial dictatorship written plainly from the rules: the
            // assignment, every cutoff (registrant and rank) and every reason code.
            let k = x.policy.categories.count
            var remaining = result.capacity
            var cutoffRegistrant = [Int32](repeating: -1, count: remaining.count), cutoffRank = cutoffRegistrant
            for i in (0..<x.registrants.count).sorted(by: { rank[$0] < rank[$1] }) {
                let prefs = x.registrants.preferences(of: i).map(Int.init)
                var got: (Int, Int)? = nil, anyEligible = false
                search: for s in prefs {
                    let eligible = Self.eligible(x, i, s)
                    anyEligible = anyEligible || !eligible.isEmpty
                    for name in x.policy.processingOrder {
                        let c = x.policy.categories.firstIndex { $0.name == name }!
                        if eligible.contains(c), remaining[s * k + c] > 0 {
                            got = (s, c)
                            break search
                        }
                    }
                }
                let code: UInt8 = got != nil ? 0 : prefs.isEmpty ? 1 : anyEligible ? 3 : 2
                #expect(result.reasonCode[i] == code, "run \(run): reason of \(i)")
                #expect(result.session[i] == Int32(got?.0 ?? -1) && (got == nil || result.category[i] == UInt8(got!.1)), "run \(run): \(i)")
                if let (s, c) = got {
                    remaining[s * k + c] -= 1
                    cutoffRegistrant[s * k + c] = Int32(i)
                    cutoffRank[s * k + c] = Int32(rank[i])
                }
            }
            #expect(result.cutoffRegistrant == cutoffRegistrant && result.cutoffRank == cutoffRank, "run \(run): cutoffs")
            // Nobody assigned to (s, c) is behind someone who wanted s more than what they got and could take c.
            for i in 0..<x.registrants.count {
                let prefs = x.registrants.preferences(of: i).map(Int.init)
                let mine = result.session[i] >= 0 ? prefs.firstIndex(of: Int(result.session[i]))! : prefs.count
                for s in prefs.prefix(mine) {
                    for j in 0..<x.registrants.count where result.session[j] == Int32(s) && rank[j] > rank[i] {
                        #expect(!Self.eligible(x, i, s).contains(Int(result.category[j])), "\(j) took \(i)'s unit out of order")
                    }
                }
            }
        }
    }

    /// Rounds of deferred acceptance where every session chooses from scratch.
    func referenceDeferredAcceptance(_ x: Instance, _ capacity: [Int32], seed: UInt64) -> (session: [Int32], category: [Int]) {
        let ranks = x.policy.categories.map { Self.ranks(x, $0.priorityOrder, seed: seed) }
        let n = x.registrants.count
        var next = [Int](repeating: 0, count: n)
        var held = [Int: [Int]]()
        var assigned = [Int32](repeating: -1, count: n)
        var category = [Int](repeating: -1, count: n)
        while true {
            var proposals = [Int: [Int]]()
            for i in 0..<n where assigned[i] < 0 {
                let prefs = x.registrants.preferences(of: i).map(Int.init)
                guard next[i] < prefs.count else { continue }
                proposals[prefs[next[i]], default: []].append(i)
                next[i] += 1
            }
            if proposals.isEmpty { break }
            for (s, newcomers) in proposals {
                let chosen = Self.choose(x, s, (held[s] ?? []) + newcomers, capacity, ranks)
                for i in (held[s] ?? []) + newcomers {
                    assigned[i] = chosen[i] == nil ? -1 : Int32(s)
                    category[i] = chosen[i] ?? -1
                }
                held[s] = Array(chosen.keys)
            }
        }
        return (assigned, category)
    }
}
