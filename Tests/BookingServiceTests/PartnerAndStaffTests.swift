@testable import BookingService
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import SlotAllocation
import Testing

/// Partner keys (scopes, quotas, the partner OTP flow), centre staff (walk-ins, vaccinated,
/// no-shows), per-token limits, 405s and the metrics.
@Suite struct PartnerAndStaffTests {
    static let apiKey = HTTPField.Name("x-api-key")!

    struct Keys {
        var partners: [Partner] = []
        var keys: [String: String] = [:]
        mutating func add(_ name: String, _ scopes: [PartnerScope], quota: Int = 1_000, centers: [Int]? = nil) {
            let (key, partner) = Partner.generate(name: name, scopes: scopes, quotaPerMinute: quota, centers: centers)
            partners.append(partner)
            keys[name] = key
        }
        func headers(_ name: String, _ extra: HTTPFields = [:]) -> HTTPFields {
            var h = extra
            h[PartnerAndStaffTests.apiKey] = keys[name]!
            return h
        }
    }

    static func code(_ response: TestResponse) -> String? { ServerTests.json(response)["errorCode"] as? String }

    @Test(arguments: ServerTests.stores) func centreStaffCheckInVaccinateAndMarkNoShowsUnderTheSamePolicy(store: ServerTests.StoreKind) async throws {
        let keys = {
            var keys = Keys()
            keys.add("phc-a staff", [.checkin], centers: [500_000])
            keys.add("phc-b staff", [.checkin], centers: [500_001])
            keys.add("district admin", [.admin])
            return keys
        }()
        let clock = TestClock()
        let h = try await ServerTests.harness(store: store, partners: keys.partners, clock: clock)
        let day1 = Calendar.ist.startOfDay(for: Date()) + 86_400
        let (vaccinatedID, raviWalkIn) = try await Application(router: h.server.router()).test(.live) { client in
            let token = try await ServerTests.login(client, h, mobile: "9876543210")
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            var people: [String] = []
            for n in 0..<3 {
                people.append(ServerTests.json(try await ServerTests.register(client, token: token, name: "Person \(n)"))["beneficiary_reference_id"] as! String)
            }
            let session = try await ServerTests.firstSession(client)  // PHC A, day 1
            var appointments: [String] = []
            for person in [people[0], people[1]] {
                let booked = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: ServerTests.body(
                    ["dose": 1, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": [person]]))
                #expect(booked.status == .ok)
                appointments.append(ServerTests.json(booked)["appointment_confirmation_no"] as! String)
            }
            // Before the session's day, a walk-in is refused, with the same answer for anybody: one
            // with an appointment elsewhere, one without, and one who does not exist.
            var earlyCodes: [String?] = []
            for reference in [people[2], people[0], "99999999999999"] {
                let early = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: keys.headers("phc-a staff"),
                                                     body: ServerTests.body(["session_id": session, "dose": 1, "beneficiary_reference_id": reference]))
                #expect(early.status.code / 100 == 4, "walk-in on the wrong day")
                earlyCodes.append(Self.code(early))
            }
            #expect(Set(earlyCodes).count == 1 && earlyCodes[0] != nil, "\(earlyCodes)")
            let registeredBefore = h.server.store.read { $0.people.count }, engineBefore = h.server.store.engine.beneficiaryCount
            let earlyOnSite = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: keys.headers("phc-a staff"), body: ServerTests.body(
                ["session_id": session, "dose": 1, "mobile": "9123456781", "name": "Too Early", "birth_year": 1985, "gender_id": 1,
                 "photo_id_type": 1, "photo_id_number": "WXYZ9877"]))
            #expect(earlyOnSite.status.code / 100 == 4 && h.server.store.read { $0.people.count } == registeredBefore,
                    "a refused walk-in registers nobody")
            #expect(h.server.store.engine.beneficiaryCount == engineBefore, "not even in the engine")
            clock.set(day1 + 10.5 * 3600)  // 10:30 in India on day 1
            let walkIn = ["session_id": session, "dose": 1, "beneficiary_reference_id": people[2]] as [String: Any]
            let otherCentre = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: keys.headers("phc-b staff"), body: ServerTests.body(walkIn))
            #expect(otherCentre.status == .forbidden && Self.code(otherCentre) == "USRAUT0013")
            let noKey = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, body: ServerTests.body(walkIn))
            #expect(noKey.status == .unauthorized)
            let citizenAsStaff = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: keys.headers("district admin"), body: ServerTests.body(walkIn))
            #expect(citizenAsStaff.status == .forbidden && Self.code(citizenAsStaff) == "USRAUT0011")
            let admitted = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: keys.headers("phc-a staff"), body: ServerTests.body(walkIn))
            #expect(admitted.status == .ok, "\(ServerTests.json(admitted))")
            // Registered on the spot under another mobile, under an Idempotency-Key: the retry (after a
            // lost answer, say) gets the first walk-in, and registers and admits nobody again.
            let staffKeyed = keys.headers("phc-a staff", [HTTPField.Name("Idempotency-Key")!: "walk-ravi"])
            let ravi = ServerTests.body(["session_id": session, "dose": 1, "mobile": "9123456780", "name": "Ravi Kumar", "birth_year": 1985,
                                         "gender_id": 1, "photo_id_type": 1, "photo_id_number": "WXYZ9876"])
            let onSite = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: staffKeyed, body: ravi)
            #expect(onSite.status == .ok && (ServerTests.json(onSite)["beneficiary_reference_id"] as? String)?.count == 14)
            let peopleAfter = h.server.store.read { $0.people.count }
            let retried = try await client.execute(uri: "/api/v2/centre/walkin", method: .post, headers: staffKeyed, body: ravi)
            #expect(retried.status == .ok && ServerTests.json(retried)["appointment_id"] as? String == ServerTests.json(onSite)["appointment_id"] as? String
                    && ServerTests.json(retried)["beneficiary_reference_id"] as? String == ServerTests.json(onSite)["beneficiary_reference_id"] as? String)
            #expect(h.server.store.read { $0.people.count } == peopleAfter)
            // A key of another centre learns nothing: the same answer as for an unknown person.
            for reference in [people[0], "99999999999999"] {
                let elsewhere = try await client.execute(uri: "/api/v2/centre/vaccinated", method: .post, headers: keys.headers("phc-b staff"),
                                                         body: ServerTests.body(["beneficiary_reference_id": reference, "dose": 1]))
                #expect(elsewhere.status == .badRequest && Self.code(elsewhere) == "APPOIN0048")
            }
            // A record checked against the appointment at another session (as when a reschedule
            // moved it, keeping its number, between the centre check and the record) does not apply.
            let moved = await h.server.store.commit(.vaccinated(reference: people[0], dose: 1, now: h.server.now, appointment: appointments[0],
                                                                session: ServiceTopology.sessionID(center: 1, day: 1)))
            if case .failure(let error) = moved { #expect(error.code == "APPOIN0048") } else { Issue.record("a record for a moved appointment applied") }
            // Person 0 is vaccinated; person 1 did not come.
            let given = try await client.execute(uri: "/api/v2/centre/vaccinated", method: .post, headers: keys.headers("phc-a staff"),
                                                 body: ServerTests.body(["beneficiary_reference_id": people[0], "dose": 1]))
            #expect(given.status == .ok && ServerTests.json(given)["appointment_id"] as? String == appointments[0])
            let again = try await client.execute(uri: "/api/v2/centre/vaccinated", method: .post, headers: keys.headers("phc-a staff"),
                                                 body: ServerTests.body(["beneficiary_reference_id": people[0], "dose": 1]))
            #expect(again.status == .badRequest && Self.code(again) == "APPOIN0048")
            let absent = try await client.execute(uri: "/api/v2/centre/noshow", method: .post, headers: keys.headers("phc-a staff"),
                                                  body: ServerTests.body(["beneficiary_reference_id": people[1], "dose": 1]))
            #expect(absent.status == .ok)
            let cancelGiven = try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: auth,
                                                       body: ServerTests.body(["appointment_id": appointments[0]]))
            #expect(cancelGiven.status == .badRequest && Self.code(cancelGiven) == "APPOIN0046", "a given dose cannot be cancelled")
            // Dose 2 before its interval is refused with a reason, not impossible.
            let tooEarly = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: ServerTests.body(
                ["dose": 2, "session_id": ServiceTopology.sessionID(center: 0, day: 2), "slot": "09:00AM-11:00AM", "beneficiaries": [people[0]]]))
            #expect(tooEarly.status.code / 100 == 4 && Self.code(tooEarly) != nil)
            let mine = ServerTests.json(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: auth))["beneficiaries"] as! [[String: Any]]
            #expect(mine.first { $0["beneficiary_reference_id"] as? String == people[0] }?["vaccination_status"] as? String == "Partially Vaccinated")
            let report = try await client.execute(uri: "/api/v2/admin/sessions/report?district_id=1&date=\(ServerTests.tomorrow)", method: .get,
                                                  headers: keys.headers("district admin"))
            let first = (ServerTests.json(report)["sessions"] as? [[String: Any]])?.first
            #expect(first?["walk_ins"] as? Int == 2 && first?["vaccinated"] as? Int == 1 && first?["no_shows"] as? Int == 1, "\(String(describing: first))")
            let notAdmin = try await client.execute(uri: "/api/v2/admin/sessions/report?district_id=1&date=\(ServerTests.tomorrow)", method: .get,
                                                    headers: keys.headers("phc-a staff"))
            #expect(notAdmin.status == .forbidden)
            return (people[0], ServerTests.json(onSite)["appointment_id"] as! String)
        }
        h.server.close()
        // The staff records replay: a restart has the same counts and the same dose history.
        let again = try await ServerTests.harness(store: store, directory: h.directory, partners: keys.partners, clock: clock, postgres: h.postgresURL)
        defer { again.server.close() }
        let session = again.server.store.published.sessions[ServiceTopology.sessionID(center: 0, day: 1)]!
        let counts = again.server.store.engine.availability(session.index, now: again.server.now)!.categories[0]
        #expect(counts.walkIns == 2 && counts.vaccinated == 1 && counts.noShows == 1 && counts.booked == 1)
        let person = again.server.store.read { $0.people[vaccinatedID] }!
        #expect(again.server.store.engine.doses(of: person.engineID)?.dose1?.day == 1)
        // The keyed walk-in's answer outlives the restart: a late retry gets it, and changes nothing.
        try await Application(router: again.server.router()).test(.live) { client in
            let retried = try await client.execute(uri: "/api/v2/centre/walkin", method: .post,
                                                   headers: keys.headers("phc-a staff", [HTTPField.Name("Idempotency-Key")!: "walk-ravi"]),
                                                   body: ServerTests.body(["session_id": session.id, "dose": 1, "mobile": "9123456780", "name": "Ravi Kumar",
                                                                           "birth_year": 1985, "gender_id": 1, "photo_id_type": 1, "photo_id_number": "WXYZ9876"]))
            #expect(retried.status == .ok && ServerTests.json(retried)["appointment_id"] as? String == raviWalkIn)
        }
        #expect(again.server.store.engine.availability(session.index, now: again.server.now)!.categories[0].walkIns == 2)
    }

    @Test func partnerKeysHaveScopesQuotasAndTheirOwnTokens() async throws {
        let keys = {
            var keys = Keys()
            keys.add("booking app", [.book, .publicRead], quota: 8)
            keys.add("other app", [.book])
            keys.add("reader", [.publicRead])
            keys.add("large app", [.book], quota: 1_000)
            return keys
        }()
        let h = try await ServerTests.harness(rateLimit: 2, partners: keys.partners, tokenRateLimit: 3)
        try await Application(router: h.server.router()).test(.live) { client in
            let mobile = ServerTests.body(["mobile": "9988776655"])
            let none = try await client.execute(uri: "/api/v2/auth/generateOTP", method: .post, body: mobile)
            #expect(none.status == .unauthorized && Self.code(none) == "USRAUT0009")
            var bad = HTTPFields()
            bad[Self.apiKey] = "sk_not-a-key"
            let wrong = try await client.execute(uri: "/api/v2/auth/generateOTP", method: .post, headers: bad, body: mobile)
            #expect(wrong.status == .unauthorized && Self.code(wrong) == "USRAUT0010")
            let scope = try await client.execute(uri: "/api/v2/auth/generateOTP", method: .post, headers: keys.headers("reader"), body: mobile)
            #expect(scope.status == .forbidden && Self.code(scope) == "USRAUT0011")
            // The partner flow (request 1 and 2 of the app's quota of 8).
            let txn = ServerTests.json(try await client.execute(uri: "/api/v2/auth/generateOTP", method: .post, headers: keys.headers("booking app"), body: mobile))["txnId"] as! String
            let otp = Vault.sha256Hex(h.sender.otp(txn)!)
            let viaOther = try await client.execute(uri: "/api/v2/auth/confirmOTP", method: .post, headers: keys.headers("other app"),
                                                    body: ServerTests.body(["otp": otp, "txnId": txn]))
            #expect(viaOther.status == .unauthorized, "a partner's transaction is confirmed by that partner only")
            let confirmed = try await client.execute(uri: "/api/v2/auth/confirmOTP", method: .post, headers: keys.headers("booking app"),
                                                     body: ServerTests.body(["otp": otp, "txnId": txn]))
            #expect(confirmed.status == .ok)
            let token = ServerTests.json(confirmed)["token"] as! String
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: auth).status == .unauthorized,
                    "a partner's token needs the partner's key")
            let otherKey = try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: keys.headers("other app", auth))
            #expect(otherKey.status == .forbidden && Self.code(otherKey) == "USRAUT0012")
            #expect(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: keys.headers("booking app", auth)).status == .ok)
            // Public reads with a key count against the quota (requests 4 to 8), not the per-address limit of 2.
            for _ in 0..<5 {
                let states = try await client.execute(uri: "/api/v2/admin/location/states", method: .get, headers: keys.headers("booking app"))
                #expect(states.status == .ok)
            }
            let over = try await client.execute(uri: "/api/v2/admin/location/states", method: .get, headers: keys.headers("booking app"))
            #expect(over.status == .tooManyRequests && Self.code(over) == "USRRES0430", "the 9th request of a quota of 8")
            // A public-flow token has its own limit (3 a minute here).
            let citizen = try await ServerTests.login(client, h, mobile: "9876501234")
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(Int(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get,
                                                             headers: [.authorization: "Bearer \(citizen)"]).status.code))
            }
            #expect(statuses == [200, 200, 200, 429])
            // So has a partner-flow token, whatever its partner's quota: one citizen cannot use it all up.
            let largeTxn = ServerTests.json(try await client.execute(uri: "/api/v2/auth/generateOTP", method: .post, headers: keys.headers("large app"),
                                                                     body: ServerTests.body(["mobile": "9988776600"])))["txnId"] as! String
            let largeToken = ServerTests.json(try await client.execute(uri: "/api/v2/auth/confirmOTP", method: .post, headers: keys.headers("large app"),
                                                                       body: ServerTests.body(["otp": Vault.sha256Hex(h.sender.otp(largeTxn)!), "txnId": largeTxn])))["token"] as! String
            var partnerStatuses: [String] = []
            for _ in 0..<4 {
                let r = try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get,
                                                 headers: keys.headers("large app", [.authorization: "Bearer \(largeToken)"]))
                partnerStatuses.append(Self.code(r) ?? "\(r.status.code)")
            }
            #expect(partnerStatuses == ["200", "200", "200", "USRRES0431"])
            let address = try await client.execute(uri: "/api/v2/admin/location/states", method: .get)
            #expect(address.status == .tooManyRequests && Self.code(address) == "USRRES0429", "the 3rd keyless public call from this address")
            // A known path with the wrong method: 405 with Allow.
            let method = try await client.execute(uri: "/api/v2/appointment/schedule", method: .get)
            #expect(method.status == .methodNotAllowed && method.headers[.allow] == "POST" && Self.code(method) == "USRRES405")
        }
        let metrics = String(decoding: h.server.metrics.text(), as: UTF8.self)
        #expect(metrics.contains("slotsim_http_requests_total{route=\"/api/v2/admin/location/states\",method=\"GET\",status=\"429\"} 2"), "\(metrics.prefix(2_000))")
        #expect(metrics.contains("slotsim_refusals_total{code=\"USRRES0430\"} 1"))
        #expect(metrics.contains("slotsim_http_request_duration_seconds_bucket{route=\"/api/v2/admin/location/states\""))
        #expect(!metrics.contains("9988776655") && !metrics.contains(keys.keys["booking app"]!), "no personal data or keys in metrics")
        // The admin listener serves them in the Prometheus text format.
        try await Application(router: h.server.adminRouter()).test(.router) { client in
            let scrape = try await client.execute(uri: "/metrics", method: .get)
            #expect(scrape.status == .ok && scrape.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(String(buffer: scrape.body).contains("# TYPE slotsim_refusals_total counter"))
        }
        h.server.close()
    }

    @Test func partnersFilesAreChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-partners-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func load(_ text: String) -> String {
            let path = dir.appendingPathComponent("p.json").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do {
                _ = try PartnersFile.load(path: path)
                return "ok"
            } catch { return "\(error)" }
        }
        let hash = String(repeating: "a", count: 64)
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "\#(hash)", "scopes": ["book"], "quotaPerMinute": 10}]}"#) == "ok")
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "\#(hash)", "scopes": ["root"], "quotaPerMinute": 10}]}"#).contains("partners[0].scopes[0]"))
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "abc", "scopes": ["book"], "quotaPerMinute": 10}]}"#).contains("partners[0].keySHA256"))
        #expect(load(#"{"partners": [{"name": "x", "scopes": ["book"], "quotaPerMinute": 10}]}"#).contains("partners[0].keySHA256: missing"))
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "\#(hash)", "scopes": ["book"], "quotaPerMinute": 10, "centers": [1]}]}"#).contains("centers"))
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "\#(hash)", "scopes": ["checkin"], "quotaPerMinute": 10}]}"#).contains("allCenters"),
                "a checkin key acting for every centre is said, not defaulted")
        #expect(load(#"{"partners": [{"name": "x", "keySHA256": "\#(hash)", "scopes": ["checkin"], "quotaPerMinute": 10, "allCenters": true}]}"#) == "ok")
        #expect(load("not json").contains("p.json"))
        // 64 characters but 256 bytes: names are sealed into tokens, so they are counted in bytes.
        let wide = String(repeating: "💉", count: 64)
        #expect(load(#"{"partners": [{"name": "\#(wide)", "keySHA256": "\#(hash)", "scopes": ["book"], "quotaPerMinute": 10}]}"#)
            .contains("partners[0].name: expected 1 to 64 bytes"))
    }
}
