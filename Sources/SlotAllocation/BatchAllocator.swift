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
/// sessions of 2 categories: the caller's arrays hold about 480 MB. Deferred acceptance
/// adds 24 bytes per registrant of state (ranks, progress, facts), 26 bytes per
/// first-round proposal, 80 MB of category heaps and 32 MB of member records for the
/// reserve's heaps (16 bytes per unit of every category but the last), and each proposal costs
/// O(categories² + categories × log capacity); serial dictatorship in priority order adds 44 bytes per
/// registrant (packed record, position, outcome). Arrays this large are made so that
/// Linux may back them with 2 MB pages (``LargeArrays``).
public struct BatchAllocator: Sendable {
    let policy: CompiledPolicy
    /// Bytes of category heaps and their member records per group of sessions in deferred
    /// acceptance (about L2's share); tests make it tiny to run the partition over many groups.
    var heapBytesPerGroup = 256 * 1024

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
    ///   deferred acceptance O(proposals × (categories² + categories × log capacity)), or serial
    ///   dictatorship's with one order for all categories; ranking O(n) per key.
    ///
    /// When every category ranks by the same priority order, deferred acceptance ends where
    /// serial dictatorship in that order does, and is computed that way. The sequential
    /// reserve choice admits an applicant or not by who ranks above them alone, and ignores
    /// applicants it rejects; so whoever ranks first keeps their first session that takes
    /// them, the next keeps theirs given the first, and so on: the serial dictatorship's
    /// assignment, which is then the unique stable matching (the common-priority case of
    /// Gale and Shapley; tests compare the two on random instances).
    public func allocate(sessions: BatchSessions, registrants: BatchRegistrants, mechanism: BatchMechanism,
                         now: Int) throws(SlotAllocationError) -> BatchResult {
        try allocate(sessions: sessions, registrants: registrants, mechanism: mechanism, now: now, commonPriorityShortcut: true)
    }

    /// ``allocate(sessions:registrants:mechanism:now:)``; tests turn the shortcut off to compare.
    func allocate(sessions: BatchSessions, registrants: BatchRegistrants, mechanism: BatchMechanism, now: Int,
                  commonPriorityShortcut: Bool) throws(SlotAllocationError) -> BatchResult {
        guard (-CompiledPolicy.timeLimit...CompiledPolicy.timeLimit).contains(now) else {
            throw .invalid("now", "must be within ±\(CompiledPolicy.timeLimit) seconds of the epoch, found \(now)")
        }
        let capacity = try validate(sessions: sessions, registrants: registrants)
        let orders = distinctOrders()
        let runsProposals = if case .deferredAcceptance = mechanism { !commonPriorityShortcut || orders.orders.count > 1 } else { false }
        let prepared = Prepared(policy: policy, sessions: sessions, registrants: registrants, now: now)
        var result = BatchResult(registrants: registrants.count, capacity: capacity, categoryCount: policy.categoryCount)
        switch mechanism {
        case .firstComeFirstServed:
            serialDictatorship([.requestTime], prepared, registrants, &result, lotterySeed: 0)
        case .priority:
            serialDictatorship(policy.policy.batchPriorityOrder, prepared, registrants, &result, lotterySeed: 0)
        case .lottery(let seed):
            serialDictatorship([.lottery], prepared, registrants, &result, lotterySeed: seed)
        case .deferredAcceptance(let seed) where runsProposals:
            deferredAcceptance(prepared, registrants, &result, orders: orders, lotterySeed: seed)
        case .deferredAcceptance(let seed):
            serialDictatorship(orders.orders[0], prepared, registrants, &result, lotterySeed: seed)
        }
        return result
    }

    /// Serial dictatorship: registrants in `order` each take the first preferred session
    /// with a unit in a category they are eligible for (categories in processing order).
    ///
    /// Each registrant's position in the order comes from ``PriorityRanking/ranks(_:_:)``
    /// (a counting pass when the order allows; the order itself is built only when it does
    /// not, and then only to be inverted). When the order is the registrants' own (first
    /// come, first served on a list kept in request order), their arrays are read as they
    /// are. Otherwise each registrant's facts and (up to five) preferences are packed into
    /// one 32-byte record, written straight to the registrant's position: a stream of reads
    /// and half a cache line written per registrant, in a loop whose writes do not wait for
    /// each other. The decision loop then
    /// reads the records as a stream and writes each outcome, 8 bytes, at its position; a
    /// last pass walks the registrants in their own order and fetches their outcomes, so the
    /// result's three arrays are written as streams and each registrant costs one
    /// independent read miss (scattering to the three arrays cost three misses each). That
    /// pass also names each cutoff's registrant: the decision loop knows only positions.
    /// Following the order through the registrants' scattered arrays instead costs about
    /// three cache misses per registrant, one after another.
    func serialDictatorship(_ keys: [PriorityKey], _ prepared: Prepared, _ registrants: BatchRegistrants,
                            _ result: inout BatchResult, lotterySeed: UInt64) {
        let place = PriorityRanking.ranks(
            keys, PriorityRanking.Inputs(registrants: registrants, ages: prepared.ages, lotterySeed: lotterySeed))
        let n = registrants.count, k = policy.categoryCount
        let identity = place.withUnsafeBufferPointer { place in (0..<n).allSatisfy { place[$0] == UInt32($0) } }
        guard !identity else {
            // In their own order the registrants' arrays are already streams: nothing to pack.
            var fact = Prepared.Facts(policy: policy, today: prepared.today)
            var people = LargeArrays.uninitialized(Prepared.Registrant.self, n)
            people.withUnsafeMutableBufferPointer { people in for i in 0..<n { people[i] = fact(registrants, i) } }
            registrants.preferenceStart.withUnsafeBufferPointer { start in
            registrants.preferences.withUnsafeBufferPointer { preferences in
            people.withUnsafeBufferPointer { people in
            result.session.withUnsafeMutableBufferPointer { session in
            result.category.withUnsafeMutableBufferPointer { category in
            result.reasonCode.withUnsafeMutableBufferPointer { reasonCode in
                serialDictatorship(InOwnOrder(start: start, preferences: preferences, people: people), prepared, result.capacity,
                                   &result.cutoffRank) { position, s, c, code in
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
            result.cutoffRegistrant = result.cutoffRank  // positions are registrants
            return
        }
        let gathered = PackedRegistrants(prepared, registrants, at: place).records
        let outcomes = AlignedBuffer<Outcome>(count: n)
        registrants.preferences.withUnsafeBufferPointer { long in
            serialDictatorship(Packed(records: gathered, long: long), prepared, result.capacity, &result.cutoffRank) { position, s, c, code in
                (outcomes.base + position).initialize(to: Outcome(session: s, category: c, code: code))
            }
        }
        // Back to the registrants' own order; whoever sits at a cutoff's position is its registrant.
        place.withUnsafeBufferPointer { place in
        result.session.withUnsafeMutableBufferPointer { session in
        result.category.withUnsafeMutableBufferPointer { category in
        result.reasonCode.withUnsafeMutableBufferPointer { reasonCode in
        result.cutoffRank.withUnsafeBufferPointer { cutoffRank in
        result.cutoffRegistrant.withUnsafeMutableBufferPointer { cutoffRegistrant in
            for i in 0..<n {
                let outcome = outcomes.base[Int(place[i])]
                session[i] = outcome.session
                category[i] = outcome.category
                reasonCode[i] = outcome.code
                if outcome.session >= 0 {
                    let slot = Int(outcome.session) * k + Int(outcome.category)
                    if cutoffRank[slot] == Int32(place[i]) { cutoffRegistrant[slot] = Int32(i) }
                }
            }
        }
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

    /// The decision loop over `source`'s registrants in priority order: `cutoffRank` (indexed
    /// like `capacity`) gets the position of each category's last admission, and
    /// `record(j, session or -1, category, code)` takes each position's outcome.
    @inline(__always)
    private func serialDictatorship<Source: RegistrantsInOrder>(_ source: Source, _ prepared: Prepared, _ capacity: [Int32],
                                                               _ cutoffRank: inout [Int32],
                                                               record: (Int, Int32, UInt8, UInt8) -> Void) {
        var remaining = capacity
        let k = policy.categoryCount
        prepared.sessions.withUnsafeBufferPointer { sessions in
        remaining.withUnsafeMutableBufferPointer { remaining in
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

    /// Why registrant `i` was left unassigned in `result`, or nil if they were assigned.
    /// `sessions`, `registrants` and `now` must be those `result` was allocated from; arguments
    /// that cannot be are a typed error.
    public func unassignedReason(of i: Int, sessions: BatchSessions, registrants: BatchRegistrants,
                                 result: BatchResult, now: Int) throws(SlotAllocationError) -> UnassignedReason? {
        guard result.reasonCode.count == registrants.count, result.categoryCount == policy.categoryCount,
              result.capacity.count == sessions.count * policy.categoryCount else {
            throw .invalid("result", "is not the result of allocating these sessions and registrants under this policy")
        }
        guard result.reasonCode.indices.contains(i) else {
            throw .invalid("registrant", "must be between 0 and \(registrants.count - 1), found \(i)")
        }
        switch result.reasonCode[i] {
        case 0: return nil
        case 1: return .noPreferences
        case 3: return .outrankedAtEveryEligiblePreference
        default:
            let vaccines = policy.policy.vaccines.count
            guard let first = registrants.preferences(of: i).first, Int(first) < sessions.count,
                  Int(sessions.vaccine[Int(first)]) < vaccines,
                  registrants.dose1Day[i] == Int32.min || Int(registrants.dose1Vaccine[i]) < vaccines else {
                throw .invalid("registrants[\(i)]", "does not match the result (validate with allocate first)")
            }
            let s = Int(first)
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
            guard sessions.district[s] != .min else { throw .invalid(path(".district"), "must fit in 32 bits (±2147483647)") }
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
        if !registrantsPass(registrants, sessionCount: sessions.count) {
            try nameTheFirstBadRegistrant(registrants, sessionCount: sessions.count)
        }
        return capacity
    }

    /// Whether every registrant passes the checks of ``nameTheFirstBadRegistrant(_:sessionCount:)``:
    /// the same checks as one pass over flat buffers that only detects a failure (the loop
    /// that names the failure builds paths and cost ~0.2 s at 10M).
    private func registrantsPass(_ registrants: BatchRegistrants, sessionCount: Int) -> Bool {
        // lastListedBy[s] = 1 + the last registrant who listed session s: finds duplicates without a set per registrant.
        var lastListedBy = [UInt32](repeating: 0, count: sessionCount)
        let vaccineCount = policy.policy.vaccines.count, reference = policy.ageReferenceYear, limit = CompiledPolicy.timeLimit
        var failed = false
        registrants.birthYear.withUnsafeBufferPointer { birthYear in
        registrants.priorityGroup.withUnsafeBufferPointer { group in
        registrants.requestTime.withUnsafeBufferPointer { requestTime in
        registrants.registrationTime.withUnsafeBufferPointer { registrationTime in
        registrants.dose1Day.withUnsafeBufferPointer { dose1Day in
        registrants.dose1Vaccine.withUnsafeBufferPointer { dose1Vaccine in
        registrants.preferenceStart.withUnsafeBufferPointer { start in
        registrants.preferences.withUnsafeBufferPointer { preferences in
        lastListedBy.withUnsafeMutableBufferPointer { lastListedBy in
            for i in 0..<birthYear.count {
                let age = reference - Int(birthYear[i])
                var bad = age < 0 || age > ageMax || group[i] >= CompiledPolicy.priorityGroupCountMax
                bad = bad || requestTime[i] < -limit || requestTime[i] > limit || registrationTime[i] < -limit || registrationTime[i] > limit
                bad = bad || (dose1Day[i] != Int32.min && (abs(Int(dose1Day[i])) > 36_500 || Int(dose1Vaccine[i]) >= vaccineCount))
                let first = Int(start[i]), end = Int(start[i + 1])
                bad = bad || end - first > Self.preferencesPerRegistrantMax
                if end - first <= 8 {
                    // Short lists (the usual): compare pairs in registers, no table to load.
                    for position in first..<end {
                        let session = preferences[position]
                        bad = bad || Int(session) >= sessionCount
                        for earlier in first..<position { bad = bad || preferences[earlier] == session }
                    }
                } else {
                    let mark = UInt32(i + 1)
                    for position in first..<end {
                        let session = Int(preferences[position])
                        guard session < sessionCount, lastListedBy[session] != mark else {
                            bad = true
                            break
                        }
                        lastListedBy[session] = mark
                    }
                }
                failed = failed || bad
            }
        }
        }
        }
        }
        }
        }
        }
        }
        }
        return !failed
    }

    /// Throws the error of the first registrant that fails a check.
    private func nameTheFirstBadRegistrant(_ registrants: BatchRegistrants, sessionCount: Int) throws(SlotAllocationError) {
        var lastListedBy = [UInt32](repeating: 0, count: sessionCount)
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
                guard session < sessionCount else {
                    throw .invalid(path(".preferences[\(position - first)]"), "must be a session index 0..<\(sessionCount)")
                }
                guard lastListedBy[session] != mark else { throw .invalid(path(".preferences"), "must not list a session twice") }
                lastListedBy[session] = mark
            }
        }
        // Only reached if the two passes disagree: refuse rather than allocate unchecked input.
        throw .invalid("registrants", "failed a check that could not be located")
    }
}

/// Per-session facts computed once and packed one record each, the registrants' ages, and
/// the record type of a registrant's facts (``Facts`` computes them), so the inner loops read
/// one cache line per registrant and per session.
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
    let sessions: [Session]
    let allCategories: UInt16
    let today: Int
    /// Age of each registrant, for the `ageDescending` priority key.
    let ages: [UInt8]

    /// Each mechanism computes its registrants' facts with ``Facts`` where it reads them
    /// (serial dictatorship packs them into its records, deferred acceptance beside each
    /// registrant's ranks): an array of them written and re-read cost ~0.2 s at 10M.
    init(policy: CompiledPolicy, sessions: BatchSessions, registrants: BatchRegistrants, now: Int) {
        self.policy = policy
        let today = CompiledPolicy.day(of: now)
        self.today = today
        let reference = policy.ageReferenceYear
        var ages = LargeArrays.uninitialized(UInt8.self, registrants.count)
        ages.withUnsafeMutableBufferPointer { ages in
            for i in 0..<ages.count { ages[i] = UInt8(truncatingIfNeeded: reference - Int(registrants.birthYear[i])) }  // validated: 0...ageMax
        }
        self.ages = ages
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

    /// Registrants' facts on one day. What a registrant may take depends only on their age,
    /// priority group, dose and whether dose 1 was given, so each such combination is worked
    /// out once, when first met, and every registrant costs a table lookup (working it out
    /// for each of 10M registrants cost ~0.25 s).
    struct Facts {
        let policy: CompiledPolicy
        let today: Int
        /// Per combination: `fits | admissible << 16`, or `unknown`.
        private var table: [UInt32]
        private static let unknown = UInt32.max
        private static let doseCount = Dose.allCases.count

        init(policy: CompiledPolicy, today: Int) {
            self.policy = policy
            self.today = today
            table = [UInt32](repeating: Self.unknown, count: (ageMax + 1) * CompiledPolicy.priorityGroupCountMax * Self.doseCount * 2)
        }

        /// Registrant `i`'s facts (the registrants are validated: age in 0...ageMax, group below 64).
        @inline(__always)
        mutating func callAsFunction(_ registrants: BatchRegistrants, _ i: Int) -> Registrant {
            let age = policy.ageReferenceYear - Int(registrants.birthYear[i])
            let group = Int(registrants.priorityGroup[i]), dose = registrants.dose[i]
            let hasDose1 = registrants.dose1Day[i] != Int32.min
            let slot = ((age * CompiledPolicy.priorityGroupCountMax + group) * Self.doseCount + dose.offset) * 2 + (hasDose1 ? 1 : 0)
            var entry = table[slot]
            if entry == Self.unknown {
                entry = Self.work(policy, Prepared.applicant(policy, registrants, i), today: today)
                table[slot] = entry
            }
            return Registrant(dose1Day: registrants.dose1Day[i], fits: UInt16(truncatingIfNeeded: entry), age: UInt8(age),
                              dose1Vaccine: registrants.dose1Vaccine[i], dose2: dose == .two, admissible: entry & 1 << 16 != 0)
        }

        private static func work(_ policy: CompiledPolicy, _ person: Applicant, today: Int) -> UInt32 {
            let historyOK = person.dose == .one ? person.dose1Day == nil : person.dose1Day != nil
            guard person.band >= 0, policy.bandOpenDay[person.band] <= today, historyOK else { return 0 }
            var mask: UInt32 = 1 << 16
            for c in 0..<policy.categoryCount where policy.personFits(c, person) { mask |= 1 << c }
            return mask
        }
    }

    static func applicant(_ policy: CompiledPolicy, _ registrants: BatchRegistrants, _ i: Int) -> Applicant {
        let dose1 = registrants.dose1Day[i] == Int32.min ? nil
            : DoseRecord(day: Int(registrants.dose1Day[i]), vaccine: Int(registrants.dose1Vaccine[i]))
        return policy.applicant(birthYear: Int(registrants.birthYear[i]), group: Int(registrants.priorityGroup[i]),
                                dose: registrants.dose[i], dose1: dose1, dose2Given: false)
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
