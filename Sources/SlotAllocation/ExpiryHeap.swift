/// A binary min-heap of (expiry time, hold id) pairs, stored flat: the order in which holds lapse.
/// - Complexity: push and pop O(log n), peek O(1).
struct ExpiryHeap: Sendable {
    private var times: [Int] = []
    private var ids: [UInt64] = []

    func peek() -> (Int, UInt64)? { times.isEmpty ? nil : (times[0], ids[0]) }

    mutating func push(_ time: Int, _ id: UInt64) {
        times.append(time)
        ids.append(id)
        var child = times.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard times[child] < times[parent] else { break }
            times.swapAt(child, parent)
            ids.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        let last = times.count - 1
        times.swapAt(0, last)
        ids.swapAt(0, last)
        times.removeLast()
        ids.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < times.count, times[left] < times[smallest] { smallest = left }
            if right < times.count, times[right] < times[smallest] { smallest = right }
            guard smallest != parent else { return }
            times.swapAt(parent, smallest)
            ids.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
