import SlotAllocation

/// SplitMix64 (Steele, Lea, Flood 2014): seeded, so every benchmark instance is the same on every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The online benchmark's world: `districts × sessionsPerDistrict` sessions on day 1 under the
/// standard three-category policy, and `people` registered 18–44-year-olds.
public struct OnlineWorld: Sendable {
    public let engine: BookingEngine
    public let sessions: [SessionIndex]
    public let people: [BeneficiaryID]
    public let districts: Int
    /// People and sessions split in two halves that share no shard: even and odd shard numbers.
    public let halves: [(people: [BeneficiaryID], sessions: [SessionIndex])]

    public init(districts: Int = 1_000, sessionsPerDistrict: Int = 100, capacity: Int = 100, people: Int = 1_000_000) {
        let engine = try! BookingEngine(policy: .standard(), configuration: .init(horizonDays: 30))
        self.engine = engine
        var sessions: [SessionIndex] = []
        for district in 0..<districts {
            let center = try! engine.addCenter(CenterSpec(externalID: district, name: "centre \(district)", district: district))
            for _ in 0..<sessionsPerDistrict {
                sessions.append(try! engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: capacity)))
            }
        }
        self.sessions = sessions
        let registered = (0..<people).map { _ in try! engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990)) }
        self.people = registered
        self.districts = districts
        halves = (0..<2).map { half in
            (registered.filter { Int($0.rawValue) & 1 == half }, sessions.filter { Int($0.rawValue) & 1 == half })
        }
    }

    /// Books and cancels `pairs` times: person `p` of `people`, session of `sessions` (both cycled);
    /// returns how many requests succeeded, so the work cannot be optimised away.
    public func bookAndCancel(pairs: Int, people: [BeneficiaryID], sessions: [SessionIndex]) -> Int {
        var succeeded = 0
        let now = 16 * 3600
        var p = 0, s = 0
        for _ in 0..<pairs {
            if case .success(let appointment) = engine.book(people[p], session: sessions[s], slot: 0, dose: .one, now: now) {
                succeeded += 1
                if case .success = engine.cancel(appointment.id, now: now) { succeeded += 1 }
            }
            p += 1
            if p == people.count { p = 0 }
            s += 1
            if s == sessions.count { s = 0 }
        }
        return succeeded
    }
}

/// A batch instance: `registrants` with `preferences` distinct uniformly drawn sessions each,
/// `sessions` of `capacity`, over `districts` districts (all on day 1, ages 18+).
/// Registrant `i` asked at second `i` and is born 1940...2003 at random.
public struct BatchInstance: Sendable {
    public var sessions = BatchSessions()
    public var registrants = BatchRegistrants()

    public init(registrants count: Int, sessions sessionCount: Int, preferences: Int, capacity: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for s in 0..<sessionCount {
            sessions.append(district: s % 1000, day: 1, vaccine: 0, minAge: 18, capacity: capacity)
        }
        registrants.reserveCapacity(registrants: count, preferences: count * preferences)
        var chosen = [Int](repeating: 0, count: preferences)
        for i in 0..<count {
            var k = 0
            while k < preferences {
                let s = Int(random.next() % UInt64(sessionCount))
                if !chosen[0..<k].contains(s) {
                    chosen[k] = s
                    k += 1
                }
            }
            registrants.append(birthYear: 1940 + Int(random.next() % 64), requestTime: i, preferences: chosen)
        }
    }

    /// Two categories: a 20 % reserve for 60+ ranked oldest first, and the open rest by request time; reserve first.
    public static let reservePolicy = AllocationPolicy(
        categories: [CapacityCategory(name: "60+ reserve", share: 0.2, ageBands: ["60+"], priorityOrder: [.ageDescending, .requestTime]),
                     CapacityCategory(name: "open", priorityOrder: [.requestTime])])
}
