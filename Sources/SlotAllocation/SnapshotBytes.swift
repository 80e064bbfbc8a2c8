/// The byte format of engine snapshots: little-endian integers, length-prefixed texts
/// and raw arrays of plain records, closed by an FNV-1a 64-bit checksum.
///
/// Raw records are copied as they lie in memory, so a snapshot is read back only by a
/// build with the same record layout (the header carries every record's size).
struct SnapshotWriter: Sendable {
    private(set) var bytes: [UInt8] = []

    init(reserving capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ value: Int) { integer(Int64(value)) }

    /// An optional integer: a presence byte, then the value (0 for nil).
    mutating func optional(_ value: Int?) {
        integer(UInt8(value == nil ? 0 : 1))
        int(value ?? 0)
    }

    mutating func text(_ value: String) {
        int(value.utf8.count)
        bytes += value.utf8
    }

    mutating func raw(_ buffer: UnsafeRawBufferPointer) {
        int(buffer.count)
        bytes.append(contentsOf: buffer)
    }

    /// Records of `stride` bytes, with the byte ranges `padding` of each written as zeros.
    mutating func raw(_ buffer: UnsafeRawBufferPointer, stride: Int, padding: [Range<Int>]) {
        let start = bytes.count + 8
        raw(buffer)
        guard !padding.isEmpty else { return }
        bytes.withUnsafeMutableBytes { out in
            var record = start
            while record + stride <= out.count {
                for gap in padding { (out.baseAddress! + record + gap.lowerBound).initializeMemory(as: UInt8.self, repeating: 0, count: gap.count) }
                record += stride
            }
        }
    }

    /// The bytes with their checksum appended.
    /// The bytes with their checksum appended, taken out of the writer, so a writer made with
    /// room to spare grows in place instead of being copied.
    consuming func sealed() -> [UInt8] {
        let hash = FNV1a.hash(bytes)
        var out: [UInt8] = []
        swap(&out, &bytes)
        withUnsafeBytes(of: hash.littleEndian) { out.append(contentsOf: $0) }
        return out
    }
}

/// An engine's state as ``BookingEngine/captureSnapshot()`` copied it; ``sealed()`` adds the checksum.
public struct EngineSnapshot: Sendable {
    let writer: SnapshotWriter

    /// What ``BookingEngine/snapshot()`` returns: the state and its checksum. Consumes the copy,
    /// so the state's bytes are not copied once more. - Complexity: O(size).
    public consuming func sealed() -> [UInt8] { writer.sealed() }
}

/// Reads what ``SnapshotWriter`` wrote; every read checks the bounds and throws a
/// ``SlotAllocationError`` naming the part that was damaged, never traps.
struct SnapshotReader: ~Copyable {
    private let bytes: [UInt8]
    private var offset = 0
    /// What is being read, for the error ("session shard 3 counters").
    var part = "header"

    /// Checks the trailing checksum first.
    init(_ sealed: [UInt8]) throws(SlotAllocationError) {
        guard sealed.count >= 8 else { throw .invalid("snapshot", "is \(sealed.count) bytes long, too short to be a snapshot") }
        let body = Array(sealed[..<(sealed.count - 8)])
        var stored: UInt64 = 0
        for (k, byte) in sealed[(sealed.count - 8)...].enumerated() { stored |= UInt64(byte) << (8 * UInt64(k)) }
        guard FNV1a.hash(body) == stored else { throw .invalid("snapshot", "checksum mismatch: the snapshot is damaged or truncated") }
        bytes = body
    }

    var isAtEnd: Bool { offset == bytes.count }

    func failure(_ what: String) -> SlotAllocationError { .invalid("snapshot: \(part)", what) }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(SlotAllocationError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw failure("ends early") }
        var value: T = 0
        for k in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }

    mutating func int() throws(SlotAllocationError) -> Int { Int(try integer(Int64.self)) }

    /// A count or length, which must be within `0...limit`.
    mutating func count(limit: Int) throws(SlotAllocationError) -> Int {
        let n = try int()
        guard (0...limit).contains(n) else { throw failure("has a count of \(n), outside 0...\(limit)") }
        return n
    }

    mutating func optional() throws(SlotAllocationError) -> Int? {
        switch try integer(UInt8.self) {
        case 0:
            _ = try int()
            return nil
        case 1: return try int()
        default: throw failure("has an optional value with an unknown marker")
        }
    }

    mutating func text() throws(SlotAllocationError) -> String {
        let n = try count(limit: bytes.count - offset)
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }

    /// A raw array of `T` that was written with ``SnapshotWriter/raw(_:)``.
    mutating func raw<T: BitwiseCopyable>(_ type: T.Type) throws(SlotAllocationError) -> RawRecords<T> {
        let n = try count(limit: bytes.count - offset)
        let stride = MemoryLayout<T>.stride
        guard n % stride == 0 else { throw failure("holds \(n) bytes, not a whole number of \(stride)-byte records") }
        defer { offset += n }
        return RawRecords(bytes: Array(bytes[offset..<(offset + n)]))
    }
}

/// Records read from a snapshot, still as bytes: a record is loaded only once its enum
/// fields (if any) were checked to hold valid values.
struct RawRecords<T: BitwiseCopyable> {
    var bytes: [UInt8]
    var count: Int { bytes.count / MemoryLayout<T>.stride }

    subscript(i: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self) }
    }

    /// The records in a fresh ``AlignedArray``.
    func aligned() -> AlignedArray<T> {
        var array = AlignedArray<T>()
        bytes.withUnsafeBytes { array.append(copying: $0) }
        return array
    }
}

/// FNV-1a, 64 bits: a checksum against damage (not against tampering).
enum FNV1a {
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func hash(_ text: String) -> UInt64 { hash(Array(text.utf8)) }
}
