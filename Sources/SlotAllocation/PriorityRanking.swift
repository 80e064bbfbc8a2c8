/// Orders registrants by a priority order (a list of ``PriorityKey``s, ties to the lower
/// index) with stable least-significant-key-first radix sorts: linear time, which is what
/// makes ten million registrants cheap (a comparison sort needs ≈ 23 comparisons each).
enum PriorityRanking {
    /// What the keys are computed from, gathered once for all the orders of one allocation.
    struct Inputs {
        let registrants: BatchRegistrants
        let ages: [UInt8]
        let lotterySeed: UInt64

        init(registrants: BatchRegistrants, ages: [UInt8], lotterySeed: UInt64) {
            self.registrants = registrants
            self.ages = ages
            self.lotterySeed = lotterySeed
        }
    }

    /// Registrant indices in priority order (highest priority first).
    /// - Complexity: O(n) per key: one gather pass, then one counting pass per 8 significant bits.
    static func permutation(_ keys: [PriorityKey], _ inputs: Inputs) -> [UInt32] {
        let registrants = inputs.registrants, ages = inputs.ages, lotterySeed = inputs.lotterySeed
        let n = registrants.count
        var order = uninitialized(n)
        order.withUnsafeMutableBufferPointer { order in
            for i in 0..<n { order[i] = UInt32(i) }
        }
        var keyed = uninitialized(n)
        var scratch: [UInt32] = [], keyedScratch: [UInt32] = []
        // Least significant key first; each pass is stable, so earlier keys dominate.
        for key in keys.reversed() {
            let inOrder: Bool, maxValue: UInt32
            switch key {
            case .requestTime:
                let earliest = registrants.requestTime.min() ?? 0
                (inOrder, maxValue) = gather(&keyed, order) { UInt32(clamping: registrants.requestTime[$0] - earliest) }
            case .registrationTime:
                let earliest = registrants.registrationTime.min() ?? 0
                (inOrder, maxValue) = gather(&keyed, order) { UInt32(clamping: registrants.registrationTime[$0] - earliest) }
            case .ageDescending:
                (inOrder, maxValue) = gather(&keyed, order) { UInt32(255 - ages[$0]) }
            case .lottery:
                (inOrder, maxValue) = gather(&keyed, order) { lotteryNumber(seed: lotterySeed, registrant: $0) }
            }
            // Already in order (e.g. request times of registrants listed as they came): nothing to do.
            if inOrder { continue }
            if scratch.isEmpty {
                scratch = uninitialized(n)
                keyedScratch = uninitialized(n)
            }
            var shift: UInt32 = 0
            while shift < 32, maxValue >> shift != 0 {
                radixPass(&order, &keyed, &scratch, &keyedScratch, shift: shift)
                shift += 8
            }
        }
        return order
    }

    /// An array of `n` values that its user writes in full before reading any (gather and
    /// every radix pass do): zero-filling 40 MB per array at 10M registrants is wasted time.
    private static func uninitialized(_ n: Int) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: n) { _, count in count = n }
    }

    /// `keyed[j] = value(order[j])`; returns whether the values are already non-decreasing, and their maximum.
    @inline(__always)
    private static func gather(_ keyed: inout [UInt32], _ order: [UInt32], _ value: (Int) -> UInt32) -> (Bool, UInt32) {
        var inOrder = true, maxValue: UInt32 = 0, previous: UInt32 = 0
        keyed.withUnsafeMutableBufferPointer { keyed in
            order.withUnsafeBufferPointer { order in
                for j in 0..<order.count {
                    let v = value(Int(order[j]))
                    keyed[j] = v
                    if v < previous { inOrder = false }
                    previous = v
                    maxValue = max(maxValue, v)
                }
            }
        }
        return (inOrder, maxValue)
    }

    /// One stable counting-sort pass on 8 bits of `keyed`, moving `order` along. Eight bits
    /// (256 buckets) keep every bucket's write position in cache; 16 bits would scatter
    /// writes over 65,536 places and miss on most of them.
    private static func radixPass(_ order: inout [UInt32], _ keyed: inout [UInt32], _ scratch: inout [UInt32],
                                  _ keyedScratch: inout [UInt32], shift: UInt32) {
        var counts = [Int](repeating: 0, count: 257)
        for value in keyed { counts[Int((value >> shift) & 0xff) + 1] += 1 }
        for b in 1..<counts.count { counts[b] += counts[b - 1] }
        order.withUnsafeBufferPointer { src in
            keyed.withUnsafeBufferPointer { srcKeys in
                scratch.withUnsafeMutableBufferPointer { dst in
                    keyedScratch.withUnsafeMutableBufferPointer { dstKeys in
                        for j in 0..<src.count {
                            let digit = Int((srcKeys[j] >> shift) & 0xff)
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

    /// A registrant's lottery number: SplitMix64's finaliser on (seed, index), so the draw
    /// of one registrant does not depend on how many others there are.
    @inline(__always)
    static func lotteryNumber(seed: UInt64, registrant: Int) -> UInt32 {
        var z = seed &+ UInt64(registrant + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32(truncatingIfNeeded: (z ^ (z >> 31)) >> 32)
    }
}
