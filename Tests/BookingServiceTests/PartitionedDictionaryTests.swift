@testable import BookingService
import Testing

/// The books' dictionary in parts: it behaves as one dictionary, and a copy (a snapshot's)
/// is unchanged by later writes to the original.
@Suite struct PartitionedDictionaryTests {
    @Test func behavesAsOneDictionary() {
        var parts = PartitionedDictionary<[String]>()
        var plain: [String: [String]] = [:]
        #expect(parts.isEmpty && parts.count == 0)
        for n in 0..<1_000 {
            let key = "k\(n % 300)"
            parts[key, default: []].append("v\(n)")
            plain[key, default: []].append("v\(n)")
            if n % 7 == 0 {
                parts[key] = nil
                plain[key] = nil
            }
        }
        #expect(parts.count == plain.count && !parts.isEmpty)
        #expect(Dictionary(uniqueKeysWithValues: parts.map { ($0.key, $0.value) }) == plain)
        #expect(parts.values.count == plain.count)
        for (key, value) in plain { #expect(parts[key] == value) }
        #expect(parts["absent"] == nil)
    }

    @Test func aCopyKeepsItsValuesWhileTheOriginalChanges() {
        var original = PartitionedDictionary<Int>()
        for n in 0..<500 { original["k\(n)"] = n }
        let copy = original
        for n in 0..<500 where n % 2 == 0 { original["k\(n)"]! += 1_000 }
        original["new"] = 1
        #expect(copy.count == 500 && original.count == 501)
        for n in 0..<500 {
            #expect(copy["k\(n)"] == n)
            #expect(original["k\(n)"] == (n % 2 == 0 ? n + 1_000 : n))
        }
        #expect(copy != original)
        var again = copy
        #expect(again == copy)
        again["k1"] = 1
        #expect(again == copy, "writing the same value keeps them equal")
    }
}
