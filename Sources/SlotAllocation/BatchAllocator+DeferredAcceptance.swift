/// Registrant-proposing deferred acceptance with sequential category reserves.
///
/// Session `s` chooses from a pool of applicants by filling its categories in the
/// policy's processing order, each category taking its highest-priority eligible
/// applicants not taken by an earlier category (Pathak et al. 2024). This choice rule
/// is substitutable and satisfies the law of aggregate demand, so deferred acceptance
/// ends in the registrant-optimal stable matching whatever the order of proposals.
///
/// Incremental choice: adding one applicant to a pool changes each category by at
/// most one swap. The newcomer enters the first category in order that has room for
/// them or a worse-ranked eligible member; the member it displaces flows on to the
/// next categories the same way; what flows out of the last category is rejected,
/// and a rejected applicant is never chosen again as the pool grows. So each category
/// keeps its members in a heap with the worst on top, and a proposal costs
/// O(categories² + categories × log capacity) (finding a category's heap in its
/// session's block walks the earlier ones; categories are at most 16).
extension BatchAllocator {
    func deferredAcceptance(_ prepared: Prepared, _ registrants: BatchRegistrants, _ result: inout BatchResult,
                            orders distinct: (orders: [[PriorityKey]], orderOfCategory: [Int]), lotterySeed: UInt64) {
        let k = policy.categoryCount, n = registrants.count, sessionCount = prepared.sessions.count
        let (orders, orderOfCategory) = distinct
        // Each registrant's ranks, progress and facts sit together, so one cache miss reaches
        // all a proposal needs: ranks at i * stride + order; at
        // i * stride + progress the next preference to try (low byte), ``sawEligibleBit`` and
        // ``exhaustedBit``; the facts (``Prepared/Registrant``) from i * stride + progress + 1.
        let progress = orders.count, stride = orders.count + 1 + Self.factWords
        var state = registrantState(orders, prepared, registrants, lotterySeed: lotterySeed, stride: stride)
        // A heap member's record in the pool: [registrant, eligible categories, rank per order...].
        let memberStride = 2 + orders.count
        let last = policy.category(atStep: k - 1)
        var heaps = CategoryHeaps(capacity: Self.heapRoom(result.capacity, registrants, categoryCount: k), categoryCount: k,
                                  last: last, memberStride: memberStride)
        // (Shared, not copied: the heaps' storage is borrowed mutably while these are read.)
        let blocks = heaps.blockStart, poolBlocks = heaps.poolStart

        // Rounds: every pending registrant proposes to its next eligible preference; the
        // proposals are partitioned by group of sessions (a radix partition with a small
        // fan-out, so the scatter stays in cache), and each group's sessions take their
        // proposals while the group's heaps (``heapBytesPerGroup`` to twice that) sit in L2.
        // Rejected registrants are marked in a bitmap, which gives the next round its
        // registrants in index order, so their scattered records are read in one sweep. The
        // outcome does not depend on the order of proposals, so all this changes nothing but
        // speed.
        let heapBytes = heaps.words.count * MemoryLayout<UInt64>.stride + heaps.pool.count * MemoryLayout<UInt32>.stride
        let wantedGroups = min(max(1, heapBytes / max(1, heapBytesPerGroup)), 1024, max(1, sessionCount))
        // A power of two sessions per group, rounded up (so a group's heaps may reach twice
        // ``heapBytesPerGroup``; L2 is 1 MB here, and rounding down measured slower): a
        // session's group is a shift, not a division.
        let groupShift = Int.bitWidth - ((sessionCount + wantedGroups - 1) / wantedGroups - 1).leadingZeroBitCount
        let groupCount = max(1, ((sessionCount - 1) >> groupShift) + 1)
        // Who proposes this round: everyone in the first (no array needed), then the rejected.
        var pending: [UInt32] = [], pendingCount = n, everyone = true, rejectedCount = 0
        var target = LargeArrays.uninitialized(Int32.self, n), eligibleAt = LargeArrays.uninitialized(UInt16.self, n)
        var rejectedBits = [UInt64](repeating: 0, count: (n + 63) / 64)
        // A partitioned proposal carries what admission needs, so a group's proposals are read
        // as a stream: the session, then the proposer's member record (see ``CategoryHeaps``).
        let payloadStride = 1 + memberStride
        var spare = [UInt32](repeating: 0, count: 2 * memberStride)
        var payload = LargeArrays.uninitialized(UInt32.self, n * payloadStride)
        var groupStart = [Int](repeating: 0, count: groupCount + 1)
        while pendingCount > 0 {
            for g in groupStart.indices { groupStart[g] = 0 }
            state.withUnsafeMutableBufferPointer { state in
            pending.withUnsafeBufferPointer { pending in
            target.withUnsafeMutableBufferPointer { target in
            eligibleAt.withUnsafeMutableBufferPointer { eligibleAt in
            groupStart.withUnsafeMutableBufferPointer { groupStart in
                for j in 0..<pendingCount {
                    let (s, eligible) = nextEligiblePreference(everyone ? j : Int(pending[j]), prepared, registrants, state, stride: stride,
                                                               progress: progress)
                    target[j] = Int32(s)
                    eligibleAt[j] = eligible
                    if s >= 0 { groupStart[(s >> groupShift) + 1] += 1 }
                }
            }
            }
            }
            }
            }
            for g in 1..<groupStart.count { groupStart[g] += groupStart[g - 1] }
            let proposals = groupStart[groupCount]
            var fill = groupStart
            payload.withUnsafeMutableBufferPointer { payload in
            state.withUnsafeBufferPointer { state in
            pending.withUnsafeBufferPointer { pending in
            target.withUnsafeBufferPointer { target in
            eligibleAt.withUnsafeBufferPointer { eligibleAt in
            fill.withUnsafeMutableBufferPointer { fill in
                for j in 0..<pendingCount where target[j] >= 0 {
                    let x = everyone ? j : Int(pending[j]), s = Int(target[j]), g = s >> groupShift
                    let at = fill[g] * payloadStride
                    fill[g] += 1
                    payload[at] = UInt32(s)
                    payload[at + 1] = UInt32(x)
                    payload[at + 2] = UInt32(eligibleAt[j])
                    for o in 0..<orders.count { payload[at + 3 + o] = state[x * stride + o] }
                }
            }
            }
            }
            }
            }
            }
            payload.withUnsafeBufferPointer { payload in
            spare.withUnsafeMutableBufferPointer { spare in
            rejectedBits.withUnsafeMutableBufferPointer { rejectedBits in
            heaps.withStorage { words, pool in
                for j in 0..<proposals {
                    let s = Int(payload[j * payloadStride])
                    let out = admit(payload.baseAddress! + j * payloadStride + 1, block: blocks[s], poolBlock: poolBlocks[s], words, pool,
                                    spare: spare.baseAddress!, memberStride: memberStride, last: last, orderOfCategory: orderOfCategory)
                    if out >= 0 {
                        rejectedBits[out >> 6] |= 1 << UInt64(out & 63)
                        rejectedCount += 1
                    }
                }
            }
            }
            }
            }
            // The rejected, in index order, are the next round's proposers (the bitmap is cleared on the way).
            if pending.count < rejectedCount { pending = LargeArrays.uninitialized(UInt32.self, rejectedCount) }
            everyone = false
            pendingCount = 0
            rejectedCount = 0
            pending.withUnsafeMutableBufferPointer { pending in
            rejectedBits.withUnsafeMutableBufferPointer { rejectedBits in
                for w in 0..<rejectedBits.count where rejectedBits[w] != 0 {
                    var bits = rejectedBits[w]
                    rejectedBits[w] = 0
                    while bits != 0 {
                        pending[pendingCount] = UInt32(w << 6 | bits.trailingZeroBitCount)
                        pendingCount += 1
                        bits &= bits - 1
                    }
                }
            }
            }
        }

        collect(heaps, &result, registrants, state, stride: stride, progress: progress)
    }

    /// Room for each (session, category)'s heap: its capacity, but no more than the registrants
    /// who list the session, since nobody else can ever propose there. Sized by capacity alone, a
    /// valid instance of a few registrants and thousands of sessions of a million units asked for
    /// tens of gigabytes; this way the heaps never hold more entries than categories × preferences.
    /// The count of listers costs a pass over the preferences, made only when the capacities would
    /// outgrow the input (never at 10M registrants over 100,000 sessions of 100).
    static func heapRoom(_ capacity: [Int32], _ registrants: BatchRegistrants, categoryCount k: Int) -> [Int32] {
        let n = Int32(clamping: registrants.count)
        var room = capacity.map { min($0, n) }
        let total = room.reduce(0) { $0 + Int($1) }
        guard total > 2 * (registrants.count + registrants.preferences.count) + (1 << 20) else { return room }
        var listers = [Int32](repeating: 0, count: capacity.count / max(k, 1))
        for session in registrants.preferences { listers[Int(session)] += 1 }  // validated: in range, distinct per registrant
        for i in room.indices { room[i] = min(room[i], listers[i / k]) }
        return room
    }

    /// The distinct priority orders of the categories, and which one each category uses.
    func distinctOrders() -> (orders: [[PriorityKey]], orderOfCategory: [Int]) {
        var orders: [[PriorityKey]] = []
        var orderOfCategory: [Int] = []
        for category in policy.policy.categories {
            if let found = orders.firstIndex(of: category.priorityOrder) {
                orderOfCategory.append(found)
            } else {
                orders.append(category.priorityOrder)
                orderOfCategory.append(orders.count - 1)
            }
        }
        return (orders, orderOfCategory)
    }

    /// Words of a registrant's facts in its state record.
    static let factWords = (MemoryLayout<Prepared.Registrant>.stride + 3) / 4

    /// Per registrant `stride` words: its position in each order, a zeroed progress word, its facts.
    private func registrantState(_ orders: [[PriorityKey]], _ prepared: Prepared, _ registrants: BatchRegistrants,
                                 lotterySeed: UInt64, stride: Int) -> [UInt32] {
        var state = LargeArrays.uninitialized(UInt32.self, registrants.count * stride)
        var fact = Prepared.Facts(policy: policy, today: prepared.today)
        let progress = orders.count
        state.withUnsafeMutableBufferPointer { state in
            for i in 0..<registrants.count {
                state[i * stride + progress] = 0
                state[i * stride + stride - 1] = 0  // the facts' padding, which the facts do not write
                Self.storeFacts(fact(registrants, i), state, i * stride + progress + 1)
            }
        }
        let ranking = PriorityRanking.Inputs(registrants: registrants, ages: prepared.ages, lotterySeed: lotterySeed)
        for (o, keys) in orders.enumerated() {
            state.withUnsafeMutableBufferPointer { state in
                PriorityRanking.ranks(keys, ranking) { i, position in state[i * stride + o] = position }
            }
        }
        return state
    }

    @inline(__always)
    private static func storeFacts(_ facts: Prepared.Registrant, _ state: UnsafeMutableBufferPointer<UInt32>, _ at: Int) {
        UnsafeMutableRawPointer(state.baseAddress! + at).storeBytes(of: facts, as: Prepared.Registrant.self)
    }

    @inline(__always)
    private static func loadFacts(_ state: UnsafeBufferPointer<UInt32>, _ at: Int) -> Prepared.Registrant {
        UnsafeRawPointer(state.baseAddress! + at).load(as: Prepared.Registrant.self)
    }

    /// Reads the categories and the cutoffs out of the heaps; then each registrant's session
    /// and reason from its progress word, in one sequential pass: whoever has not run out of
    /// preferences is held by the last one they proposed to. (Writing sessions from the heaps
    /// would scatter 4 bytes per registrant over the whole array.)
    private func collect(_ heaps: CategoryHeaps, _ result: inout BatchResult, _ registrants: BatchRegistrants,
                         _ state: [UInt32], stride: Int, progress: Int) {
        let k = policy.categoryCount
        result.category.withUnsafeMutableBufferPointer { category in
            for slot in 0..<result.capacity.count {
                let s = slot / k, c = slot % k
                let members = heaps.members(session: s, category: c), pool = heaps.poolBase(session: s, category: c)
                for key in members { category[heaps.registrant(key, poolBase: pool)] = UInt8(c) }
                if let worst = members.first {
                    result.cutoffRegistrant[slot] = Int32(heaps.registrant(worst, poolBase: pool))
                    result.cutoffRank[slot] = Int32(truncatingIfNeeded: worst >> 32)
                }
            }
        }
        state.withUnsafeBufferPointer { state in
        registrants.preferenceStart.withUnsafeBufferPointer { start in
        registrants.preferences.withUnsafeBufferPointer { preferences in
        result.session.withUnsafeMutableBufferPointer { session in
        result.reasonCode.withUnsafeMutableBufferPointer { reasonCode in
            for i in 0..<session.count {
                let word = state[i * stride + progress]
                if word & Self.exhaustedBit == 0 {
                    session[i] = Int32(preferences[Int(start[i]) + Int(word & 0xff) - 1])
                    reasonCode[i] = 0
                } else {
                    session[i] = -1
                    reasonCode[i] = start[i] == start[i + 1] ? 1 : word & Self.sawEligibleBit != 0 ? 3 : 2
                }
            }
        }
        }
        }
        }
        }
    }

    /// In a registrant's progress word, above the next preference's index in the low byte
    /// (``BatchAllocator/preferencesPerRegistrantMax`` is 255): some preference would take them at all.
    static let sawEligibleBit: UInt32 = 1 << 31
    /// In a registrant's progress word: no preference is left to propose to.
    static let exhaustedBit: UInt32 = 1 << 30

    /// Advances registrant `x` to its next preference that would take it at all; returns that
    /// session (-1 when the list is exhausted) and the categories there that would.
    @inline(__always)
    private func nextEligiblePreference(_ x: Int, _ prepared: Prepared, _ registrants: BatchRegistrants,
                                        _ state: UnsafeMutableBufferPointer<UInt32>, stride: Int, progress: Int) -> (session: Int, eligible: UInt16) {
        var next = Int(state[x * stride + progress] & 0xff)
        let from = Int(registrants.preferenceStart[x]), end = Int(registrants.preferenceStart[x + 1])
        let person = Self.loadFacts(UnsafeBufferPointer(state), x * stride + progress + 1)
        var found = -1, eligible: UInt16 = 0
        while from + next < end {
            let candidate = Int(registrants.preferences[from + next])
            next += 1
            eligible = prepared.eligibleCategories(person, prepared.sessions[candidate])
            if eligible != 0 {
                found = candidate
                break
            }
        }
        var word = (state[x * stride + progress] & ~0xff) | UInt32(next)
        word |= found >= 0 ? Self.sawEligibleBit : Self.exhaustedBit
        state[x * stride + progress] = word
        return (found, eligible)
    }

    /// The session whose heaps start at `block` (and its pool of member records at `poolBlock`)
    /// takes the proposer whose member record is `proposer`, through its categories in
    /// processing order: the proposer enters the first category with room or a worse-ranked
    /// member, the displaced member flows on the same way (its record comes out of the pool, in
    /// cache, into one of the two `spare` records). Returns who flows out of the last category
    /// (rejected), or -1. `last` is the category processed last.
    @inline(__always)
    private func admit(_ proposer: UnsafePointer<UInt32>, block: Int, poolBlock: Int, _ words: UnsafeMutableBufferPointer<UInt64>,
                       _ pool: UnsafeMutableBufferPointer<UInt32>, spare: UnsafeMutablePointer<UInt32>, memberStride: Int,
                       last: Int, orderOfCategory: [Int]) -> Int {
        var member = proposer, free = spare
        let k = policy.categoryCount
        for step in 0..<k {
            let c = policy.category(atStep: step)
            guard member[1] & (1 << c) != 0 else { continue }
            switch CategoryHeaps.offer(member, rank: member[2 + orderOfCategory[c]], words, pool, memberStride: memberStride,
                                       categoryCount: k, block: block, poolBlock: poolBlock, category: c, last: last,
                                       displacedInto: free) {
            case .absorbed: return -1
            case .refused: continue
            case .displaced:
                // `member` is in the heaps now; if it came from a spare record, that one is free again.
                member = UnsafePointer(free)
                free = free == spare ? spare + memberStride : spare
            }
        }
        return Int(member[0])
    }
}

/// One max-heap per (session, category), all in one flat buffer, laid out per session so
/// that one cache miss reaches a session's bookkeeping and the tops of its heaps:
/// session `s`'s block starts at `block(s)` with one header word per category
/// (`size << 32 | capacity`), followed by the categories' entries in order. An entry is
/// `rank << 32 | member`: comparing entries compares ranks (unique per order) without
/// leaving the heap's memory.
///
/// In the category processed last, `member` is the registrant: whoever it displaces is
/// rejected, and needs nothing else. In the others it is a slot in the session's part of
/// the pool (from `poolStart[s]`, the categories in index order, `memberStride` words per
/// slot), which holds the member's record: registrant, eligible categories, rank per order.
/// A member keeps its slot while its entry moves in the heap; a newcomer who displaces it
/// takes the slot over. So a member displaced to the next category brings its record from
/// memory the session's group keeps in cache, rather than from the registrant's own state,
/// a cache miss each (at 10M, a million flow from the reserve to the open category).
struct CategoryHeaps {
    enum Offer { case absorbed, refused, displaced }

    private(set) var words: [UInt64]
    private(set) var pool: [UInt32]
    /// Where each session's block starts in `words`.
    let blockStart: [Int]
    /// Where each session's part of the pool starts.
    let poolStart: [Int]
    let categoryCount: Int
    /// The category processed last.
    let last: Int
    let memberStride: Int

    init(capacity: [Int32], categoryCount k: Int, last: Int, memberStride: Int) {
        categoryCount = k
        self.last = last
        self.memberStride = memberStride
        var starts: [Int] = [], poolStarts: [Int] = [], total = 0, poolTotal = 0
        let sessions = capacity.count / max(k, 1)
        starts.reserveCapacity(sessions)
        poolStarts.reserveCapacity(sessions)
        for s in 0..<sessions {
            starts.append(total)
            poolStarts.append(poolTotal)
            total += k
            for c in 0..<k {
                total += Int(capacity[s * k + c])
                if c != last { poolTotal += Int(capacity[s * k + c]) * memberStride }
            }
        }
        blockStart = starts
        poolStart = poolStarts
        words = LargeArrays.repeating(UInt64(0), count: total)
        pool = LargeArrays.uninitialized(UInt32.self, poolTotal)  // a slot is read only after a member was written to it
        for s in 0..<sessions {
            for c in 0..<k { words[starts[s] + c] = UInt64(UInt32(capacity[s * k + c])) }
        }
    }

    /// Calls `body` with the heaps' words and pool, for ``offer(_:rank:_:_:memberStride:categoryCount:block:poolBlock:category:last:displacedInto:)``
    /// (`last` is the category processed last).
    mutating func withStorage<R>(_ body: (UnsafeMutableBufferPointer<UInt64>, UnsafeMutableBufferPointer<UInt32>) -> R) -> R {
        words.withUnsafeMutableBufferPointer { words in pool.withUnsafeMutableBufferPointer { body(words, $0) } }
    }

    /// Offers the applicant whose member record is `member`, with `rank` in the category's
    /// order, to category `c` of the session whose block starts at `block`: ``Offer/absorbed``
    /// if it was taken with room to spare, ``Offer/refused`` if it ranks below every member of
    /// a full category, ``Offer/displaced`` if it took the place of the worst member, whose
    /// record (its registrant only, if `c` is processed `last`) is then copied to `displaced`.
    @inline(__always)
    static func offer(_ member: UnsafePointer<UInt32>, rank: UInt32, _ words: UnsafeMutableBufferPointer<UInt64>,
                      _ pool: UnsafeMutableBufferPointer<UInt32>, memberStride m: Int, categoryCount k: Int, block: Int,
                      poolBlock: Int, category c: Int, last lastCategory: Int,
                      displacedInto displaced: UnsafeMutablePointer<UInt32>) -> Offer {
        let meta = words[block + c]
        let n = Int(meta >> 32), cap = Int(meta & 0xffff_ffff)
        let last = c == lastCategory
        var b = block + k, p = poolBlock
        for earlier in 0..<c {
            let earlierCap = Int(words[block + earlier] & 0xffff_ffff)
            b += earlierCap
            if earlier != lastCategory { p += earlierCap * m }
        }
        if n < cap {
            let key: UInt64
            if last {
                key = UInt64(rank) << 32 | UInt64(member[0])
            } else {
                (pool.baseAddress! + p + n * m).update(from: member, count: m)
                key = UInt64(rank) << 32 | UInt64(n)
            }
            var child = n
            while child > 0 {
                let parent = (child - 1) / 2
                guard words[b + parent] < key else { break }
                words[b + child] = words[b + parent]
                child = parent
            }
            words[b + child] = key
            words[block + c] = meta + (1 << 32)
            return .absorbed
        }
        guard cap > 0, UInt64(rank) < words[b] >> 32 else { return .refused }
        let worst = words[b], key: UInt64
        if last {
            displaced[0] = UInt32(truncatingIfNeeded: worst)
            key = UInt64(rank) << 32 | UInt64(member[0])
        } else {
            let record = pool.baseAddress! + p + Int(worst & 0xffff_ffff) * m
            displaced.update(from: record, count: m)
            record.update(from: member, count: m)
            key = UInt64(rank) << 32 | (worst & 0xffff_ffff)
        }
        var parent = 0
        while true {
            var child = 2 * parent + 1
            guard child < n else { break }
            if child + 1 < n, words[b + child + 1] > words[b + child] { child += 1 }
            guard words[b + child] > key else { break }
            words[b + parent] = words[b + child]
            parent = child
        }
        words[b + parent] = key
        return .displaced
    }

    /// The entries of category `c` of session `s`, the worst first.
    func members(session s: Int, category c: Int) -> ArraySlice<UInt64> {
        let block = blockStart[s]
        var b = block + categoryCount
        for earlier in 0..<c { b += Int(words[block + earlier] & 0xffff_ffff) }
        return words[b..<(b + Int(words[block + c] >> 32))]
    }

    /// Where the member records of category `c` of session `s` start in the pool (nil for the
    /// category processed last, whose entries name their registrants).
    func poolBase(session s: Int, category c: Int) -> Int? {
        guard c != last else { return nil }
        var p = poolStart[s]
        for earlier in 0..<c where earlier != last { p += Int(words[blockStart[s] + earlier] & 0xffff_ffff) * memberStride }
        return p
    }

    /// The registrant of `entry`, an entry of the category whose records start at `poolBase`.
    func registrant(_ entry: UInt64, poolBase: Int?) -> Int {
        let member = Int(entry & 0xffff_ffff)
        guard let poolBase else { return member }
        return Int(pool[poolBase + member * memberStride])
    }
}
