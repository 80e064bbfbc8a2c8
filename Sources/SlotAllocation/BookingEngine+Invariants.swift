/// Whole-engine consistency checks. Each request asserts its own (session, category)
/// in debug builds; this checks everything at once and across shards, for tests and
/// for a report to assert before it is built.
extension BookingEngine {
    /// Every violated invariant, as a sentence; empty when all hold. Locks every shard
    /// (beneficiaries first, then sessions, like requests do), so it sees one consistent state.
    ///
    /// - No (session, category) has more bookings + holds + walk-ins + no-show units than capacity; no counter is negative.
    /// - Holds counted per (session, category) equal the live hold records.
    /// - Bookings and walk-ins per (session, category) equal the live ones plus the vaccinated ones.
    /// - Every live appointment points at an existing session and category.
    /// - Complexity: O(sessions × categories + beneficiaries).
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var liveHeld: [UInt32: Int] = [:], liveUsed: [UInt32: Int] = [:]
        let categoryCount = policy.categoryCount
        func key(_ session: UInt32, _ category: Int) -> UInt32 { session * UInt32(categoryCount) + UInt32(category) }
        for shard in 0..<configuration.beneficiaryShards {
            beneficiaryShards[shard].withLock { registry in
                registry.forEachLive { record in
                    guard record.state != .none else { return }
                    let session = record.session, category = Int(record.category)
                    guard category < categoryCount else {
                        problems.append("a live appointment of session \(session) has category \(category) out of range")
                        return
                    }
                    if record.state == .held {
                        liveHeld[key(session, category), default: 0] += 1
                    } else {
                        liveUsed[key(session, category), default: 0] += 1
                    }
                }
            }
        }
        var heldSeen = 0, usedSeen = 0
        for shardNumber in 0..<configuration.sessionShards {
            sessionShards[shardNumber].withLock { inventory in
                var heldTotal = 0
                for s in 0..<inventory.count {
                    let raw = UInt32(s) << sessionShardBits | UInt32(shardNumber)
                    for c in 0..<categoryCount {
                        let counts = inventory.counters[s * categoryCount + c]
                        if !counts.isConsistent {
                            problems.append("session \(raw) category \(c): booked \(counts.booked) + held \(counts.held) + walk-ins \(counts.walkIns) + no-show units \(counts.noShowFreed) exceed capacity \(counts.capacity), or a counter is negative")
                        }
                        heldTotal += Int(counts.held)
                        let liveH = liveHeld[key(raw, c)] ?? 0, liveU = liveUsed[key(raw, c)] ?? 0
                        heldSeen += liveH
                        usedSeen += liveU
                        // Records of lapsed holds that nobody has touched yet may outlive the counter.
                        if liveH < counts.held {
                            problems.append("session \(raw) category \(c): \(counts.held) held but \(liveH) live hold records")
                        }
                        let used = Int(counts.booked + counts.walkIns - counts.vaccinated)
                        if used != liveU {
                            problems.append("session \(raw) category \(c): \(used) live bookings and walk-ins counted, \(liveU) live records")
                        }
                    }
                }
                if heldTotal != inventory.holds.count {
                    problems.append("session shard \(shardNumber): \(heldTotal) units held but \(inventory.holds.count) hold records")
                }
            }
        }
        let liveHeldTotal = liveHeld.values.reduce(0, +), liveUsedTotal = liveUsed.values.reduce(0, +)
        if heldSeen != liveHeldTotal || usedSeen != liveUsedTotal {
            problems.append("live appointments point at sessions that do not exist")
        }
        return problems
    }
}
