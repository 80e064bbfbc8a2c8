/// Ranks registrants by a priority order (a list of ``PriorityKey``s, ties to the lower
/// index) with stable least-significant-key-first radix sorts: linear time, which is what
/// makes ten million registrants cheap (a comparison sort needs ≈ 23 comparisons each).
enum PriorityRanking {
    /// `rank[i]` = position of registrant `i` in the order (0 = highest priority).
    static func ranks(_ keys: [PriorityKey], registrants: BatchRegistrants, ages: [UInt8], lotterySeed: UInt64) -> [Int32] {
        let order = permutation(keys, registrants: registrants, ages: ages, lotterySeed: lotterySeed)
        var rank = [Int32](repeating: 0, count: order.count)
        for (position, i) in order.enumerated() { rank[Int(i)] = Int32(position) }
        return rank
    }

    /// Registrant indices in priority order.
    static func permutation(_ keys: [PriorityKey], registrants: BatchRegistrants, ages: [UInt8], lotterySeed: UInt64) -> [UInt32] {
        let n = registrants.count
        var order = (0..<n).map { UInt32($0) }
        var scratch = [UInt32](repeating: 0, count: n)
        var keyed = [UInt32](repeating: 0, count: n)
        var keyedScratch = [UInt32](repeating: 0, count: n)
        // Least significant key first; each pass is stable, so earlier keys dominate.
        for key in keys.reversed() {
            let values = keyValues(key, registrants: registrants, ages: ages, lotterySeed: lotterySeed)
            for j in 0..<n { keyed[j] = values[Int(order[j])] }
            let maxValue = keyed.max() ?? 0
            var shift: UInt32 = 0
            while shift < 32, maxValue >> shift != 0 {
                radixPass(&order, &keyed, &scratch, &keyedScratch, shift: shift)
                shift += 16
            }
        }
        return order
    }

    /// One stable counting-sort pass on 16 bits of `keyed`, moving `order` along.
    private static func radixPass(_ order: inout [UInt32], _ keyed: inout [UInt32], _ scratch: inout [UInt32],
                                  _ keyedScratch: inout [UInt32], shift: UInt32) {
        var counts = [Int](repeating: 0, count: 1 << 16 + 1)
        for value in keyed { counts[Int((value >> shift) & 0xffff) + 1] += 1 }
        for b in 1..<counts.count { counts[b] += counts[b - 1] }
        order.withUnsafeBufferPointer { src in
            keyed.withUnsafeBufferPointer { srcKeys in
                scratch.withUnsafeMutableBufferPointer { dst in
                    keyedScratch.withUnsafeMutableBufferPointer { dstKeys in
                        for j in 0..<src.count {
                            let digit = Int((srcKeys[j] >> shift) & 0xffff)
                            let to = counts[digit]
                            counts[digit] = to + 1
                            dst[to] = src[j]
                            dstKeys[to] = srcKeys[j]
                        }
                    }
                }
            }
        }
        swap(&order, &scratch)
        swap(&keyed, &keyedScratch)
    }

    /// The key as an unsigned number where smaller means higher priority.
    static func keyValues(_ key: PriorityKey, registrants: BatchRegistrants, ages: [UInt8], lotterySeed: UInt64) -> [UInt32] {
        switch key {
        case .requestTime: return offsets(registrants.requestTime)
        case .registrationTime: return offsets(registrants.registrationTime)
        case .ageDescending: return ages.map { UInt32(255 - $0) }
        case .lottery: return (0..<registrants.count).map { lotteryNumber(seed: lotterySeed, registrant: $0) }
        }
    }

    /// Times as offsets from the earliest, clamped to 32 bits (136 years of seconds).
    private static func offsets(_ times: [Int]) -> [UInt32] {
        let earliest = times.min() ?? 0
        return times.map { UInt32(clamping: $0 - earliest) }
    }

    /// A registrant's lottery number: SplitMix64's finaliser on (seed, index), so the draw
    /// of one registrant does not depend on how many others there are.
    static func lotteryNumber(seed: UInt64, registrant: Int) -> UInt32 {
        var z = seed &+ UInt64(registrant + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32(truncatingIfNeeded: (z ^ (z >> 31)) >> 32)
    }
}
