import Foundation
import Testing
@testable import BookingService

/// The journal's records are written by hand (`JournalRecord.json()`) and read back by the
/// synthesized `Codable` conformance: every case, with strings that need escaping, must read
/// back as the record it was, i.e. as the same JSON value `JSONEncoder` makes of it.
@Suite struct JournalRecordJSONTests {
    static let awkward = "quote \" backslash \\ slash / tab \t newline \n nul \u{0} bell \u{7} del \u{7f} é नमस्ते 💉"

    static let records: [JournalRecord] = [
        .header(epoch: 1_619_548_200, topology: "ab12" + awkward, keyCheck: "00ff"),
        .beneficiary(reference: "12345678901234", account: awkward, sealedName: Data([0, 1, 2, 250, 255]),
                     sealedPhotoID: Data(), photoIDType: "1", birthYear: 1999, gender: "F"),
        .schedule(appointment: Vault.randomUUID(), account: "acc", beneficiaries: ["1", awkward, ""], session: "s-1",
                  slot: 3, dose: 2, now: -5, idempotencyKey: "key_1"),
        .schedule(appointment: "a", account: "b", beneficiaries: [], session: "", slot: 0, dose: 1, now: Int.max, idempotencyKey: nil),
        .cancel(appointment: "a", account: "b", beneficiaries: ["x"], now: Int.min, idempotencyKey: "k"),
        .cancel(appointment: "a", account: "b", beneficiaries: [], now: 0, idempotencyKey: nil),
        .reschedule(appointment: awkward, account: "b", session: "s-2", slot: 1, now: -1, idempotencyKey: "move_1"),
        .reschedule(appointment: "a", account: "", session: awkward, slot: 0, now: Int.max, idempotencyKey: nil),
        .walkIn(appointment: "w", reference: "r", session: "s", dose: 1, now: 7, registration: nil),
        .walkIn(appointment: "w", reference: "r", session: "s", dose: 2, now: 7,
                registration: .beneficiary(reference: "r", account: "", sealedName: Data([9]), sealedPhotoID: Data([8, 7]),
                                           photoIDType: "10", birthYear: 1950, gender: "O")),
        .vaccinated(reference: "r", dose: 1, now: 100, appointment: awkward, session: "s"),
        .noShow(reference: "r", dose: 2, now: 100, appointment: "n", session: nil),
        .keyed(record: .beneficiary(reference: "r", account: "a", sealedName: Data([1]), sealedPhotoID: Data([2]), photoIDType: "1",
                                    birthYear: 1990, gender: "M"), key: "k-1", fingerprint: awkward),
        .keyed(record: .walkIn(appointment: "w", reference: "r", session: "s", dose: 1, now: 7,
                               registration: .beneficiary(reference: "r", account: "", sealedName: Data([9]), sealedPhotoID: Data([8]),
                                                          photoIDType: "2", birthYear: 1950, gender: "O")), key: "k", fingerprint: "f"),
    ]

    /// The JSON value of `data` (object trees compare as values).
    static func value(_ data: Data) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? NSObject)
    }

    @Test(arguments: records.indices) func aRecordWrittenByHandReadsBackAsItself(_ n: Int) throws {
        let record = Self.records[n]
        let byHand = record.json()
        let decoded = try JSONDecoder().decode(JournalRecord.self, from: byHand)
        let reference = try JSONEncoder().encode(record)
        #expect(try Self.value(byHand) == Self.value(reference), "\(String(decoding: byHand, as: UTF8.self))")
        #expect(try Self.value(JSONEncoder().encode(decoded)) == Self.value(reference))
    }

    @Test func randomUUIDsHaveTheVersion4Shape() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = Vault.randomUUID()
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let bytes = Array(id.utf8)
            #expect(bytes[14] == UInt8(ascii: "4") && "89ab".utf8.contains(bytes[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    @Test func numbersArePaddedWithoutFormatStrings() {
        #expect(API.digits(7, 2) == "07" && API.digits(12, 2) == "12" && API.digits(123, 2) == "123" && API.digits(5, 4) == "0005")
        #expect(API.dateText(day: 0, epoch: Date(timeIntervalSince1970: 1_619_548_200)) == "28-04-2021")
        #expect(Vault.hex([0, 1, 0xab, 0xff]) == "0001abff" && Vault.randomHex(bytes: 5).utf8.count == 10)
    }

    /// A schedule remembered by a version that kept its beneficiaries in request order (say,
    /// in a snapshot) still answers its retry; another request under the key is still a 422.
    @Test func aScheduleKeyRememberedByAnOlderVersionStillMatchesItsRetry() {
        var books = BookingStore.Books()
        books.idempotent["acc/schedule/k"] = "first 1/s/1/B,A"
        func schedule(_ beneficiaries: [String]) -> JournalRecord {
            .schedule(appointment: "new", account: "acc", beneficiaries: beneficiaries, session: "s", slot: 1, dose: 1, now: 0, idempotencyKey: "k")
        }
        if case .success(let answer)? = BookingStore.earlierAnswer(schedule(["B", "A"]), books) { #expect(answer == "first") } else { Issue.record("the retry was refused") }
        if case .failure(let error)? = BookingStore.earlierAnswer(schedule(["C"]), books) { #expect(error.code == "USRRES0422") } else { Issue.record("another request was taken for a retry") }
        books.idempotent["acc/schedule/k"] = "first 1/s/1/A,B"  // as written now: a set
        if case .success(let answer)? = BookingStore.earlierAnswer(schedule(["B", "A"]), books) { #expect(answer == "first") } else { Issue.record("the reordered retry was refused") }
    }
}
