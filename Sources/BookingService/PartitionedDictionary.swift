/// A dictionary from text keys, kept as 64 dictionaries split by the key's hash.
///
/// Why: the store's books are values, so a snapshot takes them without copying, and the
/// next change copies what it writes to. With one dictionary per kind that was the whole
/// dictionary, under the lock every request waits on: measured in the load test at
/// 250,000 people, a pause of tens of milliseconds after each snapshot. Split in 64, a
/// change copies one part (1/64 of the entries), and the copies spread over the changes
/// that follow. Order of iteration is unspecified, as a `Dictionary`'s.
struct PartitionedDictionary<Value: Sendable>: Sendable, Sequence {
    static var partCount: Int { 64 }

    private var parts = [[String: Value]](repeating: [:], count: partCount)

    init() {}

    @inline(__always)
    private static func part(_ key: String) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(partCount))
    }

    subscript(key: String) -> Value? {
        get { parts[Self.part(key)][key] }
        _modify { yield &parts[Self.part(key)][key] }
    }

    subscript(key: String, default value: @autoclosure () -> Value) -> Value {
        get { parts[Self.part(key)][key, default: value()] }
        _modify { yield &parts[Self.part(key)][key, default: value()] }
    }

    var count: Int { parts.reduce(0) { $0 + $1.count } }
    var isEmpty: Bool { parts.allSatisfy(\.isEmpty) }
    var values: [Value] { parts.flatMap(\.values) }

    func makeIterator() -> FlattenSequence<[[String: Value]]>.Iterator {
        parts.joined().makeIterator()
    }
}

extension PartitionedDictionary: Equatable where Value: Equatable {}
