@testable import BookingService
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import SlotAllocation
import Synchronization
import Testing

/// Collects OTPs in memory, as a test's SMS gateway.
final class MemoryOTPSender: OTPSender {
    let codes = Mutex([String: String]())
    func send(otp: String, mobile: String, transaction: String) { codes.withLock { $0[transaction] = otp } }
    func otp(_ transaction: String) -> String? { codes.withLock { $0[transaction] } }
}

/// A clock a test can set (nil: the real time).
final class TestClock: Sendable {
    let fixed = Mutex<Date?>(nil)
    var now: Date { fixed.withLock { $0 } ?? Date() }
    func set(_ date: Date?) { fixed.withLock { $0 = date } }
}

/// The server in process, on a live socket, against the API's contract.
@Suite struct ServerTests {
    static func topology(capacity: Int = 50, policy given: AllocationPolicy? = nil) -> ServiceTopology {
        var policy = given ?? AllocationPolicy.singleCategory()
        policy.bookingCloseSecondOfDay = 86_400
        return ServiceTopology(stateName: "Test", districts: [
            .init(name: "North", centers: [
                .init(name: "PHC A", vaccine: 0, capacityPerDay: capacity, minAge: 18, maxAge: 44, slots: SlotWindow.cowinDay),
                .init(name: "PHC B", vaccine: 1, capacityPerDay: capacity, minAge: 18, maxAge: nil, slots: SlotWindow.cowinDay),
            ]),
            .init(name: "South", centers: [.init(name: "CHC C", vaccine: 0, capacityPerDay: capacity, minAge: 45, maxAge: nil, slots: SlotWindow.cowinDay)]),
        ], days: 4, policy: policy)
    }

    /// Where a test server keeps its changes: the contract tests run on both.
    enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case embedded, postgres
        var testDescription: String { rawValue }
    }

    /// The PostgreSQL server of `scripts/with-postgres.sh` (make test starts one).
    static let postgresURL = ProcessInfo.processInfo.environment["SLOTSIM_TEST_POSTGRES_URL"]
    /// Every store this run can test: PostgreSQL only with a server.
    static let stores: [StoreKind] = postgresURL == nil ? [.embedded] : [.embedded, .postgres]

    struct Harness {
        let server: BookingServer
        let sender: MemoryOTPSender
        let directory: String
        /// The PostgreSQL store's URL with its own schema (nil: embedded).
        let postgresURL: String?
    }

    /// A new PostgreSQL schema for one test's store.
    static func freshPostgresURL() throws -> String {
        guard let base = postgresURL else { throw ServiceError.configuration("SLOTSIM_TEST_POSTGRES_URL is not set (run through scripts/with-postgres.sh)") }
        return base + (base.contains("?") ? "&" : "?") + "schema=t_" + Vault.randomHex(bytes: 8)
    }

    static func harness(store: StoreKind = .embedded, capacity: Int = 50, rateLimit: Int = 10_000, directory: String? = nil, cacheSeconds: Int = 0,
                        partners: [Partner] = [], tokenRateLimit: Int = 10_000, clock: TestClock? = nil,
                        postgres: String? = nil, key: UInt8 = 7, snapshotEvery: Int = 100_000, pageSize: Int = 100,
                        trustedProxies: [String] = [], policy: AllocationPolicy? = nil) async throws -> Harness {
        let sender = MemoryOTPSender()
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-serve-\(UUID().uuidString)").path
        var configuration = ServiceConfiguration(dataDirectory: dir, dataKey: Data(repeating: key, count: 32),
                                                 startDate: Date() - 86_400 * 0, otpSender: sender)
        configuration.rateLimit = rateLimit
        configuration.cacheSeconds = cacheSeconds
        configuration.partners = partners
        configuration.tokenRateLimit = tokenRateLimit
        configuration.snapshotEvery = snapshotEvery
        configuration.pageSize = pageSize
        configuration.trustedProxies = trustedProxies
        if let clock { configuration.clock = { clock.now } }
        configuration.postgresURL = try postgres ?? (store == .postgres ? freshPostgresURL() : nil)
        return Harness(server: try await BookingServer.start(topology: topology(capacity: capacity, policy: policy), configuration: configuration), sender: sender,
                       directory: dir, postgresURL: configuration.postgresURL)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    static func body(_ object: [String: Any]) -> ByteBuffer { ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object)) }

    static var tomorrow: String { API.dateText(day: 1, epoch: Calendar.ist.startOfDay(for: Date())) }

    /// Logs in `mobile` and returns a bearer token.
    static func login(_ client: some TestClientProtocol, _ h: Harness, mobile: String) async throws -> String {
        let txn = json(try await client.execute(uri: "/api/v2/auth/public/generateOTP", method: .post, body: body(["mobile": mobile])))["txnId"] as! String
        let otp = h.sender.otp(txn)!
        let confirmed = try await client.execute(uri: "/api/v2/auth/public/confirmOTP", method: .post,
                                                 body: body(["otp": Vault.sha256Hex(otp), "txnId": txn]))
        #expect(confirmed.status == .ok)
        return json(confirmed)["token"] as! String
    }

    static func register(_ client: some TestClientProtocol, token: String, name: String = "Asha Devi", birthYear: Int = 1990) async throws -> TestResponse {
        try await client.execute(uri: "/api/v2/registration/beneficiary/new", method: .post, headers: [.authorization: "Bearer \(token)"],
                                 body: body(["name": name, "birth_year": birthYear, "gender_id": 2, "photo_id_type": 1, "photo_id_number": "ABCD1234"]))
    }

    /// Logs in `count` new mobiles (`prefix` then 10, 11, …), registers one person each and
    /// books them into `session`; each booking must succeed.
    static func bookNewPeople(_ client: some TestClientProtocol, _ h: Harness, count: Int, session: String, prefix: String = "98765432",
                              name: (Int) -> String = { _ in "Asha Devi" }) async throws {
        for n in 0..<count {
            let token = try await login(client, h, mobile: prefix + "\(10 + n)")
            let reference = json(try await register(client, token: token, name: name(n)))["beneficiary_reference_id"] as! String
            let r = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer \(token)"],
                                             body: body(["dose": 1, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": [reference]]))
            #expect(r.status == .ok)
        }
    }

    /// Every person on a connection of their own, all connected at once: each asks `asks`
    /// times to book `session` (the test framework's client has one connection, which would
    /// send the requests one after the other). Returns every status.
    static func race(_ people: [(port: Int, token: String, reference: String)], session: String, asks: Int = 2) async throws -> [Int] {
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for person in people {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: person.port) { connection in
                        var statuses: [Int] = []
                        for _ in 0..<asks {
                            let r = try await connection.post("/api/v2/appointment/schedule", headers: [.authorization: "Bearer \(person.token)"],
                                                              body: body(["dose": 1, "session_id": session, "slot": "11:00AM-01:00PM",
                                                                          "beneficiaries": [person.reference]]))
                            statuses.append(r.head.status.code)
                        }
                        return statuses
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
    }

    static func firstSession(_ client: some TestClientProtocol, district: Int = 1) async throws -> String {
        let sessions = json(try await client.execute(uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=\(district)&date=\(tomorrow)",
                                                     method: .get))["sessions"] as! [[String: Any]]
        return sessions[0]["session_id"] as! String
    }

    @Test(arguments: stores) func publicEndpointsFollowTheContract(store: StoreKind) async throws {
        let h = try await Self.harness(store: store, cacheSeconds: 5)
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            let states = Self.json(try await client.execute(uri: "/api/v2/admin/location/states", method: .get))
            #expect((states["states"] as? [[String: Any]])?.first?["state_id"] as? Int == 1)
            let districts = Self.json(try await client.execute(uri: "/api/v2/admin/location/districts/1", method: .get))["districts"] as? [[String: Any]]
            #expect(districts?.map { $0["district_name"] as? String } == ["North", "South"])
            let found = try await client.execute(uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=\(Self.tomorrow)", method: .get)
            #expect(found.status == .ok && found.headers[.cacheControl] == "public, max-age=5")
            let sessions = Self.json(found)["sessions"] as! [[String: Any]]
            #expect(sessions.count == 2)
            for key in ["center_id", "name", "address", "state_name", "district_name", "block_name", "pincode", "from", "to", "fee_type",
                        "session_id", "date", "available_capacity", "available_capacity_dose1", "available_capacity_dose2", "min_age_limit",
                        "vaccine", "slots"] {
                #expect(sessions[0][key] != nil, "findByDistrict lacks \(key)")
            }
            #expect(sessions[0]["available_capacity"] as? Int == 50 && sessions[0]["max_age_limit"] as? Int == 44 && sessions[1]["max_age_limit"] == nil)
            let calendar = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/calendarByDistrict?district_id=1&date=\(Self.tomorrow)",
                                                              method: .get))["centers"] as! [[String: Any]]
            #expect((calendar[0]["sessions"] as! [Any]).count == 3, "days 1, 2 and 3 of a 4-day topology")
            // By pincode: the centres with that pincode, in the same shapes.
            let pincode = try #require(sessions[1]["pincode"] as? Int)
            let byPin = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/findByPin?pincode=\(pincode)&date=\(Self.tomorrow)",
                                                           method: .get))["sessions"] as! [[String: Any]]
            #expect(byPin.map { $0["session_id"] as? String } == [sessions[1]["session_id"] as? String])
            let calendarByPin = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/calendarByPin?pincode=\(pincode)&date=\(Self.tomorrow)",
                                                                   method: .get))["centers"] as! [[String: Any]]
            #expect(calendarByPin.count == 1 && calendarByPin[0]["center_id"] as? Int == sessions[1]["center_id"] as? Int
                    && (calendarByPin[0]["sessions"] as! [Any]).count == 3)
            let nowhere = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/findByPin?pincode=999999&date=\(Self.tomorrow)", method: .get))
            #expect((nowhere["sessions"] as? [Any])?.isEmpty == true, "a pincode without centres has no sessions")
            for bad in ["11000", "1100011", "abcdef", "099999", "-11000", ""] {
                let refused = try await client.execute(uri: "/api/v2/appointment/sessions/public/findByPin?pincode=\(bad)&date=\(Self.tomorrow)", method: .get)
                #expect(refused.status == .badRequest && Self.json(refused)["errorCode"] is String, "pincode \(bad)")
            }
            for (uri, status) in [("/api/v2/appointment/sessions/public/findByDistrict?district_id=9&date=\(Self.tomorrow)", 400),
                                  ("/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=2021-05-01", 400),
                                  ("/api/v2/admin/location/districts/2", 400), ("/api/v2/nothing", 404), ("/api/v2/appointment/beneficiaries", 401)] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(Int(response.status.code) == status, "\(uri)")
                #expect(Self.json(response)["errorCode"] is String, "\(uri): an error has a JSON body")
            }
        }
    }

    @Test(arguments: stores) func citizensLogInRegisterBookAndCancel(store: StoreKind) async throws {
        let h = try await Self.harness(store: store)
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            let wrong = try await client.execute(uri: "/api/v2/auth/public/generateOTP", method: .post, body: Self.body(["mobile": "12345"]))
            #expect(wrong.status == .badRequest)
            let token = try await Self.login(client, h, mobile: "9876543210")
            let resend = try await client.execute(uri: "/api/v2/auth/public/generateOTP", method: .post, body: Self.body(["mobile": "9876543210"]))
            #expect(resend.status == .tooManyRequests && resend.headers[.retryAfter] != nil, "one OTP per mobile per 3 minutes")
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            var references: [String] = []
            for n in 0..<4 {
                // The first under an Idempotency-Key, sent three times: one beneficiary, one answer.
                var headers: HTTPFields = [.authorization: "Bearer \(token)"]
                if n == 0 { headers[HTTPField.Name("Idempotency-Key")!] = "reg-1" }
                let person = Self.body(["name": "Person \(n)", "birth_year": 1990, "gender_id": 2, "photo_id_type": 1, "photo_id_number": "ABCD1234"])
                let r = try await client.execute(uri: "/api/v2/registration/beneficiary/new", method: .post, headers: headers, body: person)
                #expect(r.status == .ok)
                references.append(Self.json(r)["beneficiary_reference_id"] as! String)
                if n == 0 {
                    let retry = try await client.execute(uri: "/api/v2/registration/beneficiary/new", method: .post, headers: headers, body: person)
                    #expect(Self.json(retry)["beneficiary_reference_id"] as? String == references[0], "a retry gets the first answer")
                    let other = try await client.execute(uri: "/api/v2/registration/beneficiary/new", method: .post, headers: headers,
                                                         body: Self.body(["name": "Someone Else", "birth_year": 1990, "gender_id": 2, "photo_id_type": 1, "photo_id_number": "ABCD1234"]))
                    #expect(other.status == .unprocessableContent && Self.json(other)["errorCode"] as? String == "USRRES0422")
                }
            }
            #expect(references.allSatisfy { $0.count == 14 })
            let fifth = try await Self.register(client, token: token)
            #expect(fifth.status == .badRequest && Self.json(fifth)["errorCode"] as? String == "BENREG0004")
            let session = try await Self.firstSession(client)
            var headers = auth
            headers[HTTPField.Name("Idempotency-Key")!] = "k1"
            let request = ["dose": 1, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": Array(references[0..<2])] as [String: Any]
            let booked = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: headers, body: Self.body(request))
            #expect(booked.status == .ok)
            let appointment = Self.json(booked)["appointment_confirmation_no"] as! String
            let again = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: headers, body: Self.body(request))
            #expect(Self.json(again)["appointment_confirmation_no"] as? String == appointment, "same idempotency key, same answer")
            var reordered = request
            reordered["beneficiaries"] = [references[1], references[0]]
            let sameSet = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: headers, body: Self.body(reordered))
            #expect(Self.json(sameSet)["appointment_confirmation_no"] as? String == appointment, "the beneficiaries are a set: a retry may reorder them")
            var otherSlot = request
            otherSlot["slot"] = "11:00AM-01:00PM"
            let reused = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: headers, body: Self.body(otherSlot))
            #expect(reused.status == .unprocessableContent && Self.json(reused)["errorCode"] as? String == "USRRES0422")
            let twice = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: Self.body(request))
            #expect(twice.status == .conflict && Self.json(twice)["errorCode"] as? String == "APPOIN0043")
            var badSlot = request
            badSlot["slot"] = "08:00AM-09:00AM"
            #expect(try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: Self.body(badSlot)).status == .badRequest)
            let available = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=\(Self.tomorrow)",
                                                               method: .get))["sessions"] as! [[String: Any]]
            #expect(available[0]["available_capacity"] as? Int == 48)
            let mine = Self.json(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: auth))["beneficiaries"] as! [[String: Any]]
            #expect(mine.count == 4 && mine.contains { $0["name"] as? String == "Person 0" })
            // Another mobile sees none of them and cannot book them.
            let other = try await Self.login(client, h, mobile: "9123456780")
            let theirs = Self.json(try await client.execute(uri: "/api/v2/appointment/beneficiaries", method: .get, headers: [.authorization: "Bearer \(other)"]))
            #expect((theirs["beneficiaries"] as? [Any])?.isEmpty == true)
            var stolen = request
            stolen["beneficiaries"] = [references[2]]
            #expect(try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer \(other)"],
                                             body: Self.body(stolen)).status == .badRequest)
            let twiceOver = try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: auth,
                                                     body: Self.body(["appointment_id": appointment, "beneficiariesToCancel": [references[0], references[0]]]))
            #expect(twiceOver.status == .badRequest, "one beneficiary twice is refused before anything changes")
            #expect(h.server.store.engine.invariantViolations().isEmpty && h.server.store.read { $0.appointments[appointment]?.beneficiaries.count } == 2)
            var cancelHeaders = auth
            cancelHeaders[HTTPField.Name("Idempotency-Key")!] = "c1"
            let cancelFirst = Self.body(["appointment_id": appointment, "beneficiariesToCancel": [references[0]]])
            let cancelled = try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: cancelHeaders, body: cancelFirst)
            #expect(cancelled.status == .noContent)
            #expect(try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: cancelHeaders, body: cancelFirst).status == .noContent,
                    "a retry under the same key gets the same answer")
            // The same key for another beneficiary is a different request: refused, and nothing is cancelled.
            let cancelOther = try await client.execute(uri: "/api/v2/appointment/cancel", method: .post, headers: cancelHeaders,
                                                       body: Self.body(["appointment_id": appointment, "beneficiariesToCancel": [references[1]]]))
            #expect(cancelOther.status == .unprocessableContent && Self.json(cancelOther)["errorCode"] as? String == "USRRES0422")
            #expect(h.server.store.read { $0.appointments[appointment]?.beneficiaries } == [references[1]])
            let after = Self.json(try await client.execute(uri: "/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=\(Self.tomorrow)",
                                                           method: .get))["sessions"] as! [[String: Any]]
            #expect(after[0]["available_capacity"] as? Int == 49)
        }
        let metrics = String(decoding: h.server.metrics.text(), as: UTF8.self)
        #expect(metrics.contains("slotsim_bookings_total{channel=\"online\"} 6"), "two people booked, and the answer repeated twice under its key")
    }

    /// No call lists more than a page: a district's sessions and centres come page by page,
    /// the headers say how many there are, and every page is cached on its own.
    @Test func availabilityComesInCappedPages() async throws {
        let h = try await Self.harness(cacheSeconds: 120, pageSize: 1)  // long enough for any CI machine
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            func get(_ path: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v2/appointment/sessions/public/\(path)&date=\(Self.tomorrow)", method: .get)
            }
            var seen: [String] = []
            for page in 1...2 {
                let r = try await get("findByDistrict?district_id=1&page=\(page)")
                let sessions = Self.json(r)["sessions"] as! [[String: Any]]
                #expect(sessions.count == 1 && r.headers[HTTPField.Name("X-Total-Count")!] == "2" && r.headers[HTTPField.Name("X-Page-Count")!] == "2")
                seen += sessions.map { $0["session_id"] as! String }
            }
            #expect(Set(seen).count == 2, "the two pages hold the district's two sessions")
            let first = try await get("findByDistrict?district_id=1")
            #expect((Self.json(first)["sessions"] as! [[String: Any]]).map { $0["session_id"] as! String } == [seen[0]], "page 1 is the default")
            #expect((Self.json(try await get("findByDistrict?district_id=1&page=3"))["sessions"] as! [Any]).isEmpty, "past the last page: empty")
            let calendar = try await get("calendarByDistrict?district_id=1&page=2")
            #expect((Self.json(calendar)["centers"] as! [Any]).count == 1 && calendar.headers[HTTPField.Name("X-Total-Count")!] == "2")
            // Cached: a booking made meanwhile shows in a page not asked for before, not in one already served.
            let session = try #require(h.server.store.published.sessions[seen[0]])
            let someone = try h.server.store.engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990))
            let booked = h.server.store.engine.book(someone, session: session.index, slot: 0, dose: .one, now: h.server.now)
            #expect((try? booked.get()) != nil)
            func capacity(_ r: TestResponse) -> Int? { (Self.json(r)["sessions"] as? [[String: Any]])?.first?["available_capacity"] as? Int }
            #expect(capacity(try await get("findByDistrict?district_id=1&page=1")) == capacity(first), "served from the cache")
            let pincode = try #require((Self.json(first)["sessions"] as? [[String: Any]])?.first?["pincode"] as? Int)
            #expect(capacity(try await get("findByPin?pincode=\(pincode)")) == capacity(first)! - 1, "a query not cached yet: computed now")
            for bad in ["0", "-1", "x", "100001", "1.5"] {
                let refused = try await get("findByDistrict?district_id=1&page=\(bad)")
                #expect(refused.status == .badRequest && Self.json(refused)["errorCode"] is String, "page \(bad)")
            }
        }
    }

    @Test(arguments: stores) func malformedRequestsGetA4xxWithAJSONBody(store: StoreKind) async throws {
        let h = try await Self.harness(store: store)
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            let token = try await Self.login(client, h, mobile: "9876543210")
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            let cases: [(String, ByteBuffer)] = [
                ("not json", ByteBuffer(string: "{oops")),
                ("an array", ByteBuffer(string: "[1,2]")),
                ("wrong type", Self.body(["dose": "one", "session_id": "x", "slot": "y", "beneficiaries": ["1"]])),
                ("a boolean for a number", Self.body(["dose": true, "session_id": "x", "slot": "y", "beneficiaries": ["1"]])),
                ("false for a number", Self.body(["dose": false, "session_id": "x", "slot": "y", "beneficiaries": ["1"]])),
                ("unknown field", Self.body(["dose": 1, "session_id": "x", "slot": "y", "beneficiaries": ["1"], "admin": true])),
                ("missing field", Self.body(["dose": 1])),
                ("huge body", ByteBuffer(string: "{\"dose\": \"" + String(repeating: "x", count: 100_000) + "\"}")),
                ("too many beneficiaries", Self.body(["dose": 1, "session_id": "x", "slot": "y", "beneficiaries": ["1", "2", "3", "4", "5"]])),
            ]
            for (what, body) in cases {
                let response = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: auth, body: body)
                #expect((400..<500).contains(Int(response.status.code)), "\(what): \(response.status)")
                #expect(Self.json(response)["errorCode"] is String, "\(what): JSON error body")
            }
            let expired = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer nope"],
                                                   body: Self.body(["dose": 1]))
            #expect(expired.status == .unauthorized)
        }
    }

    /// Behind a trusted load balancer, each client named by X-Forwarded-For has its own limit;
    /// from any other peer the header is ignored (a client cannot pick whom it counts against).
    @Test(arguments: [true, false]) func aTrustedProxyNamesTheClient(trusted: Bool) async throws {
        let h = try await Self.harness(rateLimit: 2, trustedProxies: trusted ? ["127.0.0.1", "10.0.0.9"] : ["10.0.0.9"])
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            func status(_ forwarded: String) async throws -> Int {
                Int(try await client.execute(uri: "/api/v2/admin/location/states", method: .get,
                                             headers: [HTTPField.Name("X-Forwarded-For")!: forwarded]).status.code)
            }
            var statuses: [Int] = []
            for forwarded in ["203.0.113.1", "203.0.113.1:5678", "198.51.100.7, 203.0.113.1", "203.0.113.2", "203.0.113.2, 10.0.0.9",
                              "2001:db8::1", "[2001:db8::2]:443"] {
                statuses.append(try await status(forwarded))
            }
            // Trusted: 203.0.113.1 three times (the right-most entry counts, ports aside), 203.0.113.2
            // twice (10.0.0.9 is a trusted hop), one IPv6 /64 twice. Untrusted: one peer, limit 2.
            #expect(statuses == (trusted ? [200, 200, 429, 200, 200, 200, 200] : [200, 200, 429, 429, 429, 429, 429]), "\(statuses)")
        }
    }

    @Test func publicCallsAreRateLimitedPerAddress() async throws {
        let h = try await Self.harness(rateLimit: 5)
        try await Application(router: h.server.router()).test(.live) { client in
            for _ in 0..<5 { #expect(try await client.execute(uri: "/api/v2/admin/location/states", method: .get).status == .ok) }
            let limited = try await client.execute(uri: "/api/v2/admin/location/states", method: .get)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil && Self.json(limited)["errorCode"] as? String == "USRRES0429")
        }
    }

    /// Hundreds of clients race for one session: exactly its capacity is booked, nobody twice.
    @Test(arguments: stores) func racingClientsGetExactlyTheCapacity(store: StoreKind) async throws {
        let h = try await Self.harness(store: store, capacity: 40)
        defer { h.server.close() }
        try await Application(router: h.server.router()).test(.live) { client in
            let session = try await Self.firstSession(client)
            var people: [(port: Int, token: String, reference: String)] = []
            for n in 0..<200 {
                let token = try await Self.login(client, h, mobile: "9\(String(format: "%09d", n))")
                let reference = Self.json(try await Self.register(client, token: token))["beneficiary_reference_id"] as! String
                people.append((try #require(client.port), token, reference))
            }
            let statuses = try await Self.race(people, session: session)  // 200 connections, each asking twice
            #expect(statuses.count == 400 && statuses.filter { $0 == 200 }.count == 40)
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 })
            #expect(h.server.store.engine.invariantViolations().isEmpty)
            let booked = h.server.store.read { $0.appointments.values.flatMap(\.beneficiaries) }
            #expect(booked.count == 40 && Set(booked).count == 40, "nobody booked twice")
        }
    }

    /// Acknowledged changes survive a restart from the journal; a torn tail is cut off; no
    /// mobile number, name or photo-id number is stored in the clear.
    @Test func theJournalRebuildsTheStateAndHoldsNoPlaintext() async throws {
        let h = try await Self.harness(capacity: 10)
        let session = try await Application(router: h.server.router()).test(.live) { client in
            let session = try await Self.firstSession(client)
            try await Self.bookNewPeople(client, h, count: 6, session: session) { "Secret Name \($0)" }
            return session
        }
        h.server.close()
        let journal = h.directory + "/journal.log"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(FileManager.default.fileExists(atPath: h.directory + "/snapshot.bin"), "a clean stop leaves a snapshot")
        for file in try FileManager.default.contentsOfDirectory(atPath: h.directory) {
            let stored = try Data(contentsOf: URL(fileURLWithPath: h.directory + "/" + file))
            for secret in ["9876543210", "Secret Name", "ABCD1234"] {
                #expect(stored.range(of: Data(secret.utf8)) == nil, "\(secret) is in \(file) in the clear")
            }
        }
        // A torn tail: half a record.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal))
        handle.seekToEndOfFile()
        handle.write(Data([200, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]))
        try handle.close()
        let again = try await Self.harness(capacity: 10, directory: h.directory)
        let index = again.server.store.published.sessions[session]!.index
        #expect(again.server.store.engine.availability(index, now: again.server.now)?.availableCapacity == 4)
        #expect(again.server.store.read { $0.appointments.count } == 6)
        let cut = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(cut.count == bytes.count, "the torn tail was cut off")
        // One server per data directory.
        await #expect(throws: ServiceError.self) { try await Self.harness(capacity: 10, directory: h.directory) }
        again.server.close()
        // Another key, or another scenario, is refused rather than misread.
        let wrongKey = ServiceConfiguration(dataDirectory: h.directory, dataKey: Data(repeating: 8, count: 32), startDate: Date(), otpSender: MemoryOTPSender())
        #expect(throws: ServiceError.self) { try BookingServer(topology: Self.topology(capacity: 10), configuration: wrongKey) }
        await #expect(throws: ServiceError.self) { try await Self.harness(capacity: 11, directory: h.directory) }
        // A journal keeps its day 0 whatever start date a restart is given.
        var later = ServiceConfiguration(dataDirectory: h.directory, dataKey: Data(repeating: 7, count: 32), startDate: Date() + 3 * 86_400,
                                         otpSender: MemoryOTPSender())
        later.cacheSeconds = 0
        let restarted = try BookingServer(topology: Self.topology(capacity: 10), configuration: later)
        #expect(restarted.epoch == again.server.epoch)
        restarted.close()
    }

    /// Damage near the end of the journal (within what a crash can tear) is cut like a torn
    /// tail: the server starts with what precedes it, keeps the cut bytes beside the journal and
    /// says so. (Damage further back stops the start: `JournalTests`.)
    @Test func damageNearTheEndIsCutAndKept() async throws {
        let h = try await Self.harness(capacity: 10)
        try await Application(router: h.server.router()).test(.live) { client in
            try await Self.bookNewPeople(client, h, count: 6, session: try await Self.firstSession(client))
        }
        h.server.close()
        try FileManager.default.removeItem(atPath: h.directory + "/snapshot.bin")  // replay the whole journal
        let journal = h.directory + "/journal.log"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: journal))
        let again = try await Self.harness(capacity: 10, directory: h.directory)
        defer { again.server.close() }
        #expect(again.server.store.read { $0.appointments.count } < 6)
        #expect(again.server.store.engine.invariantViolations().isEmpty)
        let kept = try FileManager.default.contentsOfDirectory(atPath: h.directory).filter { $0.contains(".damaged-") }
        #expect(kept.count == 1)
        let cut = try Data(contentsOf: URL(fileURLWithPath: h.directory + "/" + kept[0]))
        #expect(try Data(contentsOf: URL(fileURLWithPath: journal)) + cut == bytes, "nothing destroyed: the journal and the cut bytes are the file")
    }
}

extension Calendar {
    static var ist: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = API.ist
        return c
    }
}
