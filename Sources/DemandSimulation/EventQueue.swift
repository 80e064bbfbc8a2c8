/// The simulator's clock and agenda: value-type events in one binary min-heap keyed by
/// integer time and a sequence number, so events at the same time come out in the order
/// they were scheduled — the deterministic tie-break that makes a run reproducible.
///
/// No closure or object per event: an event is a small value of the model's own type,
/// and the model's `switch` over it is the whole dispatch (SimPy's environment, without
/// the allocations).
///
/// ```swift
/// var agenda = EventQueue<MyEvent>()
/// agenda.schedule(.arrival, at: 0)
/// while let (now, event) = agenda.next() { /* handle, schedule more */ }
/// ```
/// - Complexity: `schedule` and `next` O(log n) for n pending events. Models keep n small
///   by generating arrivals lazily: one pending arrival per source, never millions up front.
public struct EventQueue<Event: Sendable>: Sendable {
    struct Entry: Sendable {
        var time: Int
        var sequence: UInt64
        var event: Event

        @inline(__always)
        static func before(_ a: Entry, _ b: Entry) -> Bool {
            a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
        }
    }

    private var heap: [Entry] = []
    private var scheduled: UInt64 = 0
    /// The time of the last event taken; events may not be scheduled before it.
    public private(set) var now = Int.min
    /// A limit on pending events: a model that exceeds it has a runaway loop or an input beyond its limits.
    public let pendingMax: Int

    public init(pendingMax: Int = 10_000_000) {
        self.pendingMax = pendingMax
    }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// Events scheduled so far.
    public var scheduledTotal: UInt64 { scheduled }

    /// Schedules `event` at `time` (not before ``now``). Returns false, scheduling nothing,
    /// when ``pendingMax`` events are already pending.
    @inline(__always) @discardableResult
    public mutating func schedule(_ event: Event, at time: Int) -> Bool {
        precondition(time >= now, "an event was scheduled in the past")
        guard heap.count < pendingMax else { return false }
        let entry = Entry(time: time, sequence: scheduled, event: event)
        scheduled &+= 1
        heap.append(entry)
        var child = heap.count - 1
        heap.withUnsafeMutableBufferPointer { heap in
            while child > 0 {
                let parent = (child - 1) / 2
                guard Entry.before(entry, heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = entry
        }
        return true
    }

    /// Takes the earliest event and advances the clock to its time.
    @inline(__always)
    public mutating func next() -> (time: Int, event: Event)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap.withUnsafeMutableBufferPointer { heap in
                let n = heap.count
                var parent = 0
                while true {
                    var child = 2 * parent + 1
                    guard child < n else { break }
                    if child + 1 < n, Entry.before(heap[child + 1], heap[child]) { child += 1 }
                    guard Entry.before(heap[child], last) else { break }
                    heap[parent] = heap[child]
                    parent = child
                }
                heap[parent] = last
            }
        }
        now = first.time
        return (first.time, first.event)
    }
}
