/// A growable array of plain values in 64-byte-aligned memory, owned by one value.
///
/// The unsafe part of the hot state is fenced in here. Two things a Swift `Array`
/// cannot give: elements that start on a cache-line boundary (so a 64-byte record is
/// exactly one line, one miss), and writes without a uniqueness check (the owner is
/// `~Copyable`, so there is never a second reference to check for). Bounds are
/// checked on every access, like `Array`'s.
struct AlignedArray<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    static var alignment: Int { max(64, MemoryLayout<Element>.alignment) }

    init() {
        capacity = 16
        base = Self.allocate(capacity)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<Element> {
        UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Element>.stride, alignment: alignment)
            .bindMemory(to: Element.self, capacity: capacity)
    }

    var indices: Range<Int> { 0..<count }

    subscript(i: Int) -> Element {
        @inline(__always) get {
            precondition(i >= 0 && i < count, "index out of range")
            return base[i]
        }
        @inline(__always) set {
            precondition(i >= 0 && i < count, "index out of range")
            base[i] = newValue
        }
    }

    /// A pointer to element `i`, valid until the next append.
    @inline(__always)
    func pointer(_ i: Int) -> UnsafeMutablePointer<Element> {
        precondition(i >= 0 && i < count, "index out of range")
        return base + i
    }

    mutating func append(_ element: Element) {
        if count == capacity { reserve(capacity * 2) }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Makes room for at least `minimum` elements.
    mutating func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        var grown = capacity
        while grown < minimum { grown *= 2 }
        let memory = Self.allocate(grown)
        memory.initialize(from: base, count: count)
        UnsafeMutableRawPointer(base).deallocate()
        base = memory
        capacity = grown
    }
}

// The buffer is owned by exactly one (non-copyable) value, so moving that value to
// another thread moves the only way to reach the memory.
extension AlignedArray: @unchecked Sendable where Element: Sendable {}

extension AlignedArray {
    /// The elements as raw bytes (for a snapshot).
    func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<Element>.stride))
    }

    /// Appends the elements whose bytes are `raw` (a whole number of elements, as
    /// ``withRawBytes(_:)`` gave them).
    mutating func append(copying raw: UnsafeRawBufferPointer) {
        let n = raw.count / MemoryLayout<Element>.stride
        guard n > 0 else { return }
        reserve(count + n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: raw.baseAddress!, byteCount: n * MemoryLayout<Element>.stride)
        count += n
    }
}
