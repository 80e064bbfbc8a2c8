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
    /// - Complexity: O(n) per key: one gather pass, then one counting pass per 8 significant
    ///   bits (a time key spanning 2^32 seconds or more sorts on two 32-bit halves).
    private static func permutation(_ keys: [PriorityKey], _ inputs: Inputs) -> [UInt32] {
        let registrants = inputs.registrants, ages = inputs.ages, lotterySeed = inputs.lotterySeed
        let n = registrants.count
        var order = LargeArrays.uninitialized(UInt32.self, n)
        order.withUnsafeMutableBufferPointer { order in
            for i in 0..<n { order[i] = UInt32(i) }
        }
        var keyed = LargeArrays.uninitialized(UInt32.self, n)
        var scratch: [UInt32] = [], keyedScratch: [UInt32] = []
        // One stable sort on 32-bit values (a pass per 8 significant bits), unless they are in order already.
        @inline(__always) func sort(_ value: (Int) -> UInt32) {
            let (inOrder, maxValue) = gather(&keyed, order, value)
            // Already in order (e.g. request times of registrants listed as they came): nothing to do.
            if inOrder { return }
            if scratch.isEmpty {
                scratch = LargeArrays.uninitialized(UInt32.self, n)
                keyedScratch = LargeArrays.uninitialized(UInt32.self, n)
            }
            var shift: UInt32 = 0
            while shift < 32, maxValue >> shift != 0 {
                radixPass(&order, &keyed, &scratch, &keyedScratch, shift: shift)
                shift += 8
            }
        }
        // Times as offsets from the earliest; a span of 2^32 seconds or more (validation allows
        // ±2^40) is sorted on its low 32 bits, then its high bits.
        func sortTimes(_ times: [Int]) {
            let earliest = times.min() ?? 0, span = (times.max() ?? 0) - earliest
            if span <= Int(UInt32.max) {
                sort { UInt32(times[$0] - earliest) }
            } else {
                sort { UInt32(truncatingIfNeeded: times[$0] - earliest) }
                sort { UInt32(truncatingIfNeeded: (times[$0] - earliest) >> 32) }
            }
        }
        // Least significant key first; each pass is stable, so earlier keys dominate.
        for key in keys.reversed() {
            switch key {
            case .requestTime: sortTimes(registrants.requestTime)
            case .registrationTime: sortTimes(registrants.registrationTime)
            case .ageDescending: sort { UInt32(255 - ages[$0]) }
            case .lottery: sort { lotteryNumber(seed: lotterySeed, registrant: $0) }
            }
        }
        return order
    }

    /// Each registrant's position in the priority order (0 = highest priority).
    static func ranks(_ keys: [PriorityKey], _ inputs: Inputs) -> [UInt32] {
        var rank = LargeArrays.uninitialized(UInt32.self, inputs.registrants.count)
        rank.withUnsafeMutableBufferPointer { rank in
            ranks(keys, inputs) { i, position in rank[i] = position }
        }
        return rank
    }

    /// Calls `emit(i, position)` once for each registrant `i`, in index order when it can.
    ///
    /// When every key leaves the registrants in their own order, the positions are their
    /// indices. When every key but the most significant does (request times of a list kept as
    /// it came, say) and that key takes fewer than 2^16 values, one counting pass and one
    /// sequential pass give the positions, with no array of their own. Otherwise the
    /// permutation is built and inverted, in the permutation's order (≈ 0.2 s per order at
    /// 10M, for the random writes).
    /// - Complexity: O(n) per key.
    @inline(__always)
    static func ranks(_ keys: [PriorityKey], _ inputs: Inputs, emit: (Int, UInt32) -> Void) {
        let n = inputs.registrants.count
        // Each key is checked once: the less significant ones, then the first if they pass.
        let laterInOrder = keys.dropFirst().allSatisfy { inRegistrantOrder($0, inputs) }
        if laterInOrder, keys.first.map({ inRegistrantOrder($0, inputs) }) ?? true {
            for i in 0..<n { emit(i, UInt32(i)) }
            return
        }
        if laterInOrder, let first = keys.first, directRanks(first, inputs, emit: emit) {
            return
        }
        let order = permutation(keys, inputs)
        order.withUnsafeBufferPointer { order in
            for j in 0..<n { emit(Int(order[j]), UInt32(j)) }
        }
    }

    /// Whether `key`'s values never decrease along the registrants' own order (so a stable
    /// sort on it changes nothing).
    private static func inRegistrantOrder(_ key: PriorityKey, _ inputs: Inputs) -> Bool {
        // Times compared whole: ``keyValues(_:_:_:)`` clamps their offsets to 32 bits.
        func nonDecreasing(_ times: [Int]) -> Bool {
            times.withUnsafeBufferPointer { times in (1..<max(1, times.count)).allSatisfy { times[$0 - 1] <= times[$0] } }
        }
        switch key {
        case .requestTime: return nonDecreasing(inputs.registrants.requestTime)
        case .registrationTime: return nonDecreasing(inputs.registrants.registrationTime)
        case .ageDescending, .lottery: break
        }
        var previous: UInt32 = 0
        return keyValues(key, inputs) { _, v in
            defer { previous = v }
            return v >= previous
        }
    }

    /// Calls `body(i, value)` with `key`'s value of each registrant in index order (times
    /// as offsets from the earliest, clamped to 32 bits: callers use small values only)
    /// until it returns false; returns whether it never did.
    @inline(__always)
    private static func keyValues(_ key: PriorityKey, _ inputs: Inputs, _ body: (Int, UInt32) -> Bool) -> Bool {
        let registrants = inputs.registrants, n = registrants.count
        @inline(__always) func each(_ value: (Int) -> UInt32) -> Bool {
            for i in 0..<n where !body(i, value(i)) { return false }
            return true
        }
        switch key {
        case .requestTime:
            let earliest = registrants.requestTime.min() ?? 0
            return registrants.requestTime.withUnsafeBufferPointer { times in
                each { UInt32(clamping: times[$0] - earliest) }
            }
        case .registrationTime:
            let earliest = registrants.registrationTime.min() ?? 0
            return registrants.registrationTime.withUnsafeBufferPointer { times in
                each { UInt32(clamping: times[$0] - earliest) }
            }
        case .ageDescending:
            return inputs.ages.withUnsafeBufferPointer { ages in each { UInt32(255 - ages[$0]) } }
        case .lottery:
            let seed = inputs.lotterySeed
            return each { lotteryNumber(seed: seed, registrant: $0) }
        }
    }

    /// Positions by one stable counting sort on `key` alone, emitted in index order; false
    /// (and nothing emitted) when its values reach 2^16 (the counts would no longer sit in
    /// cache).
    @inline(__always)
    private static func directRanks(_ key: PriorityKey, _ inputs: Inputs, emit: (Int, UInt32) -> Void) -> Bool {
        var next = [UInt32](repeating: 0, count: (1 << 16) + 1)
        return next.withUnsafeMutableBufferPointer { next in
            let small = keyValues(key, inputs) { _, v in
                guard v < 1 << 16 else { return false }
                next[Int(v) + 1] &+= 1
                return true
            }
            guard small else { return false }
            for b in 1..<next.count { next[b] &+= next[b - 1] }
            _ = keyValues(key, inputs) { i, v in
                emit(i, next[Int(v)])
                next[Int(v)] &+= 1
                return true
            }
            return true
        }
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
