/// The sessions of one shard (a set of districts) and their capacity counters.
///
/// Back of the envelope: India used about 1 lakh centres a day; a 30-day horizon is
/// 3 million sessions. Per session a 16-byte record plus its slot windows; per
/// (session, category) a 28-byte record of counters. With 3 categories that is
/// ≈ 120 bytes a session, ≈ 360 MB for the whole country's month. One request
/// reads one session record and its categories' counters: two cache lines.
///
/// Records are grouped by access (everything a request reads together sits in one
/// record) and indexed by dense integers: session `s` at `sessions[s]`, category `c`
/// of session `s` at `counters[s * categoryCount + c]`. A unit is used when booked,
/// held, taken by a walk-in, or freed by a no-show for walk-ins only; it is never
/// used twice: `booked + held + walkIns + noShowFreed <= capacity` (`+Invariants`).
struct SessionInventory: ~Copyable, Sendable {
    struct Record: Sendable, BitwiseCopyable {
        var day: Int32
        var center: UInt32
        /// First slot window in `slotStart`/`slotEnd`.
        var slotOffset: Int32
        var slotCount: UInt8
        var vaccine: UInt8
        var minAge: UInt8
        var maxAge: UInt8

        var facts: SessionFacts {
            SessionFacts(day: Int(day), vaccine: Int(vaccine), minAge: Int(minAge), maxAge: Int(maxAge))
        }
    }

    struct Counters: Sendable, BitwiseCopyable {
        var capacity: Int32
        var booked: Int32 = 0
        var held: Int32 = 0
        var walkIns: Int32 = 0
        var noShowFreed: Int32 = 0
        var noShows: Int32 = 0
        var vaccinated: Int32 = 0

        /// Units that anybody the category admits may take.
        var free: Int32 { capacity - booked - held - walkIns - noShowFreed }

        var isConsistent: Bool {
            booked >= 0 && held >= 0 && walkIns >= 0 && noShowFreed >= 0 && noShows >= 0 && vaccinated >= 0
                && booked + held + walkIns + noShowFreed <= capacity && vaccinated <= booked + walkIns
        }
    }

    /// The unit a walk-in took: its category, and whether a no-show had freed it.
    struct WalkInUnit: Sendable {
        var category: Int
        var fromNoShow: Bool
    }

    struct HoldRecord: Sendable {
        var session: Int32
        var category: UInt8
        var expiresAt: Int
    }

    let categoryCount: Int
    var sessions = AlignedArray<Record>()
    var slotStart = AlignedArray<Int32>()
    var slotEnd = AlignedArray<Int32>()
    var counters = AlignedArray<Counters>()
    /// Live holds: appointment id → where the unit is held and until when.
    var holds: [UInt64: HoldRecord] = [:]
    /// Hold expiries, earliest first; entries of confirmed or cancelled holds are skipped when popped.
    var expiries = ExpiryHeap()

    init(categoryCount: Int) {
        self.categoryCount = categoryCount
    }

    var count: Int { sessions.count }

    func slots(_ s: Int) -> Range<Int> {
        let start = Int(sessions[s].slotOffset)
        return start..<(start + Int(sessions[s].slotCount))
    }

    mutating func append(_ spec: SessionSpec, counts: [Int]) {
        sessions.append(Record(day: Int32(spec.day), center: spec.center.rawValue, slotOffset: Int32(slotStart.count),
                               slotCount: UInt8(spec.slots.count), vaccine: UInt8(spec.vaccine), minAge: UInt8(spec.minAge),
                               maxAge: UInt8(spec.maxAge ?? ageMax)))
        for window in spec.slots {
            slotStart.append(Int32(window.startSecondOfDay))
            slotEnd.append(Int32(window.endSecondOfDay))
        }
        for units in counts { counters.append(Counters(capacity: Int32(units))) }
    }

    /// Takes one unit of session `s` for an online request (booking or hold), trying the
    /// categories in the policy's processing order. Returns the category, or why not.
    /// Holds of this shard that lapsed by `now` are released first, so they never block anybody.
    mutating func takeOnline(_ s: Int, _ person: Applicant, now: Int, policy: CompiledPolicy,
                             hold: (id: UInt64, expiresAt: Int)?) -> Result<Int, BookingRefusal> {
        _ = releaseExpiredHolds(now: now)
        let base = s * categoryCount
        let sessionDay = Int(sessions[s].day)
        for step in 0..<categoryCount {
            let c = policy.category(atStep: step)
            guard counters[base + c].free > 0,
                  policy.categoryAdmits(c, person, channel: .online, sessionDay: sessionDay, now: now) else { continue }
            if let hold {
                counters[base + c].held += 1
                holds[hold.id] = HoldRecord(session: Int32(s), category: UInt8(c), expiresAt: hold.expiresAt)
                expiries.push(hold.expiresAt, hold.id)
            } else {
                counters[base + c].booked += 1
            }
            assert(counters[base + c].isConsistent)
            return .success(c)
        }
        return .failure(fullRefusal(s, walkIn: false))
    }

    /// Takes one unit of session `s` for a walk-in: in processing order, a unit freed by a
    /// no-show (if the policy gives those to walk-ins) or a free unit of a category open to walk-ins.
    mutating func takeWalkIn(_ s: Int, _ person: Applicant, now: Int, policy: CompiledPolicy) -> Result<WalkInUnit, BookingRefusal> {
        _ = releaseExpiredHolds(now: now)
        let base = s * categoryCount
        let sessionDay = Int(sessions[s].day)
        for step in 0..<categoryCount {
            let c = policy.category(atStep: step)
            let i = base + c
            if counters[i].noShowFreed > 0, policy.noShowUnitAdmits(c, person, sessionDay: sessionDay, now: now) {
                counters[i].noShowFreed -= 1
                counters[i].walkIns += 1
                return .success(WalkInUnit(category: c, fromNoShow: true))
            }
            if counters[i].free > 0, policy.categoryAdmits(c, person, channel: .walkIn, sessionDay: sessionDay, now: now) {
                counters[i].walkIns += 1
                assert(counters[i].isConsistent)
                return .success(WalkInUnit(category: c, fromNoShow: false))
            }
        }
        return .failure(fullRefusal(s, walkIn: true))
    }

    /// Books one unit of category `c` of session `s` (a batch decided which), if still free.
    mutating func takeOnline(_ s: Int, category c: Int, now: Int) -> Result<Int, BookingRefusal> {
        _ = releaseExpiredHolds(now: now)
        let i = s * categoryCount + c
        guard counters[i].free > 0 else { return .failure(fullRefusal(s, walkIn: false)) }
        counters[i].booked += 1
        assert(counters[i].isConsistent)
        return .success(c)
    }

    /// `sessionFull` when no unit at all is left for this channel, else `categoryFull`.
    func fullRefusal(_ s: Int, walkIn: Bool) -> BookingRefusal {
        let base = s * categoryCount
        for i in base..<(base + categoryCount) where counters[i].free > 0 || (walkIn && counters[i].noShowFreed > 0) {
            return .categoryFull
        }
        return .sessionFull
    }

    /// Releases the hold `id` if it is still live. Returns whether it was.
    @discardableResult
    mutating func releaseHold(_ id: UInt64) -> Bool {
        guard let record = holds.removeValue(forKey: id) else { return false }
        let i = Int(record.session) * categoryCount + Int(record.category)
        counters[i].held -= 1
        assert(counters[i].isConsistent)
        return true
    }

    /// Turns a live hold into a booking. Returns false if the hold lapsed or was released.
    mutating func confirmHold(_ id: UInt64, now: Int) -> Bool {
        guard let record = holds[id] else { return false }
        guard record.expiresAt > now else {
            releaseHold(id)
            return false
        }
        holds[id] = nil
        let i = Int(record.session) * categoryCount + Int(record.category)
        counters[i].held -= 1
        counters[i].booked += 1
        assert(counters[i].isConsistent)
        return true
    }

    /// Releases every hold that expired at or before `now`. Returns how many.
    mutating func releaseExpiredHolds(now: Int) -> Int {
        var released = 0
        while let (expiresAt, id) = expiries.peek(), expiresAt <= now {
            expiries.pop()
            if let record = holds[id], record.expiresAt == expiresAt, releaseHold(id) { released += 1 }
        }
        return released
    }
}
