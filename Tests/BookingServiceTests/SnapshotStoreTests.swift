@testable import BookingService
import Foundation
import HashTreeCollections
import Hummingbird
import HummingbirdTesting
import SlotAllocation
import Testing

/// The embedded store's snapshots: a start restores the snapshot and replays only the
/// records after it, to exactly the state a replay of the whole journal gives; a snapshot
/// that is damaged or of another journal is ignored (with a warning), never trusted.
@Suite struct SnapshotStoreTests {
    typealias T = ServerTests

    /// Books `count` people (one login, one registration and one booking each; a cancellation for every third).
    static func book(_ h: T.Harness, count: Int, from first: Int) async throws {
        try await Application(router: h.server.router()).test(.live) { client in
            let session = try await T.firstSession(client)
            for n in first..<(first + count) {
                let token = try await T.login(client, h, mobile: "9123456\(String(format: "%03d", n))")
                let reference = T.json(try await T.register(client, token: token, name: "Person \(n)"))["beneficiary_reference_id"] as! String
                let booked = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                      body: T.body(["dose": 1, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": [reference]]))
                #expect(booked.status == .ok)
                if n % 3 == 0 {
                    let appointment = T.json(booked)["appointment_confirmation_no"] as! String
                    let cancelled = try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                             body: T.body(["appointment_id": appointment, "beneficiariesToCancel": [reference]]))
                    #expect(cancelled.status == .noContent || cancelled.status == .ok)
                }
            }
        }
    }

    /// What a restart must give back: the engine's bytes and the books.
    static func state(_ h: T.Harness) -> ([UInt8], TreeDictionary<String, BookingStore.Person>, TreeDictionary<String, BookingStore.Booked>,
                                          TreeDictionary<String, [String]>, TreeDictionary<String, String>) {
        let books = h.server.store.read { $0 }
        return (h.server.store.engine.snapshot(), books.people, books.appointments, books.accounts, books.idempotent)
    }

    static func same(_ a: T.Harness, _ b: T.Harness) -> Bool {
        let (x, y) = (state(a), state(b))
        return x.0 == y.0 && x.1 == y.1 && x.2 == y.2 && x.3 == y.3 && x.4 == y.4
    }

    @Test func aStartRestoresTheSnapshotAndReplaysOnlyWhatCameAfter() async throws {
        let h = try await T.harness(capacity: 40, snapshotEvery: 7)
        try await Self.book(h, count: 9, from: 0)  // 9 × 2 records + 3 cancellations + the header = 22
        try await Self.book(h, count: 2, from: 100)  // 26 in all
        // Periodic snapshots are written in the background: wait for the last one.
        let deadline = Date() + 30
        while h.server.store.read({ $0.snapshotting }), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let taken = try #require(StoreSnapshot.load(directory: h.directory).0).position.records
        #expect(taken >= 14 && taken <= 26 && taken == h.server.store.read { $0.snapshotRecords })

        // A crash-like stop: the journal closed, no snapshot at close (the periodic one stays).
        h.server.store.storage.close()
        let afterCrash = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 7)
        #expect(afterCrash.server.store.restored.fromSnapshot == taken && afterCrash.server.store.restored.replayed == 26 - taken)
        #expect(Self.same(h, afterCrash))
        afterCrash.server.close()  // a clean stop: a snapshot of everything

        let clean = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 7)
        #expect(clean.server.store.restored.fromSnapshot == 26 && clean.server.store.restored.replayed == 0)
        #expect(Self.same(h, clean))
        try await Self.book(clean, count: 1, from: 200)  // 2 records: 28 in all
        clean.server.close()

        // The whole journal without a snapshot gives the same state.
        let full = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 0)
        #expect(full.server.store.restored.fromSnapshot == nil && full.server.store.restored.replayed == 27)
        let withSnapshot = try await { () async throws -> T.Harness in
            full.server.close()
            return try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 7)
        }()
        #expect(withSnapshot.server.store.restored.fromSnapshot == 28)
        #expect(Self.same(full, withSnapshot))
        withSnapshot.server.close()
    }

    @Test func aDamagedOrForeignSnapshotIsIgnored() async throws {
        let h = try await T.harness(capacity: 40, snapshotEvery: 1000)
        try await Self.book(h, count: 4, from: 0)  // 4 × 2 + 2 cancellations + the header = 11 records
        h.server.close()
        let path = h.directory + "/" + StoreSnapshot.fileName
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let reference = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 0)
        reference.server.close()

        // A flipped byte: the checksum says so; the whole journal is replayed instead.
        var damaged = good
        damaged[damaged.count / 2] ^= 0x10
        try damaged.write(to: URL(fileURLWithPath: path))
        let afterDamage = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 1000)
        #expect(afterDamage.server.store.restored.fromSnapshot == nil && afterDamage.server.store.restored.replayed == 10)
        #expect(Self.same(reference, afterDamage))
        afterDamage.server.close()

        // Whole and of this journal, but its engine part does not restore (another policy's):
        // the whole journal is read again.
        var wrongEngine = try StoreSnapshot(decoding: [UInt8](good))
        wrongEngine.engine = try BookingEngine(policy: .standard(walkInShare: 0.5)).snapshot()
        try Data(wrongEngine.encoded()).write(to: URL(fileURLWithPath: path))
        let afterRefusal = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 1000)
        #expect(afterRefusal.server.store.restored.fromSnapshot == nil && afterRefusal.server.store.restored.replayed == 10)
        #expect(Self.same(reference, afterRefusal))
        afterRefusal.server.store.storage.close()

        // Cut short.
        try good.prefix(good.count / 3).write(to: URL(fileURLWithPath: path))
        let afterCut = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 1000)
        #expect(afterCut.server.store.restored.fromSnapshot == nil)
        #expect(Self.same(reference, afterCut))
        afterCut.server.store.storage.close()

        // Another data directory's snapshot, next to this journal.
        let other = try await T.harness(capacity: 40, snapshotEvery: 1000)
        try await Self.book(other, count: 6, from: 50)
        other.server.close()
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: other.directory + "/" + StoreSnapshot.fileName, toPath: path)
        let foreign = try await T.harness(capacity: 40, directory: h.directory, snapshotEvery: 1000)
        #expect(foreign.server.store.restored.fromSnapshot == nil)
        #expect(Self.same(reference, foreign))
        foreign.server.close()

        // --snapshot-every 0 writes none.
        let none = try await T.harness(capacity: 40, snapshotEvery: 0)
        try await Self.book(none, count: 2, from: 0)
        none.server.close()
        #expect(!FileManager.default.fileExists(atPath: none.directory + "/" + StoreSnapshot.fileName))
    }
}
