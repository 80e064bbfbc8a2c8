/// An ``AllocationPolicy`` checked once and turned into flat tables for the hot path:
/// band of each age, opening day of each band, and per-category bit masks.
///
/// A final class of `let`s: the tables are about 1.3 KB inline, and a reference lets
/// every request read them in place (a struct would be copied into each call).
final class CompiledPolicy: Sendable {
    static let secondsPerDay = 86_400
    static let categoryCountMax = 16
    static let priorityGroupCountMax = 64

    static let vaccineCountMax = 16
    /// Units in one session (or one category of it).
    static let capacityMax = 1_000_000
    /// Times (seconds from the caller's epoch) beyond ±2^40 (≈ 34,800 years) are refused, so
    /// no arithmetic on a time can overflow.
    static let timeLimit = 1 << 40
    typealias PerCategory<Element> = InlineArray<16, Element>

    let policy: AllocationPolicy
    // The hot tables are inline (no heap buffer), so reading them costs no reference
    // counting and threads on different shards share nothing but read-only bytes.
    let ageReferenceYear: Int
    let bandOfAge: InlineArray<151, Int8>
    /// Day from which each band may book or walk in; `Int.max` if never.
    let bandOpenDay: InlineArray<64, Int>
    /// First day each band may walk in (at least its online opening day).
    let bandWalkInOpenDay: InlineArray<64, Int>
    let dose2DaysMin: InlineArray<16, Int32>
    let dose2DaysMax: InlineArray<16, Int32>
    let categoryCount: Int
    /// Category indices in processing order (the first `categoryCount` entries).
    let order: PerCategory<UInt8>
    let channelMask: PerCategory<UInt8>
    let bandMask: PerCategory<UInt64>
    let doseMask: PerCategory<UInt8>
    let groupMask: PerCategory<UInt64>
    /// Second of the session's day from which online may use the category; `Int.max` if never.
    let releaseToOnlineSecond: PerCategory<Int>
    let fillSecond: Int
    let closeSecond: Int
    let holdTimeout: Int

    init(_ policy: AllocationPolicy) throws(SlotAllocationError) {
        self.policy = policy
        ageReferenceYear = policy.ageReferenceYear
        let ages = try bandTable(policy.ageBands)
        bandOfAge = InlineArray { ages[$0] }
        let bandNames = policy.ageBands.map(\.name)
        guard (1900...2200).contains(policy.ageReferenceYear) else {
            throw .invalid("policy.ageReferenceYear", "must be a year between 1900 and 2200, found \(policy.ageReferenceYear)")
        }
        guard (1...Self.vaccineCountMax).contains(policy.vaccines.count) else {
            throw .invalid("policy.vaccines", "needs 1 to \(Self.vaccineCountMax) vaccines, found \(policy.vaccines.count)")
        }
        for (index, vaccine) in policy.vaccines.enumerated() { try vaccine.validate(at: index) }
        let vaccines = policy.vaccines
        dose2DaysMin = InlineArray { $0 < vaccines.count ? Int32(vaccines[$0].dose2IntervalDaysMin) : 0 }
        dose2DaysMax = InlineArray { $0 < vaccines.count ? Int32(vaccines[$0].dose2IntervalDaysMax) : 0 }

        var openDay = [Int](repeating: .max, count: bandNames.count)
        var walkInDay = [Int](repeating: .max, count: bandNames.count)
        for (index, phase) in policy.phases.enumerated() {
            guard let band = bandNames.firstIndex(of: phase.ageBand) else {
                throw .invalid("policy.phases[\(index)].ageBand", "must name an age band (\(bandNames.joined(separator: ", "))), found \"\(phase.ageBand)\"")
            }
            openDay[band] = min(openDay[band], phase.openDay)
            if let walkIn = phase.walkInOpenDay {
                guard walkIn >= phase.openDay else {
                    throw .invalid("policy.phases[\(index)].walkInOpenDay", "must not be before openDay (\(phase.openDay)), found \(walkIn)")
                }
            }
            walkInDay[band] = min(walkInDay[band], phase.walkInOpenDay ?? phase.openDay)
        }
        bandOpenDay = InlineArray { $0 < openDay.count ? openDay[$0] : .max }
        bandWalkInOpenDay = InlineArray { $0 < walkInDay.count ? walkInDay[$0] : .max }

        let categories = policy.categories
        guard (1...Self.categoryCountMax).contains(categories.count) else {
            throw .invalid("policy.categories", "needs 1 to \(Self.categoryCountMax) categories, found \(categories.count)")
        }
        categoryCount = categories.count
        var channels = [UInt8](), bands = [UInt64](), doses = [UInt8](), groups = [UInt64](), release = [Int]()
        var remainderCount = 0, shareSum = 0.0
        for (index, category) in categories.enumerated() {
            let path = "policy.categories[\(index)]"
            guard !category.name.isEmpty else { throw .invalid(path + ".name", "must not be empty") }
            guard categories.firstIndex(where: { $0.name == category.name }) == index else {
                throw .invalid(path + ".name", "must be unique, \"\(category.name)\" is used twice")
            }
            guard !category.channels.isEmpty else { throw .invalid(path + ".channels", "must name at least one channel") }
            channels.append(category.channels.reduce(0) { $0 | $1.bit })
            switch (category.count, category.share) {
            case (nil, nil): remainderCount += 1
            case let (count?, nil):
                guard (0...Self.capacityMax).contains(count) else {
                    throw .invalid(path + ".count", "must be between 0 and \(Self.capacityMax), found \(count)")
                }
            case let (nil, share?):
                guard share >= 0, share <= 1 else {
                    throw .invalid(path + ".share", "expected a number between 0 and 1, found \(share)")
                }
                shareSum += share
            case (_?, _?): throw .invalid(path, "give count or share, not both")
            }
            var bandBits: UInt64 = 0
            if let names = category.ageBands {
                for (n, name) in names.enumerated() {
                    guard let band = bandNames.firstIndex(of: name) else {
                        throw .invalid(path + ".ageBands[\(n)]", "must name an age band (\(bandNames.joined(separator: ", "))), found \"\(name)\"")
                    }
                    bandBits |= 1 << UInt64(band)
                }
            } else {
                bandBits = ~0
            }
            bands.append(bandBits)
            doses.append(category.doses.map { $0.reduce(0) { $0 | UInt8(1 << $1.offset) } } ?? 3)
            var groupBits: UInt64 = ~0
            if let list = category.priorityGroups {
                groupBits = 0
                for (n, group) in list.enumerated() {
                    guard (0..<Self.priorityGroupCountMax).contains(group) else {
                        throw .invalid(path + ".priorityGroups[\(n)]", "must be between 0 and 63, found \(group)")
                    }
                    groupBits |= 1 << UInt64(group)
                }
            }
            groups.append(groupBits)
            guard !category.priorityOrder.isEmpty else { throw .invalid(path + ".priorityOrder", "must name at least one key") }
            if let second = category.releaseToOnlineAtSecondOfDay {
                guard (0...Self.secondsPerDay).contains(second) else {
                    throw .invalid(path + ".releaseToOnlineAtSecondOfDay", "must be between 0 and 86400, found \(second)")
                }
                release.append(second)
            } else {
                release.append(.max)
            }
        }
        guard remainderCount == 1 else {
            throw .invalid("policy.categories", "exactly one category must take the remainder (no count or share), found \(remainderCount)")
        }
        guard shareSum <= 1 + 1e-9 else {
            throw .invalid("policy.categories", "shares add up to \(shareSum), more than 1")
        }
        channelMask = InlineArray { $0 < channels.count ? channels[$0] : 0 }
        bandMask = InlineArray { $0 < bands.count ? bands[$0] : 0 }
        doseMask = InlineArray { $0 < doses.count ? doses[$0] : 0 }
        groupMask = InlineArray { $0 < groups.count ? groups[$0] : 0 }
        releaseToOnlineSecond = InlineArray { $0 < release.count ? release[$0] : .max }

        guard policy.processingOrder.count == categories.count,
              Set(policy.processingOrder) == Set(categories.map(\.name)) else {
            throw .invalid("policy.processingOrder", "must list every category name once: \(categories.map(\.name).joined(separator: ", "))")
        }
        let ordered = policy.processingOrder.map { name in UInt8(categories.firstIndex { $0.name == name }!) }
        order = InlineArray { $0 < ordered.count ? ordered[$0] : 0 }

        for (key, value) in [("bookingCloseSecondOfDay", policy.bookingCloseSecondOfDay),
                             ("endOfDayFillSecondOfDay", policy.endOfDayFillSecondOfDay ?? 0)] {
            guard (0...Self.secondsPerDay).contains(value) else {
                throw .invalid("policy.\(key)", "must be between 0 and 86400, found \(value)")
            }
        }
        guard (1...86_400).contains(policy.holdTimeoutSeconds) else {
            throw .invalid("policy.holdTimeoutSeconds", "must be between 1 and 86400, found \(policy.holdTimeoutSeconds)")
        }
        guard !policy.batchPriorityOrder.isEmpty else {
            throw .invalid("policy.batchPriorityOrder", "must name at least one key")
        }
        fillSecond = policy.endOfDayFillSecondOfDay ?? .max
        closeSecond = policy.bookingCloseSecondOfDay
        holdTimeout = policy.holdTimeoutSeconds
    }

    /// Splits a session's capacity into categories: counts, then floor(share × capacity), then the remainder.
    func split(capacity: Int, override: [Int]?) throws(SlotAllocationError) -> [Int] {
        if let override {
            guard override.count == categoryCount else {
                throw .invalid("categoryCapacities", "needs one count per category (\(categoryCount)), found \(override.count)")
            }
            guard override.allSatisfy({ (0...Self.capacityMax).contains($0) }), override.reduce(0, +) == capacity else {
                throw .invalid("categoryCapacities", "must be non-negative and add up to capacity \(capacity), found \(override)")
            }
            return override
        }
        var counts = policy.categories.map { category -> Int in
            if let count = category.count { return count }
            // The floor of the binary product (0.29 × 100 is 28.999999999999996: 28 units). Not
            // "corrected" towards the decimal reading: stored journals were decided under this
            // split, and a different split could refuse to replay them.
            if let share = category.share { return Int((share * Double(capacity)).rounded(.down)) }
            return 0
        }
        let used = counts.reduce(0, +)
        guard used <= capacity else {
            throw .invalid("capacity", "fixed category counts need \(used) units but the session has \(capacity)")
        }
        let rest = policy.categories.firstIndex { $0.count == nil && $0.share == nil }!
        counts[rest] = capacity - used
        return counts
    }

    /// The category filled at step `k` of the processing order.
    @inline(__always)
    func category(atStep k: Int) -> Int { Int(order[k]) }

    @inline(__always)
    static func day(of time: Int) -> Int {
        time >= 0 ? time / secondsPerDay : -((-(time + 1)) / secondsPerDay) - 1
    }
}
