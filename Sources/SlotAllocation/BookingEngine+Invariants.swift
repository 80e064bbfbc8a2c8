/// Whole-engine consistency checks. Each request asserts its own (session, category)
/// in debug builds; this checks everything at once and across shards, for tests and
/// for a report to assert before it is built.
extension BookingEngine {
    /// Every violated invariant, as a sentence; empty when all hold. Holds every lock at
    /// once — beneficiary shards first, then session shards, the order requests use — so it
    /// sees one consistent state even while requests run (they wait meanwhile).
    ///
    /// - No (session, category) has more bookings + holds + walk-ins + no-show units than capacity; no counter is negative.
    /// - Holds counted per (session, category) are never more than the live hold records
    ///   (a lapsed hold's record outlives its unit until its owner's next request).
    /// - Bookings and walk-ins per (session, category) equal the live ones plus the vaccinated ones.
    /// - Every live appointment points at an existing session and category.
    /// - Complexity: O(sessions × categories + beneficiaries).
    public func invariantViolations() -> [String] {
        var liveHeld: [UInt64: Int] = [:], liveUsed: [UInt64: Int] = [:]
        var problems: [String] = []
        let categoryCount = policy.categoryCount
        func key(_ session: UInt32, _ category: Int) -> UInt64 { UInt64(session) * UInt64(categoryCount) + UInt64(category) }

        func lockBeneficiaries(from shard: Int) {
            guard shard < configuration.beneficiaryShards else { return lockSessions(from: 0) }
            beneficiaryShards[shard].withLock { registry in
                registry.forEachLive { record in
                    guard record.state != .none else { return }
                    guard Int(record.category) < categoryCount else {
                        problems.append("a live appointment of session \(record.session) has category \(record.category) out of range")
                        return
                    }
                    if record.state == .held {
                        liveHeld[key(record.session, Int(record.category)), default: 0] += 1
                    } else {
                        liveUsed[key(record.session, Int(record.category)), default: 0] += 1
                    }
                }
                lockBeneficiaries(from: shard + 1)
            }
        }

        var seen = 0
        func lockSessions(from shard: Int) {
            guard shard < configuration.sessionShards else { return }
            sessionShards[shard].withLock { inventory in
                check(inventory, shard: shard)
                lockSessions(from: shard + 1)
            }
        }

        func check(_ inventory: borrowing SessionInventory, shard: Int) {
            var heldTotal = 0
            for s in 0..<inventory.count {
                let raw = UInt32(s) << sessionShardBits | UInt32(shard)
                for c in 0..<categoryCount {
                    let counts = inventory.counters[s * categoryCount + c]
                    if !counts.isConsistent {
                        problems.append("session \(raw) category \(c): booked \(counts.booked) + held \(counts.held) + walk-ins \(counts.walkIns) + no-show units \(counts.noShowFreed) exceed capacity \(counts.capacity), or a counter is negative")
                    }
                    heldTotal += Int(counts.held)
                    let liveH = liveHeld[key(raw, c)] ?? 0, liveU = liveUsed[key(raw, c)] ?? 0
                    seen += liveH + liveU
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
                problems.append("session shard \(shard): \(heldTotal) units held but \(inventory.holds.count) hold records")
            }
        }

        lockBeneficiaries(from: 0)
        if seen != liveHeld.values.reduce(0, +) + liveUsed.values.reduce(0, +) {
            problems.append("live appointments point at sessions that do not exist")
        }
        return problems
    }
}
