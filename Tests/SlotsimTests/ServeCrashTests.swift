import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `slotsim serve` as a process: killed with SIGKILL under booking load and restarted,
/// it loses no acknowledged booking and never sells more than a session holds.
@Suite struct ServeCrashTests {
    final class Server: @unchecked Sendable {
        // @unchecked: `process` is started in init and only signalled and waited on afterwards.
        let process = Process()
        let port: Int
        /// The admin listener's port, with `--admin-port 0` among `extra`.
        var adminPort: Int?
        /// What the server printed on start.
        let startLine: String
        init(_ directory: URL, extra: [String] = []) throws {
            let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            var folder = products.deletingLastPathComponent()
            while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("slotsim").path), folder.path != "/" {
                folder = folder.deletingLastPathComponent()
            }
            process.executableURL = folder.appendingPathComponent("slotsim")
            process.arguments = ["serve", "--scenario", "scenarios/quickstart.yaml", "--set", "campaign.days=3",
                                 "--set", "campaign.districts[0].centers[0].capacityPerDay=30", "--port", "0",
                                 "--data-dir", directory.appendingPathComponent("data").path,
                                 "--key-file", directory.appendingPathComponent("key").path,
                                 "--otp-outbox", directory.appendingPathComponent("outbox").path, "--rate-limit", "100000/60"] + extra
            process.currentDirectoryURL = CommandLineTests.root
            let out = Pipe()
            process.standardOutput = out
            // Its log, kept to check that no personal data reaches it (one file per start).
            let log = directory.appendingPathComponent("stderr-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            var line = ""
            let deadline = Date() + 60
            let admin = extra.contains("--admin-port")
            while !line.contains("listening on") || (admin && !line.contains("metrics on")), Date() < deadline {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
                line += String(decoding: chunk, as: UTF8.self)
            }
            guard let range = line.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                  let port = Int(line[range].split(separator: ":").last!) else {
                process.terminate()
                throw CocoaError(.fileReadUnknown)
            }
            self.port = port
            startLine = line
            if admin, let range = line.range(of: #"127\.0\.0\.1:(\d+)/metrics"#, options: .regularExpression) {
                adminPort = Int(line[range].dropFirst("127.0.0.1:".count).dropLast("/metrics".count))
            }
        }
        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func call(_ port: Int, _ path: String, method: String = "GET", token: String? = nil, body: [String: Any]? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v2/\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 20
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    static func login(_ port: Int, _ directory: URL, mobile: String) async throws -> String {
        let txn = try await call(port, "auth/public/generateOTP", method: "POST", body: ["mobile": mobile]).1["txnId"] as! String
        let outbox = try String(contentsOf: directory.appendingPathComponent("outbox"), encoding: .utf8)
        let line = outbox.split(separator: "\n").last { $0.contains(txn) }!
        let otp = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String])["otp"]!
        let hash = Process.sha256(otp)
        return try await call(port, "auth/public/confirmOTP", method: "POST", body: ["otp": hash, "txnId": txn]).1["token"] as! String
    }

    /// The stores the crash test runs against: the embedded journal always, PostgreSQL when CI
    /// (or `scripts/with-postgres.sh`) gives a database.
    static let stores = ["embedded"] + (ProcessInfo.processInfo.environment["SLOTSIM_TEST_POSTGRES_URL"] == nil ? [] : ["postgres"])

    /// The options that put a server on `store`: for the embedded journal, snapshots every few
    /// records, so kills land before, during and after their writes; for PostgreSQL, a schema
    /// of this test's own.
    static func storeOptions(_ store: String) -> [String] {
        guard store == "postgres", let base = ProcessInfo.processInfo.environment["SLOTSIM_TEST_POSTGRES_URL"] else {
            return ["--snapshot-every", "4"]
        }
        let schema = "crash_\(UUID().uuidString.prefix(8).lowercased())"
        return ["--store", "postgres", "--postgres-url", base + (base.contains("?") ? "&" : "?") + "schema=" + schema]
    }

    @Test(arguments: stores) func killedUnderLoadLosesNoAcknowledgedBooking(store: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data((0..<32).map { UInt8($0 * 7 % 251) }).write(to: directory.appendingPathComponent("key"))
        var acknowledged: [String: String] = [:]  // beneficiary → appointment
        // Bearer tokens are sealed with the key file, so they outlive a restart. (A new login
        // would not do on PostgreSQL: one code per mobile per 3 minutes, and the ledger is stored.)
        var people: [(token: String, reference: String)] = []
        var session = ""
        let options = Self.storeOptions(store)
        for round in 0..<3 {
            let server = try Server(directory, extra: options)
            // Everything acknowledged before every crash is still there.
            if !session.isEmpty {
                let sessions = try await Self.call(server.port, "appointment/sessions/public/calendarByDistrict?district_id=1&date=\(Self.date(server.port))").1
                let available = ((sessions["centers"] as! [[String: Any]])[0]["sessions"] as! [[String: Any]]).first { $0["session_id"] as? String == session }!
                let left = available["available_capacity"] as! Int
                #expect(30 - left >= acknowledged.count, "round \(round): \(30 - left) booked, \(acknowledged.count) acknowledged")
                for (token, reference) in people where acknowledged[reference] != nil {
                    let list = try await Self.call(server.port, "appointment/beneficiaries", token: token).1["beneficiaries"] as! [[String: Any]]
                    let mine = list.first { $0["beneficiary_reference_id"] as? String == reference }
                    let appointments = (mine?["appointments"] as? [[String: Any]])?.compactMap { $0["appointment_id"] as? String } ?? []
                    #expect(appointments.contains(acknowledged[reference]!), "round \(round): an acknowledged booking was lost")
                }
            }
            // New people, then a burst of bookings, killed midway.
            var fresh: [(reference: String, token: String)] = []
            for n in 0..<15 {
                let mobile = "9\(round)\(String(format: "%08d", n))"
                let token = try await Self.login(server.port, directory, mobile: mobile)
                let reference = try await Self.call(server.port, "registration/beneficiary/new", method: "POST", token: token,
                                                    body: ["name": "P", "birth_year": 1990, "gender_id": 1, "photo_id_type": 1, "photo_id_number": "XYZ123"]).1["beneficiary_reference_id"] as! String
                people.append((token, reference))
                fresh.append((reference, token))
            }
            if session.isEmpty {
                let list = try await Self.call(server.port, "appointment/sessions/public/findByDistrict?district_id=1&date=\(Self.date(server.port))").1["sessions"] as! [[String: Any]]
                session = list[0]["session_id"] as! String
            }
            let port = server.port, target = session
            let results = await withTaskGroup(of: (String, String?).self) { group in
                for (i, (reference, token)) in fresh.enumerated() {
                    group.addTask {
                        if i == 8 { try? await Task.sleep(nanoseconds: 1_000_000) }
                        let r = try? await Self.call(port, "appointment/schedule", method: "POST", token: token,
                                                     body: ["dose": 1, "session_id": target, "slot": "09:00AM-11:00AM", "beneficiaries": [reference]])
                        return (reference, r?.0 == 200 ? r?.1["appointment_confirmation_no"] as? String : nil)
                    }
                }
                group.addTask {
                    try? await Task.sleep(nanoseconds: 15_000_000)
                    server.kill9()
                    return ("", nil)
                }
                return await group.reduce(into: [(String, String?)]()) { $0.append($1) }
            }
            if server.process.isRunning { server.kill9() }
            for (reference, appointment) in results where appointment != nil { acknowledged[reference] = appointment }
        }
        #expect(acknowledged.count > 0 && acknowledged.count <= 30)
        // A last start, with an auditor's key: the state came from a snapshot; the session's own
        // counts, and every person's appointments, show nothing oversold and nothing lost.
        let made = try CommandLineTests.slotsim(["partner-key", "--name", "Auditor", "--scopes", "admin"])
        let auditor = String(made.out.split(separator: "\n")[0].split(separator: " ").last!)
        let partners = directory.appendingPathComponent("partners.json")
        try Data("{\"partners\": [\(made.out.split(separator: "\n")[2])]}".utf8).write(to: partners)
        let server = try Server(directory, extra: options + ["--partners", partners.path])
        if store == "embedded" { #expect(server.startLine.contains("snapshot of record"), "\(server.startLine)") }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v2/admin/sessions/report?district_id=1&date=\(Self.date(server.port))")!)
        request.setValue(auditor, forHTTPHeaderField: "x-api-key")
        let (data, _) = try await URLSession.shared.data(for: request)
        let report = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["sessions"] as? [[String: Any]])
        let counts = try #require(report.first { $0["session_id"] as? String == session })
        let booked = counts["booked"] as! Int, walkIns = counts["walk_ins"] as! Int
        #expect(counts["capacity"] as? Int == 30 && booked + walkIns <= 30, "\(counts)")
        var holding = 0  // people who hold an appointment, by their own listing
        for (token, reference) in people {
            let list = try await Self.call(server.port, "appointment/beneficiaries", token: token).1["beneficiaries"] as! [[String: Any]]
            let mine = list.first { $0["beneficiary_reference_id"] as? String == reference }
            if let appointments = mine?["appointments"] as? [[String: Any]], !appointments.isEmpty { holding += 1 }
        }
        #expect(holding == booked && booked >= acknowledged.count, "\(holding) hold appointments, \(booked) booked, \(acknowledged.count) acknowledged")
        server.process.terminate()
        server.process.waitUntilExit()
        // No mobile number in any log of the four starts (the outbox is the SMS gateway's stand-in).
        let mobiles = (0..<3).flatMap { round in (0..<15).map { "9\(round)\(String(format: "%08d", $0))" } }
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasPrefix("stderr-") {
            let log = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for mobile in mobiles { #expect(!log.contains(mobile), "\(mobile) in \(file)") }
        }
    }

    /// A partner key made by `slotsim partner-key` works against `serve --partners`; the admin
    /// port serves Prometheus metrics; SIGTERM stops the server cleanly.
    @Test func partnerKeysAndTheAdminPortOfARealServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data((0..<32).map { UInt8($0 * 5 % 251) }).write(to: directory.appendingPathComponent("key"))
        let made = try CommandLineTests.slotsim(["partner-key", "--name", "Booking app", "--scopes", "public", "book", "--quota", "50"])
        #expect(made.status == 0, "\(made.err)")
        let lines = made.out.split(separator: "\n")
        let key = String(lines[0].split(separator: " ").last!)
        #expect(key.hasPrefix("sk_") && key.count == 67)
        let partners = directory.appendingPathComponent("partners.json")
        try Data("{\"partners\": [\(lines[2])]}".utf8).write(to: partners)
        let server = try Server(directory, extra: ["--partners", partners.path, "--admin-port", "0"])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v2/admin/location/states")!)
        request.setValue(key, forHTTPHeaderField: "x-api-key")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        request.setValue("sk_wrong", forHTTPHeaderField: "x-api-key")
        let (_, refused) = try await URLSession.shared.data(for: request)
        #expect((refused as? HTTPURLResponse)?.statusCode == 401)
        let adminPort = try #require(server.adminPort)
        let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(adminPort)/metrics")!)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("slotsim_http_requests_total{route=\"/api/v2/admin/location/states\",method=\"GET\",status=\"200\"} 1"), "\(text.prefix(1_000))")
        #expect(text.contains("slotsim_refusals_total{code=\"USRAUT0010\"} 1") && !text.contains(key))
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0, "SIGTERM shuts down cleanly")
        // A broken partners file and bad options are refused before anything starts.
        try Data(#"{"partners": [{"name": "x", "keySHA256": "123", "scopes": ["book"], "quotaPerMinute": 10}]}"#.utf8).write(to: partners)
        let broken = try CommandLineTests.slotsim(["serve", "--scenario", "scenarios/quickstart.yaml", "--partners", partners.path,
                                                   "--data-dir", directory.appendingPathComponent("d2").path, "--key-file", directory.appendingPathComponent("key").path,
                                                   "--otp-outbox", directory.appendingPathComponent("o2").path])
        #expect(broken.status == 1 && broken.err.contains("partners.json: partners[0].keySHA256"), "\(broken.err)")
        for (options, words) in [(["--port", "70000"], "--port"), (["--admin-port", "8080"], "--admin-port"), (["--token-rate-limit", "0"], "--token-rate-limit"), (["--snapshot-every=-1"], "--snapshot-every must be 0"),
                                  (["--page-size", "0"], "--page-size"), (["--trusted-proxy", "10.0.0.300"], "--trusted-proxy 10.0.0.300"),
                                  (["--rate-limit", "1/9223372036854775807"], "--rate-limit")] {
            let bad = try CommandLineTests.slotsim(["serve", "--scenario", "scenarios/quickstart.yaml", "--otp-outbox", "/tmp/x"] + options)
            #expect(bad.status != 0 && bad.err.contains(words), "\(options): \(bad.err)")
        }
        let noCentres = try CommandLineTests.slotsim(["partner-key", "--name", "x", "--scopes", "checkin"])
        #expect(noCentres.status != 0 && noCentres.err.contains("--all-centers"), "\(noCentres.err)")
        let badScope = try CommandLineTests.slotsim(["partner-key", "--name", "x", "--scopes", "root"])
        #expect(badScope.status != 0 && badScope.err.contains("root"), "\(badScope.err)")
    }

    /// A PostgreSQL write that fails after the engine took the change: the instance answers 503,
    /// stops and exits with an error (a supervisor restarts it); the restart has exactly what
    /// was stored.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLOTSIM_TEST_POSTGRES_URL"] != nil))
    func aFailedPostgresWriteStopsTheServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-pgfail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data((0..<32).map { UInt8($0 * 3 % 251) }).write(to: directory.appendingPathComponent("key"))
        let base = ProcessInfo.processInfo.environment["SLOTSIM_TEST_POSTGRES_URL"]!
        let schema = "fail_\(UUID().uuidString.prefix(8).lowercased())"
        let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        func psql(_ sql: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            p.arguments = ["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", base, "-c", sql]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "psql \(sql)")
        }
        let server = try Server(directory, extra: ["--store", "postgres", "--postgres-url", url])
        let token = try await Self.login(server.port, directory, mobile: "9111111111")
        let register: [String: Any] = ["name": "P", "birth_year": 1990, "gender_id": 1, "photo_id_type": 1, "photo_id_number": "XYZ123"]
        let first = try await Self.call(server.port, "registration/beneficiary/new", method: "POST", token: token, body: register)
        #expect(first.0 == 200)
        // From now on every insert fails, while reads still work.
        try psql("ALTER TABLE \(schema).journal ADD CONSTRAINT no_more_writes CHECK (seq < 0) NOT VALID")
        let second = try await Self.call(server.port, "registration/beneficiary/new", method: "POST", token: token, body: register)
        #expect(second.0 == 503 && (second.1["error"] as? String)?.contains("PSQL") == false, "no internals in the answer: \(second.1)")
        let deadline = Date() + 10
        while server.process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!server.process.isRunning && server.process.terminationStatus != 0, "the server stops with an error")
        if server.process.isRunning { server.kill9() }
        try psql("ALTER TABLE \(schema).journal DROP CONSTRAINT no_more_writes")
        let again = try Server(directory, extra: ["--store", "postgres", "--postgres-url", url])
        defer { again.process.terminate(); again.process.waitUntilExit() }
        // The token outlives the instance (sealed claims); a new code would be refused for 3
        // minutes, since the OTP limits are in the database too.
        let resend = try await Self.call(again.port, "auth/public/generateOTP", method: "POST", body: ["mobile": "9111111111"])
        #expect(resend.0 == 429, "one code per mobile per 3 minutes, across restarts")
        let people = try await Self.call(again.port, "appointment/beneficiaries", token: token).1["beneficiaries"] as? [Any]
        #expect(people?.count == 1, "the stored registration, and not the one that failed")
    }

    /// Tomorrow in India, as the API writes dates.
    static func date(_ port: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 19_800)!
        let c = calendar.dateComponents([.day, .month, .year], from: Date() + 86_400)
        return String(format: "%02d-%02d-%04d", c.day!, c.month!, c.year!)
    }
}

extension Process {
    /// SHA-256 hex of a text, by `sha256sum` (the tests do not link a crypto library).
    static func sha256(_ text: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try? p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
