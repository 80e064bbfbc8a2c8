import Foundation
import SlotAllocation

/// The embedded store's snapshot: the whole state at a journal position, so a start reads
/// the snapshot and replays only the records after it. One file, `snapshot.bin` in the
/// data directory, replaced atomically (written beside it, `fsync`ed, renamed). The journal
/// stays whole: a snapshot that is missing, damaged or not of this journal is ignored and
/// the state is rebuilt from the journal alone.
///
/// Layout: `"SLOTSRV1"`, the position, the journal's header record, the books, the
/// engine's own snapshot (``SlotAllocation/BookingEngine/snapshot()``), then a CRC-32 of
/// everything before it. Personal data is in it only as sealed (AES-GCM) bytes and keyed hashes.
struct StoreSnapshot {
    static let magic = Array("SLOTSRV1".utf8)
    static let fileName = "snapshot.bin"

    var position: JournalPosition
    var header: Data
    var books: BookingStore.Books
    var engine: [UInt8]

    func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.bytes += Self.magic
        out.int(Int(position.end))
        out.int(Int(position.lastStart))
        out.int(Int(position.lastCRC))
        out.int(position.records)
        out.data(header)
        out.books(books)
        out.int(engine.count)
        out.bytes += engine
        let crc = CRC32.checksum(out.bytes)
        out.int(Int(crc))
        return out.bytes
    }

    init(position: JournalPosition, header: Data, books: BookingStore.Books, engine: [UInt8]) {
        self.position = position
        self.header = header
        self.books = books
        self.engine = engine
    }

    init(decoding bytes: [UInt8]) throws(SnapshotDamage) {
        guard bytes.count >= Self.magic.count + 8, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw SnapshotDamage(reason: "not a slotsim store snapshot")
        }
        var input = ByteReader(bytes: bytes, offset: bytes.count - 8)
        let crc = try input.int()
        guard crc == Int(CRC32.checksum(Array(bytes[..<(bytes.count - 8)]))) else { throw SnapshotDamage(reason: "checksum mismatch (damaged or cut short)") }
        input = ByteReader(bytes: Array(bytes[..<(bytes.count - 8)]), offset: Self.magic.count)
        let end = try input.int(), lastStart = try input.int(), lastCRC = try input.int(), records = try input.int()
        guard end > lastStart, lastStart >= 0, UInt32(exactly: lastCRC) != nil, records > 0 else { throw SnapshotDamage(reason: "position out of range") }
        position = JournalPosition(end: UInt64(end), lastStart: UInt64(lastStart), lastCRC: UInt32(lastCRC), records: records)
        header = try input.data()
        books = try input.books()
        engine = try input.rawBytes(count: try input.count())
        guard input.isAtEnd else { throw SnapshotDamage(reason: "bytes after the engine's part") }
    }

    /// The snapshot of `directory`, or nil with why not (no file is not a problem: nil, nil).
    static func load(directory: String) -> (StoreSnapshot?, String?) {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return (nil, nil) }
        do {
            return (try StoreSnapshot(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))), nil)
        } catch let damage as SnapshotDamage {
            return (nil, "\(path): \(damage.reason)")
        } catch {
            return (nil, "\(path): \(error.localizedDescription)")
        }
    }

    /// Writes the snapshot to `directory` atomically: readers see the old file or the new one, whole.
    /// Returns how long the encoding took (the rest is the write and its fsync).
    @discardableResult
    func write(directory: String) throws(ServiceError) -> Duration {
        let path = directory + "/" + Self.fileName, temporary = path + ".new"
        let start = ContinuousClock.now
        let bytes = encoded()
        let encoding = ContinuousClock.now - start
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .journal("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var failure = DurableFile.writeAll(fd, bytes)
        if failure == nil, fsync(fd) != 0 { failure = "fsync: " + String(cString: strerror(errno)) }
        Foundation.close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = "rename: " + String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw .journal("cannot write \(path): \(failure)")
        }
        DurableFile.syncDirectory(directory)
        return encoding
    }
}

struct SnapshotDamage: Error {
    var reason: String
}

/// Little-endian integers and length-prefixed bytes.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func data(_ value: Data) {
        int(value.count)
        bytes += value
    }

    mutating func text(_ value: String) {
        int(value.utf8.count)
        bytes += value.utf8
    }

    mutating func texts(_ values: [String]) {
        int(values.count)
        for value in values { text(value) }
    }

    mutating func books(_ b: BookingStore.Books) {
        int(b.people.count)
        for (_, person) in b.people {
            text(person.reference)
            text(person.account)
            int(Int(person.engineID.rawValue))
            data(person.sealedName)
            data(person.sealedPhotoID)
            text(person.photoIDType)
            int(person.birthYear)
            text(person.gender)
            for appointment in person.appointments { text(appointment ?? "") }
        }
        int(b.accounts.count)
        for (account, references) in b.accounts {
            text(account)
            texts(references)
        }
        int(b.appointments.count)
        for (number, booked) in b.appointments {
            text(number)
            text(booked.account)
            text(booked.session)
            int(booked.slot)
            int(booked.dose.rawValue)
            texts(booked.beneficiaries)
        }
        int(b.idempotent.count)
        for (key, answer) in b.idempotent {
            text(key)
            text(answer)
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    var isAtEnd: Bool { offset == bytes.count }

    mutating func int() throws(SnapshotDamage) -> Int {
        guard bytes.count - offset >= 8 else { throw SnapshotDamage(reason: "ends early") }
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
        offset += 8
        return Int(Int64(bitPattern: value))
    }

    /// A count or length: never more than the bytes left (each element takes at least one).
    mutating func count() throws(SnapshotDamage) -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - offset else { throw SnapshotDamage(reason: "a count of \(n) at byte \(offset - 8) is out of range") }
        return n
    }

    mutating func rawBytes(count n: Int) throws(SnapshotDamage) -> [UInt8] {
        guard n <= bytes.count - offset else { throw SnapshotDamage(reason: "ends early") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func data() throws(SnapshotDamage) -> Data { Data(try rawBytes(count: try count())) }

    mutating func text() throws(SnapshotDamage) -> String { String(decoding: try rawBytes(count: try count()), as: UTF8.self) }

    mutating func texts() throws(SnapshotDamage) -> [String] {
        var values: [String] = []
        for _ in 0..<(try count()) { values.append(try text()) }
        return values
    }

    mutating func books() throws(SnapshotDamage) -> BookingStore.Books {
        var b = BookingStore.Books()
        for _ in 0..<(try count()) {
            let reference = try text(), account = try text(), engineID = try int()
            guard let id = UInt32(exactly: engineID) else { throw SnapshotDamage(reason: "a beneficiary id out of range") }
            var person = BookingStore.Person(reference: reference, account: account, engineID: BeneficiaryID(rawValue: id),
                                             sealedName: try data(), sealedPhotoID: try data(), photoIDType: try text(),
                                             birthYear: try int(), gender: try text())
            person.appointments = [try text(), try text()].map { $0.isEmpty ? nil : $0 }
            b.people[reference] = person
        }
        for _ in 0..<(try count()) {
            let account = try text()
            b.accounts[account] = try texts()
        }
        for _ in 0..<(try count()) {
            let number = try text(), account = try text(), session = try text(), slot = try int()
            guard let dose = Dose(rawValue: try int()) else { throw SnapshotDamage(reason: "an appointment's dose is neither 1 nor 2") }
            b.appointments[number] = BookingStore.Booked(account: account, session: session, slot: slot, dose: dose, beneficiaries: try texts())
        }
        for _ in 0..<(try count()) {
            let key = try text()
            b.idempotent[key] = try text()
        }
        return b
    }
}
