import ArgumentParser
import BookingService
import DemandSimulation
import Foundation
import Scenarios
import SlotAllocation

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a scenario's centres and sessions through a CoWIN-style booking API (see docs/openapi.yaml).",
        discussion: """
            Bookings are decided by the allocator under the scenario's policy and written to an append-only \
            journal in --data-dir before they are acknowledged. Personal data is sealed with a key from \
            --key-file or the environment variable SLOTSIM_DATA_KEY (64 hex digits); make one with \
            `head -c 32 /dev/urandom > slotsim.key`.
            """)

    @Option(help: "The scenario file whose campaign section gives districts, centres, days and policy.")
    var scenario: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed on start).")
    var port = 8080

    @Option(name: .customLong("data-dir"), help: "Directory of the journal and its snapshot (created if missing).")
    var dataDir = "slotsim-data"

    @Option(name: .customLong("snapshot-every"), help: "Embedded store: save a snapshot of the state every N journal records and at a clean stop, so a start replays only what came after it (0: never).")
    var snapshotEvery = 100_000

    @Option(name: .customLong("key-file"), help: "File with at least 32 bytes of secret for personal data.")
    var keyFile: String?

    @Option(name: .customLong("start-date"), help: "Date of the scenario's day 0, YYYY-MM-DD (default: today in India).")
    var startDate: String?

    @Option(name: .customLong("rate-limit"), help: "Public calls allowed per address: COUNT/SECONDS.")
    var rateLimit = "100/300"

    @Option(name: .customLong("cache-seconds"), help: "Public availability may be served from a cache this old (0: never).")
    var cacheSeconds = 5

    @Option(name: .customLong("trusted-proxy"), help: "A load balancer's address whose X-Forwarded-For names the client for the per-address limit (repeat for several).")
    var trustedProxies: [String] = []

    @Option(name: .customLong("page-size"), help: "Availability lists come in pages of at most this many sessions or centres (1-1000; ?page=N).")
    var pageSize = 100

    @Option(name: .customLong("otp-outbox"), help: "File the one-time passwords are written to (no SMS gateway is built in).")
    var otpOutbox: String

    @Option(name: .customLong("set"), help: "Override a value of the scenario: key.path=value (repeatable).")
    var overrides: [String] = []

    enum Store: String, ExpressibleByArgument, CaseIterable { case embedded, postgres }

    @Option(help: "Where changes are kept: embedded (a journal in --data-dir) or postgres (shared by every instance; --postgres-url).")
    var store: Store = .embedded

    @Option(name: .customLong("postgres-url"), help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=disable|prefer|require|verify-full] (or the environment variable SLOTSIM_POSTGRES_URL, which keeps a password out of the process list).")
    var postgresURL: String?

    @Option(help: "Partners file (JSON) of hashed API keys with scopes, quotas and centres; make entries with slotsim partner-key.")
    var partners: String?

    @Option(name: .customLong("token-rate-limit"), help: "Requests a minute with one bearer token (partner-flow tokens also count against their partner's quota).")
    var tokenRateLimit = 60

    @Option(name: .customLong("admin-port"), help: "Port of the admin listener with Prometheus /metrics, on --host (0: any free port).")
    var adminPort: Int?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let adminPort, !(0...65_535).contains(adminPort) || (adminPort == port && port != 0) {
            throw ValidationError("--admin-port must be between 0 and 65535 and differ from --port.")
        }
        guard (1...100_000).contains(tokenRateLimit) else { throw ValidationError("--token-rate-limit must be between 1 and 100000.") }
        guard snapshotEvery >= 0 else { throw ValidationError("--snapshot-every must be 0 (never) or a number of records.") }
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be between 1 and 1000.") }
        for proxy in trustedProxies where !BookingServer.isIPAddress(proxy) {
            throw ValidationError("--trusted-proxy \(proxy) is not an IPv4 or IPv6 address.")
        }
        if store == .embedded, postgresURL != nil { throw ValidationError("--postgres-url needs --store postgres.") }
    }

    static let sessionsMax = 2_000_000

    func run() async throws {
        let loaded = try loadOrExit(scenario, overrides)
        guard let campaign = loaded.campaign else {
            printError("\(scenario): serving needs a campaign section (districts, centres and days)")
            throw ExitCode(1)
        }
        let policy = loaded.effectivePolicy
        var districts: [ServiceTopology.District] = []
        var sessions = 0
        for entry in campaign.districts {
            for copy in 0..<entry.copies {
                var centers: [ServiceTopology.Center] = []
                let districtName = entry.copies == 1 ? entry.name : "\(entry.name) \(copy + 1)"
                for group in entry.centers {
                    let vaccine = policy.vaccines.firstIndex { $0.name.lowercased() == group.vaccine.lowercased() } ?? 0
                    for _ in 0..<group.count {
                        centers.append(.init(name: "\(districtName) centre \(centers.count + 1)", vaccine: vaccine, capacityPerDay: group.capacityPerDay,
                                             minAge: group.minAge, maxAge: group.maxAge,
                                             slots: group.slots.map { SlotWindow(startSecondOfDay: $0.start, endSecondOfDay: $0.end) }))
                        sessions += campaign.days
                    }
                }
                districts.append(.init(name: districtName, centers: centers))
            }
        }
        guard sessions <= Self.sessionsMax else {
            printError("\(scenario): \(sessions) sessions (centres × days) is more than the server holds (\(Self.sessionsMax)); serve a smaller scenario or fewer days (--set campaign.days=N)")
            throw ExitCode(1)
        }
        let parts = rateLimit.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, (1...1_000_000_000).contains(parts[0]), (1...86_400).contains(parts[1]) else {
            printError("--rate-limit must be COUNT/SECONDS with COUNT 1...1000000000 and SECONDS 1...86400 (a day), e.g. 100/300")
            throw ExitCode(1)
        }
        var configuration = ServiceConfiguration(dataDirectory: dataDir, dataKey: try dataKey(), startDate: try day0(),
                                                 otpSender: OutboxOTPSender(path: otpOutbox))
        configuration.host = host
        configuration.port = port
        configuration.rateLimit = parts[0]
        configuration.rateWindowSeconds = TimeInterval(parts[1])
        guard (0...3600).contains(cacheSeconds) else {
            printError("--cache-seconds must be between 0 and 3600")
            throw ExitCode(1)
        }
        configuration.cacheSeconds = cacheSeconds
        configuration.pageSize = pageSize
        configuration.trustedProxies = trustedProxies
        configuration.tokenRateLimit = tokenRateLimit
        configuration.adminPort = adminPort
        configuration.snapshotEvery = snapshotEvery
        if store == .postgres {
            guard let url = postgresURL ?? ProcessInfo.processInfo.environment["SLOTSIM_POSTGRES_URL"] else {
                printError("--store postgres needs --postgres-url URL or the environment variable SLOTSIM_POSTGRES_URL")
                throw ExitCode(1)
            }
            configuration.postgresURL = url
        }
        if let partners {
            do { configuration.partners = try PartnersFile.load(path: partners) } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        let server: BookingServer
        do {
            server = try await BookingServer.start(topology: ServiceTopology(stateName: loaded.name, districts: districts, days: campaign.days, policy: policy),
                                                   configuration: configuration)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let dir = (configuration.postgresURL.map { "store PostgreSQL \(BookingServer.redacted($0))" } ?? "journal in \(dataDir)")
            + ": " + server.startSummary
        let (host, count, sessionCount) = (host, districts.count, sessions)
        try await server.run(onRunning: { port in
            let line = "slotsim serve: listening on http://\(host):\(port) (\(count) districts, \(sessionCount) sessions; \(dir))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }, onAdminRunning: { port in
            FileHandle.standardOutput.write(Data("slotsim serve: metrics on http://\(host):\(port)/metrics\n".utf8))
        })
    }

    func dataKey() throws -> Data {
        if let keyFile {
            guard let data = FileManager.default.contents(atPath: keyFile), data.count >= 32 else {
                printError("--key-file \(keyFile): cannot read 32 bytes of key (make one with: head -c 32 /dev/urandom > \(keyFile))")
                throw ExitCode(1)
            }
            return data
        }
        if let hex = ProcessInfo.processInfo.environment["SLOTSIM_DATA_KEY"] {
            let bytes = stride(from: 0, to: hex.count - 1, by: 2).compactMap { i -> UInt8? in
                let start = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
            }
            guard hex.count == 64, bytes.count == 32 else {
                printError("SLOTSIM_DATA_KEY must be 64 hex digits (32 bytes)")
                throw ExitCode(1)
            }
            return Data(bytes)
        }
        printError("no data key: give --key-file FILE (make one with: head -c 32 /dev/urandom > slotsim.key) or set SLOTSIM_DATA_KEY to 64 hex digits")
        throw ExitCode(1)
    }

    func day0() throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 19_800)!
        guard let startDate else { return calendar.startOfDay(for: Date()) }
        let parts = startDate.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else {
            printError("--start-date must be YYYY-MM-DD, found \(startDate)")
            throw ExitCode(1)
        }
        return date
    }
}

extension PartnerScope: ExpressibleByArgument {}

struct PartnerKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner-key",
        abstract: "Make a partner's API key: prints the key (give it to the partner; it is not kept) and the entry for the --partners file.")

    @Option(help: "The partner's name (unique in the partners file).")
    var name: String

    @Option(parsing: .upToNextOption, help: "Scopes: public, book, checkin, admin.")
    var scopes: [PartnerScope]

    @Option(name: .customLong("quota"), help: "Requests a minute with this key.")
    var quotaPerMinute = 600

    @Option(parsing: .upToNextOption, help: "checkin: the centre ids (center_id) the key acts for.")
    var centers: [Int] = []

    @Flag(name: .customLong("all-centers"), help: "checkin: the key acts for every centre (instead of --centers).")
    var allCenters = false

    func validate() throws {
        guard !name.isEmpty, name.count <= 64 else { throw ValidationError("--name must have 1 to 64 characters.") }
        guard !scopes.isEmpty else { throw ValidationError("--scopes needs at least one of public, book, checkin, admin.") }
        guard (1...1_000_000).contains(quotaPerMinute) else { throw ValidationError("--quota must be between 1 and 1000000.") }
        if scopes.contains(.checkin) {
            guard centers.isEmpty != !allCenters else { throw ValidationError("a checkin key needs --centers ID… or --all-centers (one of them).") }
        } else if !centers.isEmpty || allCenters {
            throw ValidationError("--centers and --all-centers are for a checkin key only.")
        }
    }

    func run() throws {
        let (key, partner) = Partner.generate(name: name, scopes: scopes, quotaPerMinute: quotaPerMinute, centers: centers.isEmpty ? nil : centers,
                                              allCenters: allCenters ? true : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print("key (x-api-key; shown once): \(key)")
        print("entry for the partners file's \"partners\" list:")
        print(String(decoding: try encoder.encode(partner), as: UTF8.self))
    }
}
