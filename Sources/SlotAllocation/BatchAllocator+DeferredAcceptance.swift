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
/// O(categories × log capacity).
extension BatchAllocator {
    func deferredAcceptance(_ prepared: Prepared, _ registrants: BatchRegistrants, _ result: inout BatchResult,
                            lotterySeed: UInt64) {
        let k = policy.categoryCount, n = registrants.count
        // One rank per distinct priority order among the categories.
        var orders: [[PriorityKey]] = []
        var orderOfCategory = [Int](repeating: 0, count: k)
        for (c, category) in policy.policy.categories.enumerated() {
            if let found = orders.firstIndex(of: category.priorityOrder) {
                orderOfCategory[c] = found
            } else {
                orders.append(category.priorityOrder)
                orderOfCategory[c] = orders.count - 1
            }
        }
        // Each registrant's ranks and progress sit together: ranks at i * stride + order,
        // the next preference to try at i * stride + orders.count.
        let stride = orders.count + 1
        var state = [UInt32](repeating: 0, count: n * stride)
        let ages = prepared.ages
        for (o, keys) in orders.enumerated() {
            let rank = PriorityRanking.ranks(keys, registrants: registrants, ages: ages, lotterySeed: lotterySeed)
            for i in 0..<n { state[i * stride + o] = UInt32(bitPattern: rank[i]) }
        }
        let progress = orders.count
        let sawEligibleBit: UInt32 = 1 << 31
        var heaps = CategoryHeaps(capacity: result.capacity, categoryCount: k)
        let blocks = (0..<prepared.sessions.count).map { Int32(heaps.block($0)) }

        registrants.preferenceStart.withUnsafeBufferPointer { start in
        registrants.preferences.withUnsafeBufferPointer { preferences in
        prepared.registrants.withUnsafeBufferPointer { people in
        prepared.sessions.withUnsafeBufferPointer { sessions in
        blocks.withUnsafeBufferPointer { blocks in
        state.withUnsafeMutableBufferPointer { state in
            for first in 0..<n {
                var proposer = first
                while proposer >= 0 {
                    let x = proposer
                    // The proposer's next preference that would take them at all.
                    var next = Int(state[x * stride + progress] & 0xff)
                    let from = Int(start[x]), end = Int(start[x + 1])
                    var s = -1, eligible: UInt16 = 0
                    while from + next < end {
                        let candidate = Int(preferences[from + next])
                        next += 1
                        eligible = prepared.eligibleCategories(people[x], sessions[candidate])
                        if eligible != 0 {
                            s = candidate
                            break
                        }
                    }
                    state[x * stride + progress] = (state[x * stride + progress] & ~0xff) | UInt32(next)
                    guard s >= 0 else { break }
                    state[x * stride + progress] |= sawEligibleBit
                    // The newcomer flows through the categories; whoever flows out is rejected.
                    var flowing = x, flowingEligible = eligible
                    let block = Int(blocks[s])
                    for step in 0..<k {
                        let c = policy.category(atStep: step)
                        guard flowingEligible & (1 << c) != 0 else { continue }
                        let key = UInt64(state[flowing * stride + orderOfCategory[c]]) << 32 | UInt64(flowing)
                        let out = heaps.offer(key, block: block, category: c)
                        guard out != CategoryHeaps.absorbed else {
                            flowing = -1
                            break
                        }
                        let y = Int(truncatingIfNeeded: out & 0xffff_ffff)
                        if y != flowing {
                            flowing = y
                            flowingEligible = prepared.eligibleCategories(people[y], sessions[s])
                        }
                    }
                    proposer = flowing
                }
            }
        }
        }
        }
        }
        }
        }

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
        for i in 0..<n where result.session[i] < 0 {
            let sawEligible = state[i * stride + progress] & sawEligibleBit != 0
            result.reasonCode[i] = registrants.preferences(of: i).isEmpty ? 1 : sawEligible ? 3 : 2
        }
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

    /// Where session `s`'s block starts (also kept in the allocator's session records).
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
