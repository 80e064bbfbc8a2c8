@testable import BookingService
import Foundation
import Testing

/// The journal file on its own: damage within what a crash can tear from the end is cut (and
/// kept beside it); damage further back, with valid records after it, stops the start.
@Suite struct JournalTests {
    /// `count` records of about 100 bytes, as the journal writes them.
    static func file(records count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for n in 0..<count {
            let label = n < 10 ? "0\(n)" : "\(n)"  // every record the same length
            let payload = Array("{\"n\":\"\(label)\",\"pad\":\"\(String(repeating: "x", count: 80))\"}".utf8)
            let crc = CRC32.checksum(payload)
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
            bytes += payload
        }
        return bytes
    }

    /// The sliced CRC-32 is the IEEE one (zlib's): its check value, and the byte-at-a-time
    /// definition on every length and alignment up to 100 bytes, so journals and snapshots
    /// written before it still read.
    @Test func crc32IsTheIEEEOneAtEveryLength() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        func bytewise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes { c = CRC32.tables[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
            return c ^ 0xFFFF_FFFF
        }
        var state: UInt64 = 7
        let bytes = (0..<120).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for start in 0..<8 {
            for length in 0...100 {
                let slice = bytes[start..<(start + length)]
                #expect(slice.withUnsafeBytes { CRC32.checksum($0) } == bytewise(slice), "start \(start), length \(length)")
            }
        }
    }

    @Test func damageFarFromTheEndStopsTheStartAndNearItIsCut() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("journal.log").path
        var bytes = Self.file(records: 40)
        let recordBytes = bytes.count / 40
        bytes[10 * recordBytes + 20] ^= 0x01  // inside record 10 of 40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // A tail of 30 records is more than a crash could tear here (a limit of 1,000 bytes).
        do {
            let opened = try Journal.open(path: path, tornTailMax: 1_000)
            opened.journal.close()
            Issue.record("a journal damaged far from its end was opened")
        } catch {
            #expect("\(error)".contains("valid record starts at byte \(11 * recordBytes)") && "\(error)".contains("truncate -s \(10 * recordBytes)"), "\(error)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes), "left as it was")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["journal.log"])
        // Damage before the point a snapshot proves durable is never cut either, however near the end.
        let snapshotPoint = JournalPosition(end: UInt64(bytes.count), lastStart: UInt64(bytes.count - recordBytes), lastCRC: 0, records: 40)
        #expect(throws: ServiceError.self) { _ = try Journal.open(path: path, after: snapshotPoint) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes), "left as it was")
        // Within the limit (by default 2 MB and more), the same damage is a torn tail: cut and kept.
        let opened = try Journal.open(path: path)
        opened.journal.close()
        #expect(opened.records.count == 10)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes.prefix(10 * recordBytes)))
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".damaged-") }
        #expect(kept.count == 1)
        // Zeros after a power loss hold no valid record: cut without the warning's extra words.
        #expect(Journal.validRecord(in: [UInt8](repeating: 0, count: 4_096), after: 0) == nil)
        #expect(Journal.validRecord(in: Self.file(records: 3), after: 5) == recordBytes)
    }
}
