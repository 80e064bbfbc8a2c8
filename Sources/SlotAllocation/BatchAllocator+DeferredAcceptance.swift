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
                            lotterySeed: UInt64) {
        let k = policy.categoryCount, n = registrants.count, sessionCount = prepared.sessions.count
        let (orders, orderOfCategory) = distinctOrders()
        // Each registrant's ranks and progress sit together: ranks at i * stride + order, and at
        // i * stride + progress the next preference to try (low byte) and a "was eligible" bit.
        let stride = orders.count + 1, progress = orders.count
        let sawEligibleBit: UInt32 = 1 << 31
        var state = rankedState(orders, prepared, registrants, lotterySeed: lotterySeed, stride: stride)
        var heaps = CategoryHeaps(capacity: result.capacity, categoryCount: k)
        let blocks = (0..<sessionCount).map { heaps.block($0) }

        // Rounds: every pending registrant proposes to its next eligible preference; the
        // proposals are partitioned by group of sessions (a radix partition with a small
        // fan-out, so the scatter stays in cache), and each group's sessions take their
        // proposals while the group's heaps (≈ 256 KB) sit in L2. Rejected registrants form
        // the next round. The outcome does not depend on the order of proposals, so this
        // changes nothing but speed.
        let heapBytes = heaps.words.count * MemoryLayout<UInt64>.stride
        let groupCount = min(max(1, heapBytes / (256 * 1024)), 1024, max(1, sessionCount))
        let sessionsPerGroup = (sessionCount + groupCount - 1) / groupCount
        var pending = (0..<n).map { UInt32($0) }
        var target: [Int32] = [], eligibleAt: [UInt16] = [], rejected: [UInt32] = []
        target.reserveCapacity(n)
        eligibleAt.reserveCapacity(n)
        rejected.reserveCapacity(n)
        // A partitioned proposal carries what admission needs, so a group's proposals are read
        // as a stream: [registrant, session, eligible categories, rank per order...].
        let payloadStride = 3 + orders.count
        var payload = [UInt32](repeating: 0, count: n * payloadStride)
        var groupStart = [Int](repeating: 0, count: groupCount + 1)
        while !pending.isEmpty {
            target.removeAll(keepingCapacity: true)
            eligibleAt.removeAll(keepingCapacity: true)
            rejected.removeAll(keepingCapacity: true)
            for g in groupStart.indices { groupStart[g] = 0 }
            state.withUnsafeMutableBufferPointer { state in
                for x in pending {
                    let (s, eligible) = nextEligiblePreference(Int(x), prepared, registrants, state, stride: stride,
                                                               progress: progress, sawEligibleBit: sawEligibleBit)
                    target.append(Int32(s))
                    eligibleAt.append(eligible)
                    if s >= 0 { groupStart[s / sessionsPerGroup + 1] += 1 }
                }
            }
            for g in 1..<groupStart.count { groupStart[g] += groupStart[g - 1] }
            let proposals = groupStart[groupCount]
            var fill = groupStart
            payload.withUnsafeMutableBufferPointer { payload in
                state.withUnsafeBufferPointer { state in
                    for j in 0..<target.count where target[j] >= 0 {
                        let x = Int(pending[j]), s = Int(target[j]), g = s / sessionsPerGroup
                        let at = fill[g] * payloadStride
                        fill[g] += 1
                        payload[at] = UInt32(x)
                        payload[at + 1] = UInt32(s)
                        payload[at + 2] = UInt32(eligibleAt[j])
                        for o in 0..<orders.count { payload[at + 3 + o] = state[x * stride + o] }
                    }
                }
            }
            payload.withUnsafeBufferPointer { payload in
                state.withUnsafeBufferPointer { state in
                    for j in 0..<proposals {
                        let s = Int(payload[j * payloadStride + 1])
                        let out = admit(payload, at: j * payloadStride, session: s, block: blocks[s], prepared, state, &heaps,
                                        stride: stride, orderOfCategory: orderOfCategory)
                        if out >= 0 { rejected.append(UInt32(out)) }
                    }
                }
            }
            swap(&pending, &rejected)
        }

        collect(heaps, &result, registrants) { state[$0 * stride + progress] & sawEligibleBit != 0 }
    }

    /// The distinct priority orders of the categories, and which one each category uses.
    private func distinctOrders() -> (orders: [[PriorityKey]], orderOfCategory: [Int]) {
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

    /// Per registrant `stride` words: its position in each order, then a zeroed progress word.
    private func rankedState(_ orders: [[PriorityKey]], _ prepared: Prepared, _ registrants: BatchRegistrants,
                             lotterySeed: UInt64, stride: Int) -> [UInt32] {
        var state = [UInt32](repeating: 0, count: registrants.count * stride)
        let ranking = PriorityRanking.Inputs(registrants: registrants, ages: prepared.ages, lotterySeed: lotterySeed)
        for (o, keys) in orders.enumerated() {
            let order = PriorityRanking.permutation(keys, ranking)
            state.withUnsafeMutableBufferPointer { state in
                for (position, i) in order.enumerated() { state[Int(i) * stride + o] = UInt32(position) }
            }
        }
        return state
    }

    /// Reads the assignment and the cutoffs out of the heaps, and the reason of everyone left out.
    private func collect(_ heaps: CategoryHeaps, _ result: inout BatchResult, _ registrants: BatchRegistrants,
                         sawEligible: (Int) -> Bool) {
        let k = policy.categoryCount
        for slot in 0..<result.capacity.count {
            let s = slot / k, c = slot % k
            let members = heaps.members(session: s, category: c)
            for key in members {
                let member = Int(truncatingIfNeeded: key & 0xffff_ffff)
                result.session[member] = Int32(s)
                result.category[member] = UInt8(c)
            }
            if let worst = members.first {
                result.cutoffRegistrant[slot] = Int32(truncatingIfNeeded: worst & 0xffff_ffff)
                result.cutoffRank[slot] = Int32(truncatingIfNeeded: worst >> 32)
            }
        }
        for i in 0..<registrants.count where result.session[i] < 0 {
            result.reasonCode[i] = registrants.preferences(of: i).isEmpty ? 1 : sawEligible(i) ? 3 : 2
        }
    }

    /// Advances registrant `x` to its next preference that would take it at all; returns that
    /// session (-1 when the list is exhausted) and the categories there that would.
    @inline(__always)
    private func nextEligiblePreference(_ x: Int, _ prepared: Prepared, _ registrants: BatchRegistrants,
                                        _ state: UnsafeMutableBufferPointer<UInt32>, stride: Int, progress: Int,
                                        sawEligibleBit: UInt32) -> (session: Int, eligible: UInt16) {
        var next = Int(state[x * stride + progress] & 0xff)
        let from = Int(registrants.preferenceStart[x]), end = Int(registrants.preferenceStart[x + 1])
        let person = prepared.registrants[x]
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
        if found >= 0 { word |= sawEligibleBit }
        state[x * stride + progress] = word
        return (found, eligible)
    }

    /// Session `s` takes the proposal at `payload[at...]` through its categories in processing
    /// order: the proposer enters the first category with room or a worse-ranked member, the
    /// displaced member flows on the same way. Returns who flows out of the last category
    /// (rejected), or -1.
    @inline(__always)
    private func admit(_ payload: UnsafeBufferPointer<UInt32>, at: Int, session s: Int, block: Int, _ prepared: Prepared,
                       _ state: UnsafeBufferPointer<UInt32>, _ heaps: inout CategoryHeaps, stride: Int,
                       orderOfCategory: [Int]) -> Int {
        var flowing = Int(payload[at])
        var eligible = UInt16(truncatingIfNeeded: payload[at + 2])
        var proposerRanks = true
        for step in 0..<policy.categoryCount {
            let c = policy.category(atStep: step)
            guard eligible & (1 << c) != 0 else { continue }
            let rank = proposerRanks ? payload[at + 3 + orderOfCategory[c]] : state[flowing * stride + orderOfCategory[c]]
            let out = heaps.offer(UInt64(rank) << 32 | UInt64(flowing), block: block, category: c)
            if out == CategoryHeaps.absorbed { return -1 }
            let y = Int(truncatingIfNeeded: out & 0xffff_ffff)
            if y != flowing {
                flowing = y
                proposerRanks = false
                eligible = prepared.eligibleCategories(prepared.registrants[y], prepared.sessions[s])
            }
        }
        return flowing
    }
}

/// One max-heap per (session, category), all in one flat buffer, laid out per session so
/// that one cache miss reaches a session's bookkeeping and the tops of its heaps:
/// session `s`'s block starts at `block(s)` with one header word per category
/// (`size << 32 | capacity`), followed by the categories' entries in order. An entry
/// is `rank << 32 | registrant`, so comparing entries compares ranks (unique per
/// order) without leaving the heap's memory.
struct CategoryHeaps {
    static let absorbed = UInt64.max

    private(set) var words: [UInt64]
    private let blockStart: [Int]
    let categoryCount: Int

    init(capacity: [Int32], categoryCount k: Int) {
        categoryCount = k
        var starts: [Int] = [], total = 0
        let sessions = capacity.count / max(k, 1)
        starts.reserveCapacity(sessions)
        for s in 0..<sessions {
            starts.append(total)
            total += k
            for c in 0..<k { total += Int(capacity[s * k + c]) }
        }
        blockStart = starts
        words = [UInt64](repeating: 0, count: total)
        for s in 0..<sessions {
            for c in 0..<k { words[starts[s] + c] = UInt64(UInt32(capacity[s * k + c])) }
        }
    }

    /// Where session `s`'s block starts.
    func block(_ s: Int) -> Int { blockStart[s] }

    /// Offers `key` to category `c` of the session whose block starts at `block`: returns
    /// ``absorbed`` if it was taken with room to spare, `key` itself if it was refused, or
    /// the displaced worst entry if `key` outranked it.
    @inline(__always)
    mutating func offer(_ key: UInt64, block: Int, category c: Int) -> UInt64 {
        let k = categoryCount
        return words.withUnsafeMutableBufferPointer { words in
            let meta = words[block + c]
            let n = Int(meta >> 32), cap = Int(meta & 0xffff_ffff)
            var b = block + k
            for earlier in 0..<c { b += Int(words[block + earlier] & 0xffff_ffff) }
            if n < cap {
                var child = n
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard words[b + parent] < key else { break }
                    words[b + child] = words[b + parent]
                    child = parent
                }
                words[b + child] = key
                words[block + c] = meta + (1 << 32)
                return Self.absorbed
            }
            guard cap > 0, key < words[b] else { return key }
            let worst = words[b]
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
            return worst
        }
    }

    /// The entries of category `c` of session `s`, the worst first.
    func members(session s: Int, category c: Int) -> ArraySlice<UInt64> {
        let block = blockStart[s]
        var b = block + categoryCount
        for earlier in 0..<c { b += Int(words[block + earlier] & 0xffff_ffff) }
        return words[b..<(b + Int(words[block + c] >> 32))]
    }
}
