/// Sessions of a batch allocation, struct-of-arrays. Each session's capacity is split
/// into the policy's categories (or by an explicit per-category override).
public struct BatchSessions: Sendable {
    public private(set) var district: [Int32] = []
    public private(set) var day: [Int32] = []
    public private(set) var vaccine: [UInt8] = []
    public private(set) var minAge: [UInt8] = []
    public private(set) var maxAge: [UInt8] = []
    public private(set) var capacity: [Int32] = []
    /// Per-category capacities of sessions that override the policy's split, keyed by session.
    public private(set) var categoryOverrides: [Int: [Int]] = [:]

    public init() {}

    public var count: Int { day.count }

    /// Adds a session and returns its index. Checked when the allocator runs.
    @discardableResult
    public mutating func append(district: Int, day: Int, vaccine: Int, minAge: Int, maxAge: Int? = nil,
                                capacity: Int, categoryCapacities: [Int]? = nil) -> Int {
        // A district beyond 32 bits becomes Int32.min, which validation rejects (clamping would
        // file the session under another district).
        self.district.append(Int32(exactly: district).flatMap { $0 == .min ? nil : $0 } ?? .min)
        self.day.append(Int32(clamping: day))
        // Out-of-range values become 255, which validation rejects (clamping would hide them).
        self.vaccine.append(UInt8(exactly: vaccine) ?? .max)
        self.minAge.append(UInt8(exactly: minAge) ?? .max)
        self.maxAge.append(UInt8(exactly: maxAge ?? ageMax) ?? .max)
        self.capacity.append(Int32(clamping: capacity))
        if let categoryCapacities { categoryOverrides[count - 1] = categoryCapacities }
        return count - 1
    }

    /// Every session of `district` on one of `days`, by day then index: a registrant who
    /// said "any centre in my district between these dates". O(sessions) a call: for many
    /// registrants, build a ``DistrictCalendar`` once and ask it.
    public func sessions(inDistrict target: Int, days: ClosedRange<Int>) -> [Int] {
        day.indices.filter { district[$0] == target && days.contains(Int(day[$0])) }
            .sorted { (day[$0], $0) < (day[$1], $1) }
    }
}

/// The sessions of a batch ordered by district, day and index, to turn "any session in my
/// district between these dates" into a preference list in O(log sessions + its length).
///
/// ```swift
/// let calendar = DistrictCalendar(sessions)
/// registrants.append(birthYear: 1990, requestTime: t,
///                    preferences: calendar.sessions(inDistrict: 3, days: 1...7, limit: BatchAllocator.preferencesPerRegistrantMax))
/// ```
public struct DistrictCalendar: Sendable {
    /// Session indices sorted by (district, day, index).
    let order: [Int32]
    let district: [Int32]
    let day: [Int32]

    public init(_ sessions: BatchSessions) {
        district = sessions.district
        day = sessions.day
        order = (0..<Int32(sessions.count)).sorted { (sessions.district[Int($0)], sessions.day[Int($0)], $0) < (sessions.district[Int($1)], sessions.day[Int($1)], $1) }
    }

    /// The sessions of `target` on `days`, by day then index, at most `limit` of them (the
    /// earliest): a preference list holds at most ``BatchAllocator/preferencesPerRegistrantMax``.
    public func sessions(inDistrict target: Int, days: ClosedRange<Int>, limit: Int = .max) -> [Int] {
        guard let first = Int32(exactly: target) else { return [] }
        let low = Int32(clamping: days.lowerBound), high = Int32(clamping: days.upperBound)
        // The first position at or after (target, low): a binary search over the sorted order.
        var lo = 0, hi = order.count
        while lo < hi {
            let mid = (lo + hi) / 2, s = Int(order[mid])
            if (district[s], day[s]) < (first, low) { lo = mid + 1 } else { hi = mid }
        }
        var found: [Int] = []
        while lo < order.count, found.count < limit {
            let s = Int(order[lo])
            guard district[s] == first, day[s] <= high else { break }
            found.append(s)
            lo += 1
        }
        return found
    }
}

/// Registrants of a batch allocation, struct-of-arrays; registrant `i`'s ranked
/// preferences are `preferences[preferenceStart[i] ..< preferenceStart[i + 1]]`.
public struct BatchRegistrants: Sendable {
    public private(set) var birthYear: [Int16] = []
    public private(set) var priorityGroup: [UInt8] = []
    public private(set) var dose: [Dose] = []
    /// Day of dose 1, or `Int32.min` if not given.
    public private(set) var dose1Day: [Int32] = []
    public private(set) var dose1Vaccine: [UInt8] = []
    /// When the registrant asked (seconds); the key of first-come-first-served.
    public private(set) var requestTime: [Int] = []
    public private(set) var registrationTime: [Int] = []
    public private(set) var preferenceStart: [Int32] = [0]
    public private(set) var preferences: [UInt32] = []

    public init() {}

    public var count: Int { birthYear.count }

    public func preferences(of registrant: Int) -> ArraySlice<UInt32> {
        preferences[Int(preferenceStart[registrant])..<Int(preferenceStart[registrant + 1])]
    }

    /// Adds a registrant with ranked session preferences (most preferred first). Checked when the allocator runs.
    @discardableResult
    public mutating func append(birthYear: Int, priorityGroup: Int = 0, dose: Dose = .one, dose1: DoseRecord? = nil,
                                requestTime: Int, registrationTime: Int? = nil, preferences ranked: some Sequence<Int>) -> Int {
        self.birthYear.append(Int16(clamping: birthYear))
        self.priorityGroup.append(UInt8(exactly: priorityGroup) ?? .max)
        self.dose.append(dose)
        // Int32.min means "no dose 1": an out-of-range day (Int32.min itself included) becomes
        // Int32.max, which validation rejects.
        dose1Day.append(dose1.map { Int32(exactly: $0.day).flatMap { $0 == .min ? nil : $0 } ?? Int32.max } ?? Int32.min)
        dose1Vaccine.append(UInt8(exactly: dose1?.vaccine ?? 0) ?? .max)
        self.requestTime.append(requestTime)
        self.registrationTime.append(registrationTime ?? requestTime)
        // A negative or huge index becomes UInt32.max, which validation rejects.
        for session in ranked { preferences.append(UInt32(exactly: session) ?? .max) }
        preferenceStart.append(Int32(clamping: preferences.count))
        return count - 1
    }

    public mutating func reserveCapacity(registrants: Int, preferences total: Int) {
        birthYear.reserveCapacity(registrants)
        priorityGroup.reserveCapacity(registrants)
        dose.reserveCapacity(registrants)
        dose1Day.reserveCapacity(registrants)
        dose1Vaccine.reserveCapacity(registrants)
        requestTime.reserveCapacity(registrants)
        registrationTime.reserveCapacity(registrants)
        preferenceStart.reserveCapacity(registrants + 1)
        preferences.reserveCapacity(total)
    }
}

/// How a batch is allocated.
public enum BatchMechanism: Hashable, Sendable, Codable {
    /// Serial dictatorship by request time.
    case firstComeFirstServed
    /// Serial dictatorship by the policy's `batchPriorityOrder` (e.g. oldest first). A
    /// `.lottery` key in that order draws with seed 0, the same draw for every call; for a
    /// draw of your own seed, give every category that order and use
    /// `deferredAcceptance(lotterySeed:)`, which then assigns as this serial dictatorship would.
    case priority
    /// Serial dictatorship in a seeded random order.
    case lottery(seed: UInt64)
    /// Registrant-proposing deferred acceptance; each session admits through its categories
    /// in the policy's processing order, each category ranking by its own priority order.
    /// `lotterySeed` draws the numbers of categories that rank by lottery.
    case deferredAcceptance(lotterySeed: UInt64)
}

/// Why a registrant got nothing.
public enum UnassignedReason: Hashable, Sendable, CustomStringConvertible {
    case noPreferences
    /// No preferred session would take them at all; the refusal at their first preference.
    case ineligibleAtEveryPreference(firstRefusal: BookingRefusal)
    /// Eligible somewhere, but every unit they could take was gone: taken by somebody ahead
    /// of them, or the category had no units at all.
    case outrankedAtEveryEligiblePreference

    public var description: String {
        switch self {
        case .noPreferences: "no preferences"
        case let .ineligibleAtEveryPreference(refusal): "ineligible at every preference (first: \(refusal))"
        case .outrankedAtEveryEligiblePreference: "every unit they could take was taken by someone ranked higher, or there was none"
        }
    }
}

/// The outcome of a batch: who got which (session, category), the audit cutoff of each
/// (session, category), and why each unassigned registrant was left out.
public struct BatchResult: Sendable {
    public let categoryCount: Int
    /// Session of each registrant, or -1.
    public internal(set) var session: [Int32]
    /// Category of each registrant (meaningless when unassigned).
    public internal(set) var category: [UInt8]
    /// 0 assigned, 1 no preferences, 2 ineligible everywhere, 3 outranked; see ``BatchAllocator/unassignedReason(of:sessions:registrants:result:now:)``.
    public internal(set) var reasonCode: [UInt8]
    /// Capacity of (session `s`, category `c`) at `s * categoryCount + c`.
    public internal(set) var capacity: [Int32]
    /// The lowest-priority registrant admitted to each (session, category), or -1: the audit cutoff.
    public internal(set) var cutoffRegistrant: [Int32]
    /// That registrant's position (0 = first) in the order that decided: the category's priority
    /// order under deferred acceptance, the mechanism's order under serial dictatorship; or -1.
    public internal(set) var cutoffRank: [Int32]

    public var assignedCount: Int { session.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    init(registrants: Int, capacity: [Int32], categoryCount: Int) {
        self.categoryCount = categoryCount
        session = LargeArrays.repeating(Int32(-1), count: registrants)
        category = LargeArrays.repeating(UInt8(0), count: registrants)
        reasonCode = LargeArrays.repeating(UInt8(0), count: registrants)
        self.capacity = capacity
        cutoffRegistrant = [Int32](repeating: -1, count: capacity.count)
        cutoffRank = [Int32](repeating: -1, count: capacity.count)
    }
}
