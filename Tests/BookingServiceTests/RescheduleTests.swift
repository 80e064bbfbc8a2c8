@testable import BookingService
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import SlotAllocation
import Testing

/// `POST /v2/appointment/reschedule`: every beneficiary of an appointment moves, or none
/// does; idempotency keys as on schedule and cancel; an appointment whose session has closed
/// stays put. On both stores, and (embedded) through a replay of the journal.
@Suite struct RescheduleTests {
    static func available(_ client: some TestClientProtocol) async throws -> [Int] {
        let sessions = ServerTests.json(try await client.execute(
            uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=\(ServerTests.tomorrow)", method: .get))["sessions"] as! [[String: Any]]
        return sessions.map { $0["available_capacity"] as! Int }
    }

    static func code(_ response: TestResponse) -> String? { ServerTests.json(response)["errorCode"] as? String }

    /// Logs in 9876543210, registers two people and books them together at district 1's first
    /// centre for tomorrow, 09:00–11:00: their token, the appointment and the first two sessions.
    static func bookAPair(_ client: some TestClientProtocol, _ h: ServerTests.Harness) async throws
        -> (auth: HTTPFields, appointment: String, a: String, b: String) {
        let token = try await ServerTests.login(client, h, mobile: "9876543210")
        let auth: HTTPFields = [.authorization: "Bearer \(token)"]
        var people: [String] = []
        for n in 0..<2 {
            people.append(ServerTests.json(try await ServerTests.register(client, token: token, name: "Person \(n)"))["beneficiary_reference_id"] as! String)
        }
        let sessions = ServerTests.json(try await client.execute(
            uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=\(ServerTests.tomorrow)", method: .get))["sessions"] as! [[String: Any]]
        let (a, b) = (sessions[0]["session_id"] as! String, sessions[1]["session_id"] as! String)
        let booked = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: ServerTests.body(
            ["dose": 1, "session_id": a, "slot": "09:00AM-11:00AM", "beneficiaries": people]))
        #expect(booked.status == .ok)
        return (auth, ServerTests.json(booked)["appointment_confirmation_no"] as! String, a, b)
    }

    @Test(arguments: ServerTests.stores) func anAppointmentMovesWholeOrNotAtAll(store: ServerTests.StoreKind) async throws {
        // 23:50 on the sessions' day (India): booking is open until midnight in this topology.
        let day1 = Calendar.ist.startOfDay(for: Date()) + 86_400
        let clock = TestClock()
        clock.set(day1 + 86_400 - 600)
        let h = try await ServerTests.harness(store: store, capacity: 2, clock: clock)
        let (appointment, b) = try await Application(router: h.server.router()).test(.live) { client in
            let (auth, appointment, a, b) = try await Self.bookAPair(client, h)
            // Someone else takes one of PHC B's two units: the pair no longer fits there.
            let other = try await ServerTests.login(client, h, mobile: "9123456780")
            let otherAuth: HTTPFields = [.authorization: "Bearer \(other)"]
            let stranger = ServerTests.json(try await ServerTests.register(client, token: other))["beneficiary_reference_id"] as! String
            let theirs = ServerTests.json(try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: otherAuth, body: ServerTests.body(
                ["dose": 1, "session_id": b, "slot": "09:00AM-11:00AM", "beneficiaries": [stranger]])))["appointment_confirmation_no"] as! String
            func move(_ session: String, _ slot: String, headers: HTTPFields = auth, id: String = appointment) async throws -> TestResponse {
                try await client.execute(uri: "/api/v2/appointment/reschedule", method: .post, headers: headers,
                                         body: ServerTests.body(["appointment_id": id, "session_id": session, "slot": slot]))
            }
            let full = try await move(b, "09:00AM-11:00AM")
            #expect(full.status == .conflict && Self.code(full) == "APPOIN0040")
            #expect(try await Self.available(client) == [0, 1], "nobody moved: the first person's move was undone")
            #expect(h.server.store.engine.invariantViolations().isEmpty)
            // Within the session: only the slot changes.
            #expect(try await move(a, "11:00AM-01:00PM").status == .noContent)
            #expect(h.server.store.read { $0.appointments[appointment]?.slot } == 1)
            #expect(try await Self.available(client) == [0, 1])
            // Once PHC B has room for both, they move together, under an idempotency key.
            #expect(try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: otherAuth,
                                             body: ServerTests.body(["appointment_id": theirs])).status == .noContent)
            var keyed = auth
            keyed[HTTPField.Name("Idempotency-Key")!] = "move-1"
            #expect(try await move(b, "01:00PM-03:00PM", headers: keyed).status == .noContent)
            #expect(try await Self.available(client) == [2, 0])
            #expect(try await move(b, "01:00PM-03:00PM", headers: keyed).status == .noContent, "a retry gets the first answer")
            let reused = try await move(a, "01:00PM-03:00PM", headers: keyed)
            #expect(reused.status == .unprocessableContent && Self.code(reused) == "USRRES0422")
            #expect(try await Self.available(client) == [2, 0])
            // Refusals that change nothing.
            #expect(Self.code(try await move(a, "09:00AM-11:00AM", headers: otherAuth)) == "APPOIN0044", "another mobile's appointment")
            #expect(Self.code(try await move(a, "08:00AM-09:00AM")) == "APPOIN0015")
            #expect(Self.code(try await move("no-such-session", "09:00AM-11:00AM")) == "APPOIN0018")
            let missing = try await client.execute(uri: "/api/v2/appointment/reschedule", method: .post, headers: auth,
                                                   body: ServerTests.body(["appointment_id": appointment, "session_id": a]))
            #expect(missing.status == .badRequest)
            #expect(try await move(a, "09:00AM-11:00AM", headers: [:]).status == .unauthorized)
            // After the session's booking has closed (at midnight here), it stays put; the token still works.
            clock.set(day1 + 86_400 + 60)
            let closed = try await move(a, "09:00AM-11:00AM")
            #expect(closed.status == .badRequest && Self.code(closed) == "APPOIN0049")
            #expect(h.server.store.read { $0.appointments[appointment].map { ($0.session, $0.slot) } }! == (b, 2))
            #expect(h.server.store.engine.invariantViolations().isEmpty)
            return (appointment, b)
        }
        h.server.close()
        guard store == .embedded else { return }
        let again = try await ServerTests.harness(store: store, capacity: 2, directory: h.directory, snapshotEvery: 0)
        defer { again.server.close() }
        let (session, slot) = try #require(again.server.store.read { $0.appointments[appointment].map { ($0.session, $0.slot) } })
        #expect(session == b && slot == 2, "the move is replayed")
        #expect(again.server.store.engine.invariantViolations().isEmpty)
    }

    /// A refused move leaves every category's count as it was, so a replay of the journal (which
    /// has no record of it) rebuilds the same state. Moving people back one by one would not:
    /// after the walk-in reserve is released to online at 13:00, a booking moved back would
    /// land in the reserve instead of the open category it left.
    @Test func aRefusedMoveChangesNoCategoryCount() async throws {
        let policy = AllocationPolicy(categories: [CapacityCategory(name: "walk-in", count: 1, channels: [.walkIn], releaseToOnlineAtSecondOfDay: 13 * 3_600),
                                                   CapacityCategory(name: "open")])
        let day1 = Calendar.ist.startOfDay(for: Date()) + 86_400
        let clock = TestClock()
        clock.set(day1 + 12.8 * 3_600)  // 12:48 on the sessions' day
        let h = try await ServerTests.harness(capacity: 3, clock: clock, snapshotEvery: 0, policy: policy)
        @Sendable func categories(_ server: BookingServer) -> [[Int]] {
            server.store.published.sessions.values.sorted { $0.id < $1.id }.map { s in
                server.store.engine.availability(s.index, now: server.now)!.categories.map(\.booked)
            }
        }
        let before = try await Application(router: h.server.router()).test(.live) { client in
            let (auth, appointment, _, b) = try await Self.bookAPair(client, h)
            // PHC B: a family takes both its open units; at 13:00 its walk-in unit opens to online.
            let other = try await ServerTests.login(client, h, mobile: "9123456780")
            var strangers: [String] = []
            for n in 0..<2 {
                strangers.append(ServerTests.json(try await ServerTests.register(client, token: other, name: "Other \(n)"))["beneficiary_reference_id"] as! String)
            }
            #expect(try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer \(other)"],
                                             body: ServerTests.body(["dose": 1, "session_id": b, "slot": "09:00AM-11:00AM", "beneficiaries": strangers])).status == .ok)
            clock.set(day1 + 13.1 * 3_600)  // 13:06: the reserves are online units now
            let before = categories(h.server)
            let refused = try await client.execute(uri: "/api/v2/appointment/reschedule", method: .post, headers: auth,
                                                   body: ServerTests.body(["appointment_id": appointment, "session_id": b, "slot": "01:00PM-03:00PM"]))
            #expect(refused.status == .conflict, "one unit left at PHC B for two people")
            #expect(categories(h.server) == before, "no count moved")
            return before
        }
        h.server.close()
        let again = try await ServerTests.harness(capacity: 3, directory: h.directory, clock: clock, snapshotEvery: 0, policy: policy)
        defer { again.server.close() }
        #expect(categories(again.server) == before, "the replay rebuilds the same counts")
    }
}
