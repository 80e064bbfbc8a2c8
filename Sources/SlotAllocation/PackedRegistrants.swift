/// Each registrant's facts and preferences in one 32-byte record (two to a cache line,
/// never across two): up to five preferences inline, longer lists by their offset in
/// the caller's array. Serial dictatorship gathers these records into priority order.
struct PackedRegistrants {
    struct Record: BitwiseCopyable {
        var person: Prepared.Registrant
        var count: UInt8
        /// Up to five preferences; with more, `inline.0` is where they start in the caller's array.
        var inline: (UInt32, UInt32, UInt32, UInt32, UInt32)

        static let inlineMax = 5

        @inline(__always)
        func preference(_ p: Int, _ long: UnsafeBufferPointer<UInt32>) -> UInt32 {
            guard Int(count) <= Self.inlineMax else { return long[Int(inline.0) + p] }
            switch p {
            case 0: return inline.0
            case 1: return inline.1
            case 2: return inline.2
            case 3: return inline.3
            default: return inline.4
            }
        }
    }

    let records: AlignedBuffer<Record>

    /// Registrant `i`'s record at `place[i]`, with its facts computed here.
    /// - Complexity: one sequential pass over the registrants and their preferences.
    init(_ prepared: Prepared, _ registrants: BatchRegistrants, at place: [UInt32]) {
        records = AlignedBuffer(count: registrants.count)
        var fact = Prepared.Facts(policy: prepared.policy, today: prepared.today)
        registrants.preferenceStart.withUnsafeBufferPointer { start in
        registrants.preferences.withUnsafeBufferPointer { preferences in
        place.withUnsafeBufferPointer { place in
            for i in 0..<registrants.count {
                let from = Int(start[i]), count = Int(start[i + 1]) - from
                var record = Record(person: fact(registrants, i), count: UInt8(count),
                                    inline: (0, 0, 0, 0, 0))
                if count > Record.inlineMax {
                    record.inline.0 = UInt32(from)
                } else {
                    withUnsafeMutableBytes(of: &record.inline) { raw in
                        for p in 0..<count { raw.storeBytes(of: preferences[from + p], toByteOffset: p * 4, as: UInt32.self) }
                    }
                }
                (records.base + Int(place[i])).initialize(to: record)
            }
        }
        }
        }
    }
}

/// Registrants as serial dictatorship reads them, position by position in priority order.
protocol RegistrantsInOrder {
    var count: Int { get }
    func person(_ position: Int) -> Prepared.Registrant
    func preferenceCount(_ position: Int) -> Int
    func preference(_ position: Int, _ p: Int) -> UInt32
}

/// Packed records already in priority order.
struct Packed: RegistrantsInOrder {
    let records: AlignedBuffer<PackedRegistrants.Record>
    /// The caller's preferences, for lists longer than a record holds.
    let long: UnsafeBufferPointer<UInt32>

    var count: Int { records.count }
    @inline(__always) func person(_ position: Int) -> Prepared.Registrant { records.base[position].person }
    @inline(__always) func preferenceCount(_ position: Int) -> Int { Int(records.base[position].count) }
    @inline(__always) func preference(_ position: Int, _ p: Int) -> UInt32 { records.base[position].preference(p, long) }
}

/// The caller's arrays, when the priority order is the registrants' own (they are streams already).
struct InOwnOrder: RegistrantsInOrder {
    let start: UnsafeBufferPointer<Int32>
    let preferences: UnsafeBufferPointer<UInt32>
    let people: UnsafeBufferPointer<Prepared.Registrant>

    var count: Int { people.count }
    @inline(__always) func person(_ position: Int) -> Prepared.Registrant { people[position] }
    @inline(__always) func preferenceCount(_ position: Int) -> Int { Int(start[position + 1] - start[position]) }
    @inline(__always) func preference(_ position: Int, _ p: Int) -> UInt32 { preferences[Int(start[position]) + p] }
}

/// `count` plain values in 64-byte-aligned memory, written once by their maker.
final class AlignedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: filled by the one function that makes it, then only read.
    let base: UnsafeMutablePointer<Element>
    let count: Int

    /// Uninitialised: the maker writes every element before anything reads one.
    init(count: Int) {
        self.count = count
        let bytes = max(1, count) * MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        LargeArrays.advise(UnsafeMutableRawBufferPointer(start: raw, count: bytes))
        base = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
