import Dispatch
import Foundation
import Logging
import Synchronization

/// The embedded store's durability: an append-only file of checksummed records
/// (`[length: UInt32 LE][CRC-32: UInt32 LE][payload]`), written by one thread that takes
/// every record queued meanwhile, writes them and calls `fsync` once (group commit). A
/// request is acknowledged only after its record's `fsync`. On start the file is read back;
/// a torn or corrupt tail (a crash mid-write) is detected by its length or checksum and cut off
/// (kept beside the journal). Damage followed by a valid record further than a crash can tear
/// from the end (``tornTailMax``) is not a crash's tail: the server refuses to start rather
/// than cut acknowledged records.
final class Journal: @unchecked Sendable {
    // @unchecked: `fd` is written once in init; everything else is behind `state`.
    private let fd: Int32
    let path: String
    private struct State {
        var buffer: [UInt8] = []
        var queued: UInt64 = 0
        var durable: UInt64 = 0
        var failure: String?
        var waiters: [(sequence: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var stopping = false
        /// Where the last queued record ends.
        var position = JournalPosition(end: 0, lastStart: 0, lastCRC: 0, records: 0)
    }
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    static let recordMax = 1 << 20
    /// A batch is written and `fsync`ed in chunks of at most this many bytes, so a crash can
    /// tear at most the last chunk (and the record that ran into it).
    static let chunkBytesMax = 1 << 20
    /// The longest tail a crash can leave torn: damage further from the end is not a crash's.
    static let tornTailMax = chunkBytesMax + 8 + recordMax

    /// Opens (or creates) the journal at `path` and returns it with the payloads it holds, in
    /// order: the header (the first record), then every other record — or, when `after` is a
    /// position this file holds (a snapshot's), only the records after it (`resumed`).
    static func open(path: String, after position: JournalPosition? = nil, tornTailMax: Int = tornTailMax) throws(ServiceError)
        -> (journal: Journal, records: [Data], resumed: Bool) {
        let exists = FileManager.default.fileExists(atPath: path)
        var parsed = Parsed()
        var resumed = false
        if exists {
            do {
                let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                defer { try? file.close() }
                if let position, let header = try Self.header(file) {
                    try file.seek(toOffset: position.lastStart)
                    let tail = [UInt8](try file.readToEnd() ?? Data())
                    let last = Self.parse(tail, base: Int(position.lastStart), limit: 1)
                    if last.records.count == 1, last.end == Int(position.end), last.lastCRC == position.lastCRC {
                        parsed = Self.parse(tail, base: Int(position.lastStart), from: Int(position.end - position.lastStart))
                        parsed.records.insert(header, at: 0)
                        parsed.count = position.records + parsed.records.count - 1
                        if parsed.records.count == 1 { (parsed.lastStart, parsed.lastCRC) = (Int(position.lastStart), position.lastCRC) }
                        resumed = true
                    }
                }
                if !resumed {
                    try file.seek(toOffset: 0)
                    parsed = Self.parse([UInt8](try file.readToEnd() ?? Data()), base: 0)
                }
            } catch {
                throw .journal("cannot read \(path): \(error.localizedDescription)")
            }
        }
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw .journal("cannot open \(path): \(String(cString: strerror(errno)))") }
        // One writer only: a second server on the same directory would interleave records.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(fd)
            throw .journal("\(path) is in use by another slotsim serve (one server per data directory)")
        }
        // A crash tears at most the last chunk, which was never acknowledged: the damage then lies
        // within `tornTailMax` of the end. Damage further back, or before the point a snapshot
        // proves durable, with a valid record after it, is damage to acknowledged data. Cutting it
        // would lose bookings, so the server refuses to start and says how to proceed.
        let beforeSnapshot = position.map { parsed.end < Int($0.end) } ?? false
        if let valid = parsed.validRecordAfterDamage, let torn = parsed.tornTail, torn.count > tornTailMax || beforeSnapshot {
            Foundation.close(fd)
            throw .journal("""
                \(path) is damaged at byte \(parsed.end), and a valid record starts at byte \(valid) after it: this is not \
                the torn tail a crash leaves, and acknowledged changes may follow the damage. The file is left as it is. \
                Restore the data directory from a backup, or keep only what precedes the damage with \
                `cp \(path) \(path).bak && truncate -s \(parsed.end) \(path)`
                """)
        }
        if let torn = parsed.tornTail {
            // A torn or corrupt tail: never acknowledged if it is a crash's half-written chunk. The cut
            // bytes are kept beside the journal first (durably), so nothing is destroyed if it was
            // damage instead; if they cannot be kept and hold a valid record, nothing is cut.
            let damaged = path + ".damaged-\(Int(Date().timeIntervalSince1970))-\(Vault.randomHex(bytes: 4))"
            let kept = DurableFile.create(damaged, [UInt8](torn))
            if kept != nil, parsed.validRecordAfterDamage != nil {
                Foundation.close(fd)
                throw .journal("\(path) is damaged at byte \(parsed.end) and valid records follow; cannot keep the bytes after it in \(damaged) (\(kept!)), so nothing was cut")
            }
            var words = "\(path): cut \(torn.count) bytes from byte \(parsed.end) as a torn tail (" + (kept == nil ? "kept in \(damaged))" : "not kept: \(kept!))")
            if let valid = parsed.validRecordAfterDamage {
                words += "; they hold a valid record at byte \(valid) (a crash leaves that when the disk reorders writes; damage does too)"
            }
            // An error, not a warning: it must reach the log at any level an operator would run.
            BookingServer.logger.error("\(words)")
            guard ftruncate(fd, off_t(parsed.end)) == 0, fsync(fd) == 0 else {
                throw .journal("cannot cut the torn tail of \(path): \(String(cString: strerror(errno)))")
            }
        }
        if !exists {
            // The new file's directory entry must be durable too.
            DurableFile.syncDirectory((path as NSString).deletingLastPathComponent)
        }
        let journal = Journal(fd: fd, path: path,
                              position: JournalPosition(end: UInt64(parsed.end), lastStart: UInt64(parsed.lastStart), lastCRC: parsed.lastCRC, records: parsed.count))
        return (journal, parsed.records, resumed)
    }

    /// Records read from a part of the file, and where the valid part ends.
    struct Parsed {
        var records: [Data] = []
        var count = 0
        var end = 0
        var lastStart = 0
        var lastCRC: UInt32 = 0
        var tornTail: Data? = nil
        /// Where the first valid record after the torn tail starts (a file offset), if one does.
        var validRecordAfterDamage: Int? = nil
    }

    /// The first record's payload, if the file has a valid one.
    private static func header(_ file: FileHandle) throws -> Data? {
        try file.seek(toOffset: 0)
        let prefix = [UInt8](try file.read(upToCount: 8) ?? Data())
        guard prefix.count == 8 else { return nil }
        let length = Int(UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24)
        guard length > 0, length <= recordMax else { return nil }
        let first = Self.parse(prefix + [UInt8](try file.read(upToCount: length) ?? Data()), base: 0, limit: 1)
        return first.records.first
    }

    /// Parses records from `bytes[from...]` (`bytes` starts at file offset `base`), at most `limit`.
    static func parse(_ bytes: [UInt8], base: Int, from start: Int = 0, limit: Int = .max) -> Parsed {
        var parsed = Parsed()
        var offset = start
        while offset + 8 <= bytes.count, parsed.records.count < limit {
            let length = Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            let crc = UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7]) << 24
            // A zero length is never written (a zero-filled tail after a power loss looks like one).
            guard length > 0, length <= recordMax, offset + 8 + length <= bytes.count else { break }
            let payload = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard CRC32.checksum(payload) == crc else { break }
            parsed.records.append(Data(payload))
            (parsed.lastStart, parsed.lastCRC) = (base + offset, crc)
            offset += 8 + length
        }
        parsed.count = parsed.records.count
        parsed.end = base + offset
        if offset < bytes.count, limit == .max {
            parsed.tornTail = Data(bytes[offset...])
            parsed.validRecordAfterDamage = validRecord(in: bytes, after: offset).map { base + $0 }
        }
        return parsed
    }

    /// The first offset after `damage` where a whole valid record starts, if any. Every payload
    /// is a JSON object, so a candidate must span `{`…`}` before its checksum is computed: a scan
    /// of damaged bytes stays linear.
    static func validRecord(in bytes: [UInt8], after damage: Int) -> Int? {
        var offset = damage + 1
        while offset + 8 < bytes.count {
            defer { offset += 1 }
            let length = Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            guard length >= 2, length <= recordMax, offset + 8 + length <= bytes.count,
                  bytes[offset + 8] == UInt8(ascii: "{"), bytes[offset + 7 + length] == UInt8(ascii: "}") else { continue }
            let crc = UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7]) << 24
            if CRC32.checksum(Array(bytes[(offset + 8)..<(offset + 8 + length)])) == crc { return offset }
        }
        return nil
    }

    private init(fd: Int32, path: String, position: JournalPosition) {
        self.fd = fd
        self.path = path
        state.withLock { $0.position = position }
        // The writer thread holds the journal for the life of the process (a server has one).
        let thread = Thread { self.writeLoop() }
        thread.name = "slotsim-journal"
        thread.start()
    }

    /// Queues a record; returns its sequence number for ``durable(_:)`` and the journal's
    /// position after it. Callers queue under the same lock as they change state, so the
    /// file's order is the order of the changes.
    func append(_ payload: Data) -> (sequence: UInt64, position: JournalPosition) {
        let appended = state.withLock { s -> (UInt64, JournalPosition) in
            let n = UInt32(payload.count), crc = payload.withUnsafeBytes { CRC32.checksum($0) }
            s.buffer += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
            s.buffer += [UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc >> 16 & 0xff), UInt8(crc >> 24)]
            s.buffer += payload
            s.queued += 1
            s.position = JournalPosition(end: s.position.end + 8 + UInt64(n), lastStart: s.position.end, lastCRC: crc, records: s.position.records + 1)
            return (s.queued, s.position)
        }
        wake.signal()
        return appended
    }

    /// Where the last queued record ends.
    var position: JournalPosition { state.withLock { $0.position } }

    /// Waits until record `sequence` is on disk; false if the journal failed (the change must not be acknowledged).
    func durable(_ sequence: UInt64) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let ready: Bool? = state.withLock { s in
                if s.durable >= sequence { return true }
                if s.failure != nil { return false }
                s.waiters.append((sequence, continuation))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func writeLoop() {
        while true {
            wake.wait()
            let (bytes, upTo, stop) = state.withLock { s -> ([UInt8], UInt64, Bool) in
                // After a failure nothing more is written: what is on disk stays a prefix of what was acknowledged.
                let taken = s.failure == nil ? s.buffer : []
                s.buffer = []
                return (taken, s.queued, s.stopping)
            }
            if !bytes.isEmpty {
                var failure: String?
                for start in stride(from: 0, to: bytes.count, by: Self.chunkBytesMax) where failure == nil {
                    let chunk = bytes.count <= Self.chunkBytesMax ? bytes : Array(bytes[start..<min(start + Self.chunkBytesMax, bytes.count)])
                    failure = DurableFile.writeAll(fd, chunk)
                    if failure == nil, fsync(fd) != 0 { failure = "fsync: " + String(cString: strerror(errno)) }
                }
                let resumed = state.withLock { s -> [(CheckedContinuation<Bool, Never>, Bool)] in
                    if let failure { s.failure = failure } else { s.durable = max(s.durable, upTo) }
                    let ok = s.failure == nil
                    let done = s.waiters.filter { !ok || $0.sequence <= s.durable }
                    s.waiters.removeAll { !ok || $0.sequence <= s.durable }
                    return done.map { ($0.continuation, ok) }
                }
                for (continuation, ok) in resumed { continuation.resume(returning: ok) }
            }
            if stop {
                Foundation.close(fd)  // releases the lock
                stopped.signal()
                return
            }
        }
    }

    /// Writes what is queued, closes the file and releases its lock; the journal takes no more records.
    func close() {
        let first = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return !s.stopping
        }
        guard first else { return }
        wake.signal()
        stopped.wait()
    }

    /// Why the last write failed, if one did (the journal then takes no more changes).
    var failure: String? { state.withLock { $0.failure } }
}

/// Writes that must reach the disk whole (the journal's batches, the snapshot file).
enum DurableFile {
    /// Writes every byte (retrying interrupted and partial writes); the error's words, or nil.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> String? {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            offset += n
        }
        return nil
    }

    /// Creates `path` (it must not exist) holding `bytes`, durably: the file and its directory
    /// entry are on disk when this returns nil; otherwise the error's words.
    static func create(_ path: String, _ bytes: [UInt8]) -> String? {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { Foundation.close(fd) }
        if let failure = writeAll(fd, bytes) { return failure }
        guard fsync(fd) == 0 else { return "fsync: " + String(cString: strerror(errno)) }
        syncDirectory((path as NSString).deletingLastPathComponent)
        return nil
    }

    /// Makes a directory's entries (a created or renamed file) durable; best effort.
    static func syncDirectory(_ path: String) {
        let dir = Foundation.open(path, O_RDONLY)
        guard dir >= 0 else { return }
        fsync(dir)
        Foundation.close(dir)
    }
}

/// A place in the journal: the end of a record, with that record's start and checksum (so
/// a snapshot can check that the file it resumes is the one it was taken from) and the
/// number of records up to it.
struct JournalPosition: Sendable, Equatable {
    var end: UInt64
    var lastStart: UInt64
    var lastCRC: UInt32
    var records: Int
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
enum CRC32 {
    /// Slicing-by-8 tables (Kounavis and Berry, Intel 2005): entry k × 256 + n is the CRC
    /// register (no initial value, no final inversion) after byte n and then k zero bytes, so
    /// eight bytes cost eight independent lookups instead of a chain of eight dependent ones.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ t[Int(previous & 0xff)]
            }
        }
        return t
    }()

    /// The CRC-32 (IEEE 802.3, as zlib's `crc32`) of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { t in
            var c: UInt32 = 0xFFFF_FFFF
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ c, high = UInt32(truncatingIfNeeded: word >> 32)
                c = t[7 * 256 + Int(low & 0xff)] ^ t[6 * 256 + Int((low >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xff)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xff)] ^ t[2 * 256 + Int((high >> 8) & 0xff)]
                    ^ t[256 + Int((high >> 16) & 0xff)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xff)] ^ (c >> 8)
                i += 1
            }
            return c ^ 0xFFFF_FFFF
        }
    }
}
