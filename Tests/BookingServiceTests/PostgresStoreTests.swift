@testable import BookingService
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SlotAllocation
import Testing

/// The PostgreSQL store: several instances share one journal and never sell a unit twice;
/// a restart rebuilds the state; no personal data is stored in the clear. (The contract
/// tests of ServerTests and PartnerAndStaffTests also run on it.)
@Suite struct PostgresStoreTests {
    @Test func ciRunsThePostgresTests() {
        #expect(ProcessInfo.processInfo.environment["CI"] != "true" || ServerTests.postgresURL != nil,
                "CI must run the tests through scripts/with-postgres.sh (make test does)")
    }

    @Test func passwordsNeverReachMessages() throws {
        for url in ["postgres://slotsim:s3cret@db:5432/x", "postgres://slotsim:s3c#ret/?@db/x", "postgres://slotsim:s3c ret@db/x"] {
            #expect(!PostgresLog.redacted(url).contains("s3c"), "\(url) → \(PostgresLog.redacted(url))")
        }
        #expect(throws: ServiceError.self) { try PostgresLog(url: "postgres://u:s3c#ret@/x") }
        do { _ = try PostgresLog(url: "mysql://u:s3cret@h/x") } catch { #expect(!"\(error)".contains("s3cret")) }
    }

    @Test(.enabled(if: ServerTests.postgresURL != nil)) func instancesSharingADatabaseNeverOversell() async throws {
        let url = try ServerTests.freshPostgresURL()
        let a = try await ServerTests.harness(store: .postgres, capacity: 30, postgres: url)
        let b = try await ServerTests.harness(store: .postgres, capacity: 30, postgres: url)
        defer {
            a.server.close()
            b.server.close()
        }
        let session = ServiceTopology.sessionID(center: 0, day: 1)
        // 60 people on each instance, each asking twice, all at once.
        let statuses = try await Application(router: a.server.router()).test(.live) { clientA in
            try await Application(router: b.server.router()).test(.live) { clientB in
                var people: [(port: Int, token: String, reference: String)] = []
                for (n, (client, h)) in [(clientA as any TestClientProtocol, a), (clientB, b)].enumerated() {
                    for k in 0..<60 {
                        let token = try await ServerTests.login(client, h, mobile: "9\(n)\(String(format: "%08d", k))")
                        let reference = ServerTests.json(try await ServerTests.register(client, token: token))["beneficiary_reference_id"] as! String
                        people.append((try #require(client.port), token, reference))
                    }
                }
                return try await ServerTests.race(people, session: session)  // 120 connections, each asking twice
            }
        }
        #expect(statuses.count == 240 && statuses.filter { $0 == 200 }.count == 30, "exactly the capacity, across both instances")
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 })
        // Each instance catches up with the other's bookings.
        try await Task.sleep(for: .milliseconds(600))
        for h in [a, b] {
            let index = h.server.store.published.sessions[session]!.index
            #expect(h.server.store.engine.availability(index, now: h.server.now)?.availableCapacity == 0)
            #expect(h.server.store.engine.invariantViolations().isEmpty)
            let booked = h.server.store.read { $0.appointments.values.flatMap(\.beneficiaries) }
            #expect(booked.count == 30 && Set(booked).count == 30, "nobody booked twice")
        }
        // A third instance started now rebuilds the same state from the database.
        let c = try await ServerTests.harness(store: .postgres, capacity: 30, postgres: url)
        defer { c.server.close() }
        #expect(c.server.store.read { $0.appointments.values.flatMap(\.beneficiaries).count } == 30)
    }

    /// A partner's quota is one quota for all the instances that share a store, not one per
    /// instance: requests admitted by one count on the other once they sync (every quarter
    /// second; the test makes them sync at once).
    @Test(.enabled(if: ServerTests.postgresURL != nil)) func aPartnersQuotaIsSharedByTheInstances() async throws {
        // Quotas count clock minutes: keep the test inside one.
        let second = SharedQuotas.minute(Date()).second
        if second > 40 { try await Task.sleep(for: .seconds(61 - second)) }
        let url = try ServerTests.freshPostgresURL()
        let (key, partner) = Partner.generate(name: "booking app", scopes: [.publicRead], quotaPerMinute: 5)
        let a = try await ServerTests.harness(store: .postgres, partners: [partner], postgres: url)
        let b = try await ServerTests.harness(store: .postgres, partners: [partner], postgres: url)
        defer {
            a.server.close()
            b.server.close()
        }
        @Sendable func sync(_ h: ServerTests.Harness) async throws {
            let quotas = try #require(h.server.partners.quotas as? SharedQuotas)
            try await quotas.sync()
            try await quotas.sync()  // (a second time: the background sync may have read before the first wrote)
        }
        let statuses = try await Application(router: a.server.router()).test(.live) { clientA in
            try await Application(router: b.server.router()).test(.live) { clientB in
                func call(_ client: some TestClientProtocol) async throws -> Int {
                    Int(try await client.execute(uri: "/api/v2/admin/location/states", method: .get,
                                                 headers: [PartnerAndStaffTests.apiKey: key]).status.code)
                }
                var statuses: [Int] = []
                for _ in 0..<3 { statuses.append(try await call(clientA)) }
                try await sync(a)
                try await sync(b)
                for _ in 0..<3 { statuses.append(try await call(clientB)) }
                try await sync(b)
                try await sync(a)
                statuses.append(try await call(clientA))
                return statuses
            }
        }
        #expect(statuses == [200, 200, 200, 200, 200, 429, 429], "5 a minute in all, across the two instances")
    }

    /// An instance that writes nothing still sees another's bookings, through its catch-up alone.
    @Test(.enabled(if: ServerTests.postgresURL != nil)) func anIdleInstanceCatchesUpWithAnother() async throws {
        let url = try ServerTests.freshPostgresURL()
        let a = try await ServerTests.harness(store: .postgres, capacity: 20, postgres: url)
        let b = try await ServerTests.harness(store: .postgres, capacity: 20, postgres: url)
        defer {
            a.server.close()
            b.server.close()
        }
        let session = ServiceTopology.sessionID(center: 0, day: 1)
        let index = b.server.store.published.sessions[session]!.index
        try await Application(router: a.server.router()).test(.live) { client in
            try await ServerTests.bookNewPeople(client, a, count: 5, session: session, prefix: "97000000")
        }
        var seen = b.server.store.engine.availability(index, now: b.server.now)?.availableCapacity
        let deadline = ContinuousClock.now + .seconds(5)
        while seen != 15, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            seen = b.server.store.engine.availability(index, now: b.server.now)?.availableCapacity
        }
        #expect(seen == 15, "B sees A's five bookings without writing")
        #expect(b.server.store.read { $0.people.count } == 5)
    }

    /// A login's two calls may reach two instances, and the limits on codes hold across them:
    /// one code per mobile per 3 minutes (also when both are asked at once), 3 tries per code,
    /// each code used once. The ledger keeps neither mobiles nor codes (not even their plain
    /// SHA-256, which a million tries undo), and pruning drops only what has lapsed.
    @Test(.enabled(if: ServerTests.postgresURL != nil)) func aLoginMayUseTwoInstances() async throws {
        let url = try ServerTests.freshPostgresURL()
        let a = try await ServerTests.harness(store: .postgres, postgres: url)
        let b = try await ServerTests.harness(store: .postgres, postgres: url)
        defer {
            a.server.close()
            b.server.close()
        }
        let codes = try await Application(router: a.server.router()).test(.live) { clientA in
            try await Application(router: b.server.router()).test(.live) { clientB in
                // Begun on A, confirmed on B; the token works on both.
                let txn = ServerTests.json(try await Self.generate(clientA, "9800000001"))["txnId"] as! String
                let code = try #require(a.sender.otp(txn))
                let resend = try await Self.generate(clientB, "9800000001")
                #expect(resend.status == .tooManyRequests && resend.headers[.retryAfter] != nil, "one code per mobile per 3 minutes, on any instance")
                let confirmed = try await Self.confirm(clientB, txn, code)
                #expect(confirmed.status == .ok)
                let token = try #require(ServerTests.json(confirmed)["token"] as? String)
                #expect(try await ServerTests.register(clientA, token: token).status == .ok)
                #expect(try await ServerTests.register(clientB, token: token).status == .ok)
                // A txnId that is no UUID (here with a NUL, which PostgreSQL's text refuses) is unknown, not a 503.
                let bogus = try await Self.confirm(clientA, "\(txn)\u{0}", code)
                #expect(bogus.status == .unauthorized && ServerTests.json(bogus)["errorCode"] as? String == "USRAUT0003", "\(bogus.status) \(ServerTests.json(bogus))")
                let reused = try await Self.confirm(clientA, txn, code)
                #expect(reused.status == .unauthorized && ServerTests.json(reused)["errorCode"] as? String == "USRAUT0003", "a code works once")
                // Three wrong codes, spread over both instances, end the transaction.
                let second = ServerTests.json(try await Self.generate(clientB, "9800000002"))["txnId"] as! String
                let right = try #require(b.sender.otp(second))
                let wrong = right == "000000" ? "000001" : "000000"
                for client in [clientA as any TestClientProtocol, clientB, clientA] {
                    let refused = try await Self.confirm(client, second, wrong)
                    #expect(refused.status == .unauthorized && ServerTests.json(refused)["errorCode"] as? String == "USRAUT0004")
                }
                let late = try await Self.confirm(clientB, second, right)
                #expect(late.status == .unauthorized && ServerTests.json(late)["errorCode"] as? String == "USRAUT0003",
                        "the right code after three wrong ones, on another instance")
                // Ten first codes for one mobile, asked at once on both instances: one is sent.
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for n in 0..<10 {
                        let client: any TestClientProtocol = n % 2 == 0 ? clientA : clientB
                        group.addTask { Int(try await Self.generate(client, "9800000003").status.code) }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.sorted() == [200] + Array(repeating: 429, count: 9), "\(statuses)")
                return [code, right]
            }
        }
        guard case .postgres(let log, _) = a.server.store.storage else { Issue.record("not the PostgreSQL store"); return }
        var stored = ""
        for table in ["otp_transactions", "otp_accounts"] {
            let rows = try await log.client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM \(log.schema).\(table) t"))
            for try await row in rows.decode(String.self) { stored += row + "\n" }
        }
        #expect(!stored.isEmpty, "the ledger is in PostgreSQL")
        for secret in ["9800000001", "9800000002"] + codes + codes.map(Vault.sha256Hex) {
            #expect(!stored.contains(secret), "\(secret) is in the OTP ledger in the clear")
        }
        // Pruning drops lapsed transactions and mobiles whose limits have all lapsed, and nothing else.
        func count(_ table: String) async throws -> Int {
            var n = 0
            for try await value in try await log.client.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(log.schema).\(table)")).decode(Int.self) { n = value }
            return n
        }
        let ledger = PostgresOTPLedger(log: log)
        _ = await ledger.begin(transaction: Vault.randomUUID(), account: "old", partner: nil, codeHash: "h")
        _ = await ledger.begin(transaction: Vault.randomUUID(), account: "live", partner: nil, codeHash: "h")
        let (transactions, accounts) = (try await count("otp_transactions"), try await count("otp_accounts"))
        try await log.client.query(PostgresQuery(unsafeSQL: """
            UPDATE \(log.schema).otp_transactions SET expires_at = now() - interval '1 second' WHERE account <> 'live';
            """))
        try await log.client.query(PostgresQuery(unsafeSQL: """
            UPDATE \(log.schema).otp_accounts SET last_sent = now() - interval '2 days', wrong_since = NULL WHERE account <> 'live'
            """))
        await ledger.prune()
        #expect(try await count("otp_transactions") == 1 && transactions == 3, "only the live transaction is left")
        #expect(try await count("otp_accounts") == 1 && accounts == 5, "only the mobile with a live code is left")
    }

    /// A login whose database cannot be reached is a 503 at the ledger's deadline, not a hang
    /// (the connection pool alone would wait without end). The time limit is generous: under the
    /// whole suite's load the two calls took 30 s once.
    @Test(.timeLimit(.minutes(2))) func aLoginWithoutItsDatabaseIsA503() async throws {
        let log = try PostgresLog(url: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable")
        defer { log.close() }
        let ledger = PostgresOTPLedger(log: log, deadlineSeconds: 1)
        let transaction = Vault.randomUUID()
        let begun = await ledger.begin(transaction: transaction, account: "a", partner: nil, codeHash: "h")
        let confirmed = await ledger.confirm(transaction: transaction, codeHash: "h", partner: nil)
        for outcome in [begun.map { "" }, confirmed] {
            guard case .failure(let error) = outcome else { Issue.record("an unreachable database answered"); continue }
            #expect(error.status == 503 && error.code == "SRV0004")
        }
    }

    static func generate(_ client: some TestClientProtocol, _ mobile: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/v2/auth/public/generateOTP", method: .post, body: ServerTests.body(["mobile": mobile]))
    }

    static func confirm(_ client: some TestClientProtocol, _ txn: String, _ code: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/v2/auth/public/confirmOTP", method: .post, body: ServerTests.body(["otp": Vault.sha256Hex(code), "txnId": txn]))
    }

    @Test(.enabled(if: ServerTests.postgresURL != nil)) func aRestartRebuildsTheStateAndNothingIsInTheClear() async throws {
        let url = try ServerTests.freshPostgresURL()
        let h = try await ServerTests.harness(store: .postgres, capacity: 10, postgres: url)
        try await Application(router: h.server.router()).test(.live) { client in
            let session = try await ServerTests.firstSession(client)
            for n in 0..<4 {
                let token = try await ServerTests.login(client, h, mobile: "98765432\(10 + n)")
                let reference = ServerTests.json(try await ServerTests.register(client, token: token, name: "Secret Name \(n)"))["beneficiary_reference_id"] as! String
                let r = try await client.execute(uri: "/api/v2/appointment/schedule", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                 body: ServerTests.body(["dose": 1, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": [reference]]))
                #expect(r.status == .ok)
            }
        }
        h.server.close()
        let again = try await ServerTests.harness(store: .postgres, capacity: 10, postgres: url)
        defer { again.server.close() }
        #expect(again.server.store.read { $0.appointments.count } == 4)
        guard case .postgres(let log, _) = again.server.store.storage else { Issue.record("not the PostgreSQL store"); return }
        // Every connection runs at READ COMMITTED with timeouts, whatever the database's defaults.
        var settings: [String] = []
        for name in ["default_transaction_isolation", "lock_timeout", "statement_timeout"] {
            for try await value in try await log.client.query(PostgresQuery(unsafeSQL: "SHOW \(name)")).decode(String.self) { settings.append(value) }
        }
        #expect(settings == ["read committed", "5s", "15s"])
        let records = try await log.records(after: 0)
        #expect(records.count == 1 + 4 + 4, "a header, four beneficiaries, four bookings")
        let bytes = records.reduce(into: Data()) { $0.append($1.1) }
        for secret in ["9876543210", "Secret Name", "ABCD1234"] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is in PostgreSQL in the clear")
        }
        // Another key or another scenario is refused rather than misread.
        await #expect(throws: ServiceError.self) { try await ServerTests.harness(store: .postgres, capacity: 10, postgres: url, key: 8) }
        await #expect(throws: ServiceError.self) { try await ServerTests.harness(store: .postgres, capacity: 11, postgres: url) }
        // A missing database is reported with PostgreSQL's reason.
        let base = ServerTests.postgresURL!.components(separatedBy: "?")[0]
        let noDatabase = base.replacingOccurrences(of: "/postgres", with: "/no_such_database", options: .backwards) + "?sslmode=disable"
        do {
            _ = try await ServerTests.harness(store: .postgres, postgres: noDatabase)
            Issue.record("a missing database was accepted")
        } catch {
            #expect("\(error)".contains("no_such_database\" does not exist"), "\(error)")
        }
        // A database that cannot be reached is a clear error, not a hang.
        await #expect(throws: ServiceError.self) {
            try await ServerTests.harness(store: .postgres, postgres: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable")
        }
    }
}
