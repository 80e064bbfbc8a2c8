/// The bulk face of the allocator: allocates a whole batch of registrants to sessions
/// at once, under the same eligibility rules as ``BookingEngine``.
///
/// ```swift
/// let allocator = try BatchAllocator(policy: policy)
/// let result = try allocator.allocate(sessions: sessions, registrants: registrants,
///                                     mechanism: .deferredAcceptance(lotterySeed: 7), now: 0)
/// ```
///
/// Mechanisms: serial dictatorship by request time (first come, first served), by the
/// policy's priority order, or by lottery; and registrant-proposing deferred acceptance
/// (Gale and Shapley 1962) in which each session chooses through its categories in the
/// policy's processing order — the sequential reserve choice rule of Pathak, Sönmez,
/// Ünver and Yenmez ("Fair Allocation of Vaccines, Ventilators and Antiviral Treatments",
/// Management Science 2024). Every outcome is eligibility-compliant and non-wasteful;
/// deferred acceptance's also has no blocking pair (tests check all three).
///
/// Back of the envelope for 10 million registrants with 5 preferences and 100,000
/// sessions of 2 categories: 200 MB of preferences, 40 MB per rank array, 40 MB of
/// category heaps; each proposal costs O(categories × log capacity).
public struct BatchAllocator: Sendable {
    let policy: CompiledPolicy

    public static let registrantsMax = 200_000_000
    public static let preferencesPerRegistrantMax = 255

    public init(policy: AllocationPolicy) throws(SlotAllocationError) {
        self.policy = try CompiledPolicy(policy)
    }

    /// An allocator on a policy already compiled (the engine's own).
    init(compiled: CompiledPolicy) {
        policy = compiled
    }

    /// Allocates the batch at time `now` (which decides band openings and reserve releases).
    /// - Complexity: serial dictatorship O(n + total preferences × categories);
    ///   deferred acceptance O(proposals × categories × log capacity); ranking O(n) per key.
    public func allocate(sessions: BatchSessions, registrants: BatchRegistrants, mechanism: BatchMechanism,
                         now: Int) throws(SlotAllocationError) -> BatchResult {
        let capacity = try validate(sessions: sessions, registrants: registrants)
        let isDeferredAcceptance = if case .deferredAcceptance = mechanism { true } else { false }
        let prepared = Prepared(policy: policy, sessions: sessions, registrants: registrants, now: now, facts: isDeferredAcceptance)
        var result = BatchResult(registrants: registrants.count, capacity: capacity, categoryCount: policy.categoryCount)
        switch mechanism {
        case .firstComeFirstServed:
            serialDictatorship([.requestTime], prepared, registrants, &result, lotterySeed: 0)
        case .priority:
            serialDictatorship(policy.policy.batchPriorityOrder, prepared, registrants, &result, lotterySeed: 0)
        case .lottery(let seed):
            serialDictatorship([.lottery], prepared, registrants, &result, lotterySeed: seed)
        case .deferredAcceptance(let seed):
            deferredAcceptance(prepared, registrants, &result, lotterySeed: seed)
        }
        return result
    }

    /// Serial dictatorship: registrants in `order` each take the first preferred session
    /// with a unit in a category they are eligible for (categories in processing order).
    ///
    /// When the order is the registrants' own (first come, first served on a list kept in
    /// request order), their arrays are read as they are. Otherwise each registrant's facts
    /// and (up to five) preferences are packed into one 32-byte record, written straight to
    /// the registrant's place in the order: a stream of reads and half a cache line written
    /// per registrant, in a loop whose writes do not wait for each other. The decision loop
    /// then reads the records as a stream and writes each outcome, 8 bytes, at its position;
    /// a last pass walks the registrants in their own order and fetches their outcomes, so
    /// the result's three arrays are written as streams and each registrant costs one
    /// independent read miss (scattering to the three arrays cost three misses each).
    /// Following the order through the registrants' scattered arrays instead costs about
    /// three cache misses per registrant, one after another.
    func serialDictatorship(_ keys: [PriorityKey], _ prepared: Prepared, _ registrants: BatchRegistrants,
                            _ result: inout BatchResult, lotterySeed: UInt64) {
        let order = PriorityRanking.permutation(
            keys, PriorityRanking.Inputs(registrants: registrants, ages: prepared.ages, lotterySeed: lotterySeed))
        let n = registrants.count
        let identity = order.withUnsafeBufferPointer { order in (0..<n).allSatisfy { order[$0] == UInt32($0) } }
        guard !identity else {
            // In their own order the registrants' arrays are already streams: nothing to pack.
            let people = prepared.registrants.count == n ? prepared.registrants
                : (0..<n).map { Prepared.fact(policy, registrants, $0, today: prepared.today) }
            registrants.preferenceStart.withUnsafeBufferPointer { start in
            registrants.preferences.withUnsafeBufferPointer { preferences in
            people.withUnsafeBufferPointer { people in
            result.session.withUnsafeMutableBufferPointer { session in
            result.category.withUnsafeMutableBufferPointer { category in
            result.reasonCode.withUnsafeMutableBufferPointer { reasonCode in
                serialDictatorship(InOwnOrder(start: start, preferences: preferences, people: people), prepared, result.capacity,
                                   &result.cutoffRegistrant, &result.cutoffRank, original: { $0 }) { position, s, c, code in
                    session[position] = s
                    category[position] = c
                    reasonCode[position] = code
                }
            }
            }
            }
            }
            }
            }
            return
        }
        // Each registrant's place in the order, then the records written straight to their places.
        var place = [UInt32](repeating: 0, count: n)
        order.withUnsafeBufferPointer { order in
            place.withUnsafeMutableBufferPointer { place in
                for j in 0..<n { place[Int(order[j])] = UInt32(j) }
            }
        }
        let gathered = PackedRegistrants(prepared, registrants, at: place).records
        let outcomes = AlignedBuffer<Outcome>(count: n)
        registrants.preferences.withUnsafeBufferPointer { long in
        order.withUnsafeBufferPointer { order in
            serialDictatorship(Packed(records: gathered, long: long), prepared, result.capacity, &result.cutoffRegistrant, &result.cutoffRank,
                               original: { Int(order[$0]) }) { position, s, c, code in
                (outcomes.base + position).initialize(to: Outcome(session: s, category: c, code: code))
            }
        }
        }
        // Back to the registrants' own order; the cutoffs already name them.
        place.withUnsafeBufferPointer { place in
        result.session.withUnsafeMutableBufferPointer { session in
        result.category.withUnsafeMutableBufferPointer { category in
        result.reasonCode.withUnsafeMutableBufferPointer { reasonCode in
            for i in 0..<n {
                let outcome = outcomes.base[Int(place[i])]
                session[i] = outcome.session
                category[i] = outcome.category
                reasonCode[i] = outcome.code
            }
        }
        }
        }
        }
    }

    /// One registrant's outcome at its position in the order: session (or -1), category, reason code.
    struct Outcome: BitwiseCopyable {
        var session: Int32
        var category: UInt8
        var code: UInt8
    }

    /// The decision loop over `source`'s registrants in priority order: `original(j)` is the
    /// registrant's own index (for the cutoffs, indexed like `capacity`), and
    /// `record(j, session or -1, category, code)` takes each position's outcome.
    @inline(__always)
    private func serialDictatorship<Source: RegistrantsInOrder>(_ source: Source, _ prepared: Prepared, _ capacity: [Int32],
                                                               _ cutoffRegistrant: inout [Int32], _ cutoffRank: inout [Int32],
                                                               original: (Int) -> Int,
                                                               record: (Int, Int32, UInt8, UInt8) -> Void) {
        var remaining = capacity
        let k = policy.categoryCount
        prepared.sessions.withUnsafeBufferPointer { sessions in
        remaining.withUnsafeMutableBufferPointer { remaining in
        cutoffRegistrant.withUnsafeMutableBufferPointer { cutoffRegistrant in
        cutoffRank.withUnsafeMutableBufferPointer { cutoffRank in
            for position in 0..<source.count {
                let count = source.preferenceCount(position)
                let person = source.person(position)
                var code: UInt8 = count == 0 ? 1 : 2
                var assigned: Int32 = -1, category: UInt8 = 0
                preferences: for p in 0..<count {
                    let s = Int(source.preference(position, p))
                    let eligible = prepared.eligibleCategories(person, sessions[s])
                    guard eligible != 0 else { continue }
                    code = 3
                    for step in 0..<k {
                        let c = policy.category(atStep: step)
                        guard eligible & (1 << c) != 0, remaining[s * k + c] > 0 else { continue }
                        remaining[s * k + c] -= 1
                        assigned = Int32(s)
                        category = UInt8(c)
                        cutoffRegistrant[s * k + c] = Int32(original(position))
                        cutoffRank[s * k + c] = Int32(position)
                        code = 0
                        break preferences
                    }
                }
                record(position, assigned, category, code)
            }
        }
        }
        }
        }
    }

    /// Why registrant `i` was left unassigned in `result`, or nil if they were assigned.
    public func unassignedReason(of i: Int, sessions: BatchSessions, registrants: BatchRegistrants,
                                 result: BatchResult, now: Int) -> UnassignedReason? {
        switch result.reasonCode[i] {
        case 0: return nil
        case 1: return .noPreferences
        case 3: return .outrankedAtEveryEligiblePreference
        default:
            let s = Int(registrants.preferences(of: i).first!)
            let person = Prepared.applicant(policy, registrants, i)
            let facts = SessionFacts(day: Int(sessions.day[s]), vaccine: Int(sessions.vaccine[s]),
                                     minAge: Int(sessions.minAge[s]), maxAge: Int(sessions.maxAge[s]))
            let closesAt = facts.day * CompiledPolicy.secondsPerDay + policy.closeSecond
            if now >= closesAt { return .ineligibleAtEveryPreference(firstRefusal: .bookingClosed(closedAt: closesAt)) }
            // The session admits them but no category is open to them now: category full, for them.
            return .ineligibleAtEveryPreference(
                firstRefusal: policy.sessionRefusal(person, facts, today: CompiledPolicy.day(of: now)) ?? .categoryFull)
        }
    }

    /// Checks the instance and returns the capacity of every (session, category).
    func validate(sessions: BatchSessions, registrants: BatchRegistrants) throws(SlotAllocationError) -> [Int32] {
        guard registrants.count <= Self.registrantsMax else { throw .limitExceeded("registrants", limit: Self.registrantsMax) }
        guard sessions.count < Int(Int32.max), registrants.preferences.count < Int(Int32.max) else {
            throw .limitExceeded("sessions or preferences", limit: Int(Int32.max))
        }
        var capacity: [Int32] = []
        capacity.reserveCapacity(sessions.count * policy.categoryCount)
        for s in 0..<sessions.count {
            // Paths are built only for an error: this loop runs for every session and registrant.
            func path(_ key: String) -> String { "sessions[\(s)]" + key }
            guard (0...36_500).contains(sessions.day[s]) else { throw .invalid(path(".day"), "must be between 0 and 36500, found \(sessions.day[s])") }
            guard Int(sessions.vaccine[s]) < policy.policy.vaccines.count else {
                throw .invalid(path(".vaccine"), "must index the policy's vaccines (0..<\(policy.policy.vaccines.count))")
            }
            guard Int(sessions.minAge[s]) <= Int(sessions.maxAge[s]), Int(sessions.maxAge[s]) <= ageMax else {
                throw .invalid(path(".minAge"), "needs 0 <= minAge <= maxAge <= \(ageMax)")
            }
            guard (0...Int32(CompiledPolicy.capacityMax)).contains(sessions.capacity[s]) else {
                throw .invalid(path(".capacity"), "must be between 0 and \(CompiledPolicy.capacityMax), found \(sessions.capacity[s])")
            }
            let counts: [Int]
            do {
                counts = try policy.split(capacity: Int(sessions.capacity[s]), override: sessions.categoryOverrides[s])
            } catch let .invalid(key, expected) {
                throw .invalid(path("." + key), expected)
            } catch {
                throw error
            }
            capacity.append(contentsOf: counts.map { Int32($0) })
        }
        // lastListedBy[s] = 1 + the last registrant who listed session s: finds duplicates without a set per registrant.
        var lastListedBy = [UInt32](repeating: 0, count: sessions.count)
        let vaccineCount = policy.policy.vaccines.count
        for i in 0..<registrants.count {
            func path(_ key: String) -> String { "registrants[\(i)]" + key }
            let age = policy.ageReferenceYear - Int(registrants.birthYear[i])
            guard (0...ageMax).contains(age) else { throw .invalid(path(".birthYear"), "gives age \(age), outside 0...\(ageMax)") }
            guard registrants.priorityGroup[i] < CompiledPolicy.priorityGroupCountMax else {
                throw .invalid(path(".priorityGroup"), "must be between 0 and 63")
            }
            // (Two plain checks: a literal array here would be allocated for every registrant.)
            let requested = registrants.requestTime[i], registered = registrants.registrationTime[i]
            let times = -CompiledPolicy.timeLimit...CompiledPolicy.timeLimit
            guard times.contains(requested) else {
                throw .invalid(path(".requestTime"), "must be within ±2^40 seconds of the epoch, found \(requested)")
            }
            guard times.contains(registered) else {
                throw .invalid(path(".registrationTime"), "must be within ±2^40 seconds of the epoch, found \(registered)")
            }
            if registrants.dose1Day[i] != Int32.min {
                guard abs(Int(registrants.dose1Day[i])) <= 36_500 else { throw .invalid(path(".dose1.day"), "is out of range") }
                guard Int(registrants.dose1Vaccine[i]) < vaccineCount else {
                    throw .invalid(path(".dose1.vaccine"), "must index the policy's vaccines")
                }
            }
            let first = Int(registrants.preferenceStart[i]), end = Int(registrants.preferenceStart[i + 1])
            guard end - first <= Self.preferencesPerRegistrantMax else {
                throw .invalid(path(".preferences"), "at most \(Self.preferencesPerRegistrantMax), found \(end - first)")
            }
            let mark = UInt32(i + 1)
            for position in first..<end {
                let session = Int(registrants.preferences[position])
                guard session < sessions.count else {
                    throw .invalid(path(".preferences[\(position - first)]"), "must be a session index 0..<\(sessions.count)")
                }
                guard lastListedBy[session] != mark else { throw .invalid(path(".preferences"), "must not list a session twice") }
                lastListedBy[session] = mark
            }
        }
        return capacity
    }
}

/// Per-registrant and per-session facts computed once and packed one record each, so the
/// inner loops read one cache line per registrant and per session.
struct Prepared: Sendable {
    struct Registrant: Sendable, BitwiseCopyable {
        var dose1Day: Int32
        /// Categories whose band, dose and group fit.
        var fits: UInt16
        var age: UInt8
        var dose1Vaccine: UInt8
        var dose2: Bool
        /// In a band that is open, with the dose history the dose needs (false: no session takes them).
        var admissible: Bool
    }

    struct Session: Sendable, BitwiseCopyable {
        var day: Int32
        /// Categories open to online at `now` on the session's day.
        var online: UInt16
        var minAge: UInt8
        var maxAge: UInt8
        var vaccine: UInt8
        /// After the end-of-day fill every category is open to everyone the session admits.
        var filled: Bool
        /// Booking for the session's day has closed (or the day is past).
        var closed: Bool
    }

    let policy: CompiledPolicy
    /// Each registrant's facts; empty when built with `facts: false`.
    let registrants: [Registrant]
    let sessions: [Session]
    let allCategories: UInt16
    let today: Int
    /// Age of each registrant, for the `ageDescending` priority key.
    let ages: [UInt8]

    /// With `facts` false, `registrants` stays empty and the caller computes each one's facts
    /// with ``fact(_:_:_:today:)`` when it reads them (serial dictatorship in priority order
    /// packs them straight into its records: writing and re-reading 12 bytes per registrant
    /// cost ~0.2 s at 10M).
    init(policy: CompiledPolicy, sessions: BatchSessions, registrants: BatchRegistrants, now: Int, facts withFacts: Bool = true) {
        self.policy = policy
        let today = CompiledPolicy.day(of: now)
        self.today = today
        if withFacts {
            var facts: [Registrant] = []
            facts.reserveCapacity(registrants.count)
            for i in 0..<registrants.count { facts.append(Self.fact(policy, registrants, i, today: today)) }
            self.registrants = facts
            ages = facts.map(\.age)
        } else {
            self.registrants = []
            let reference = policy.ageReferenceYear
            ages = registrants.birthYear.map { UInt8(truncatingIfNeeded: reference - Int($0)) }  // validated: 0...ageMax
        }
        var packed: [Session] = []
        packed.reserveCapacity(sessions.count)
        for s in 0..<sessions.count {
            let second = now - Int(sessions.day[s]) * CompiledPolicy.secondsPerDay
            var online: UInt16 = 0
            for c in 0..<policy.categoryCount
            where policy.channelMask[c] & Channel.online.bit != 0 || second >= policy.releaseToOnlineSecond[c] {
                online |= 1 << c
            }
            packed.append(Session(day: sessions.day[s], online: online, minAge: sessions.minAge[s], maxAge: sessions.maxAge[s],
                                  vaccine: sessions.vaccine[s], filled: second >= policy.fillSecond,
                                  closed: second >= policy.closeSecond))
        }
        self.sessions = packed
        allCategories = UInt16((1 << policy.categoryCount) - 1)
    }

    /// Registrant `i`'s facts on day `today`.
    @inline(__always)
    static func fact(_ policy: CompiledPolicy, _ registrants: BatchRegistrants, _ i: Int, today: Int) -> Registrant {
        let person = applicant(policy, registrants, i)
        var mask: UInt16 = 0
        let historyOK = person.dose == .one ? person.dose1Day == nil : person.dose1Day != nil
        let admissible = person.band >= 0 && policy.bandOpenDay[person.band] <= today && historyOK
        if admissible {
            for c in 0..<policy.categoryCount where policy.personFits(c, person) { mask |= 1 << c }
        }
        return Registrant(dose1Day: registrants.dose1Day[i], fits: mask, age: UInt8(person.age),
                          dose1Vaccine: registrants.dose1Vaccine[i], dose2: person.dose == .two, admissible: admissible)
    }

    static func applicant(_ policy: CompiledPolicy, _ registrants: BatchRegistrants, _ i: Int) -> Applicant {
        let dose1 = registrants.dose1Day[i] == Int32.min ? nil
            : DoseRecord(day: Int(registrants.dose1Day[i]), vaccine: Int(registrants.dose1Vaccine[i]))
        return policy.applicant(birthYear: Int(registrants.birthYear[i]), group: Int(registrants.priorityGroup[i]),
                                dose: registrants.dose[i], dose1: dose1, dose2Given: false)
    }

    @inline(__always)
    func eligibleCategories(_ i: Int, _ s: Int) -> UInt16 {
        eligibleCategories(registrants[i], sessions[s])
    }

    /// The categories of `session` that `person` may take (0 if the session refuses them):
    /// the engine's rules for an online request at `now` (booking closed, age limits, band
    /// opening, dose history and interval, then each category's rule) as table lookups.
    @inline(__always)
    func eligibleCategories(_ person: Registrant, _ session: Session) -> UInt16 {
        guard person.admissible, !session.closed, person.age >= session.minAge, person.age <= session.maxAge else { return 0 }
        if person.dose2 {
            guard session.vaccine == person.dose1Vaccine else { return 0 }
            let since = Int(session.day) - Int(person.dose1Day)
            let vaccine = Int(session.vaccine)
            guard since >= Int(policy.dose2DaysMin[vaccine]), since <= Int(policy.dose2DaysMax[vaccine]) else { return 0 }
        }
        return session.filled ? allCategories : person.fits & session.online
    }
}
