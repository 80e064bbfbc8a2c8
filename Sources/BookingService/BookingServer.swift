import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import ServiceLifecycle
import SlotAllocation
import Synchronization

/// How `slotsim serve` runs the server.
public struct ServiceConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory: String
    /// At least 32 bytes: seals personal data and keys mobile lookups.
    public var dataKey: Data
    /// Day 0 of the topology (its midnight in India, UTC+05:30).
    public var startDate: Date
    /// Public endpoints: at most `rateLimit` calls per `rateWindowSeconds` from one address.
    public var rateLimit = 100
    public var rateWindowSeconds: TimeInterval = 300
    public var tokenLifetimeSeconds: TimeInterval = 900
    /// Proxies (load balancers) whose `X-Forwarded-For` names the client for the per-address
    /// limit; the header of any other peer is ignored. Addresses as `SocketAddress` prints them.
    public var trustedProxies: [String] = []
    /// Public availability may be cached this long (said in `Cache-Control`).
    public var cacheSeconds = 5
    /// Availability lists come in pages of at most this many entries (sessions, or centres for
    /// a calendar), so no single call lists a whole large district: 1...1000.
    public var pageSize = 100
    public var otpSender: any OTPSender
    /// Partners and their hashed API keys (see ``PartnersFile``).
    public var partners: [Partner] = []
    /// Requests a minute with one bearer token (a partner-flow token's also count against its partner's quota).
    public var tokenRateLimit = 60
    /// Embedded store: a snapshot of the state every this many journal records (and at a clean
    /// stop), so a start replays only the records after it; 0: no snapshots.
    public var snapshotEvery = 100_000
    /// The PostgreSQL store (postgres://USER@HOST:PORT/DB?schema=NAME); nil: the embedded journal in `dataDirectory`.
    public var postgresURL: String? = nil
    /// Port of the admin listener (Prometheus `/metrics`), on `host`; nil: none.
    public var adminPort: Int? = nil
    /// The server's clock (tests move it to a session's day).
    public var clock: @Sendable () -> Date = { Date() }

    public init(dataDirectory: String, dataKey: Data, startDate: Date, otpSender: any OTPSender) {
        self.dataDirectory = dataDirectory
        self.dataKey = dataKey
        self.startDate = startDate
        self.otpSender = otpSender
    }
}

/// The reference booking server: CoWIN's v2 API over the allocator's engine, with a journal
/// for durability (embedded, or in PostgreSQL for several instances), AES-GCM for personal
/// data, OTP login, bearer tokens, partner keys, and rate limits.
public final class BookingServer: Sendable {
    let store: BookingStore
    let configuration: ServiceConfiguration
    let sessions: Sessions
    let limiter: RateLimiter
    let tokenLimiter: RateLimiter
    /// ``ServiceConfiguration/trustedProxies``, normalised.
    let trustedProxies: Set<String>
    let partners: PartnerRegistry
    let metrics = ServiceMetrics()
    let epoch: Date
    /// Public availability responses, by query, until they expire (``ServiceConfiguration/cacheSeconds``).
    /// (A ByteBuffer shares its storage: a hit copies no bytes.)
    let responseCache = Mutex([String: (expires: Date, body: ByteBuffer, headers: HTTPFields)]())
    /// The headers of public availability responses.
    let cacheHeaders: HTTPFields

    /// A server on the embedded store (the journal in `configuration.dataDirectory`).
    public convenience init(topology: ServiceTopology, configuration: ServiceConfiguration) throws(ServiceError) {
        let vault = try Vault(secret: configuration.dataKey)
        // A journal keeps its own day 0: restarting on another day does not move the bookings.
        try self.init(store: BookingStore(topology: topology, vault: vault, dataDirectory: configuration.dataDirectory,
                                          epoch: Self.day0(configuration), snapshotEvery: configuration.snapshotEvery),
                      configuration: configuration)
    }

    /// A server on the store `configuration.postgresURL` names (PostgreSQL, shared by every
    /// instance serving the same scenario), or on the embedded journal without one.
    public static func start(topology: ServiceTopology, configuration: ServiceConfiguration) async throws(ServiceError) -> BookingServer {
        guard let url = configuration.postgresURL else { return try BookingServer(topology: topology, configuration: configuration) }
        let vault = try Vault(secret: configuration.dataKey)
        return BookingServer(store: try await BookingStore.postgres(topology: topology, vault: vault, url: url, epoch: day0(configuration)),
                             configuration: configuration)
    }

    /// A PostgreSQL URL without its password, for messages.
    public static func redacted(_ url: String) -> String { PostgresLog.redacted(url) }

    static func day0(_ configuration: ServiceConfiguration) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = API.ist
        return calendar.startOfDay(for: configuration.startDate)
    }

    private init(store: BookingStore, configuration: ServiceConfiguration) {
        self.store = store
        epoch = store.epoch
        self.configuration = configuration
        sessions = Sessions(tokenLifetime: configuration.tokenLifetimeSeconds, vault: store.vault, ledger: store.makeOTPLedger())
        limiter = RateLimiter(limit: configuration.rateLimit, window: configuration.rateWindowSeconds)
        tokenLimiter = RateLimiter(limit: configuration.tokenRateLimit, window: 60)
        trustedProxies = Set(configuration.trustedProxies.compactMap { ServiceContext.ipText(ServiceContext.address(parsing: $0[...])) })
        partners = configuration.partners.isEmpty ? PartnerRegistry([]) : PartnerRegistry(configuration.partners, quotas: store.makeQuotaLedger())
        var headers = HTTPFields()
        headers[.cacheControl] = "public, max-age=\(configuration.cacheSeconds)"
        headers[.contentType] = "application/json"
        cacheHeaders = headers
    }

    /// How the state was rebuilt at start, in words (for the start-up line).
    public var startSummary: String {
        let (snapshot, replayed) = store.restored
        return (snapshot.map { "snapshot of record \($0), then " } ?? "") + "\(replayed) records replayed"
    }

    /// Seconds since day 0's midnight (the engine's clock).
    var now: Int { Int(configuration.clock().timeIntervalSince(epoch)) }

    /// Writes what is queued, takes a last snapshot (embedded store) and closes the journal
    /// (the data directory can then be opened again).
    public func close() {
        partners.quotas.stop()
        store.close()
    }

    /// The server's logger (swift-log, on standard error; `LOG_LEVEL` sets the level, info by
    /// default; debug adds a line per request).
    static let logger = Logger(label: "slotsim", factory: ServerLogHandler.init)

    /// Serves until the process is stopped; `onRunning` gets the bound port (useful with port 0),
    /// `onAdminRunning` the admin listener's.
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in },
                    onAdminRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                     serverName: "slotsim"),
                              onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) }, logger: Self.logger)
        var services: [any Service] = [app]
        if let adminPort = configuration.adminPort {
            services.append(Application(router: adminRouter(), configuration: .init(address: .hostname(configuration.host, port: adminPort),
                                                                                    serverName: "slotsim-admin"),
                                        onServerRunning: { channel in onAdminRunning(channel.localAddress?.port ?? 0) },
                                        logger: Logger(label: "slotsim-admin", factory: ServerLogHandler.init)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: Self.logger))
        // A store that stopped writing cannot recover in place: stop serving (availability would
        // go stale) and exit with an error, so that a supervisor restarts the server, which then
        // rebuilds the state from what was stored.
        let watchdog = Task { () -> String? in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if let failure = store.storageFailure {
                    Self.logger.critical("the store stopped writing; shutting down", metadata: ["reason": "\(failure)"])
                    await group.triggerGracefulShutdown()
                    return failure
                }
            }
            return nil
        }
        do {
            try await group.run()
        } catch {
            watchdog.cancel()
            close()
            throw error
        }
        watchdog.cancel()
        close()
        if let failure = await watchdog.value { throw ServiceError.journal("the store stopped writing (\(failure)); restart the server") }
    }

    /// The admin listener: Prometheus metrics in the text format.
    func adminRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.text())))
        }
        return router
    }

    func router() -> Router<ServiceContext> {
        let router = Router(context: ServiceContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware(metrics: metrics))
        let v2 = router.group("api/v2")
        // Public.
        v2.get("admin/location/states") { request, context in
            try self.limitPublic(request, context)
            return API.json(["states": [["state_id": 1, "state_name": self.store.published.stateName]], "ttl": 24])
        }
        v2.get("admin/location/districts/:state_id") { request, context in
            try self.limitPublic(request, context)
            guard context.parameters.get("state_id", as: Int.self) == 1 else { throw APIError(400, "USRRES0001", "no such state_id") }
            let districts = self.store.published.districtNames.enumerated().map { ["state_id": 1, "district_id": $0 + 1, "district_name": $1] as [String: Any] }
            return API.json(["districts": districts, "ttl": 24])
        }
        v2.get("appointment/sessions/public/findByDistrict") { request, context in
            try self.limitPublic(request, context)
            let (district, day) = try self.districtAndDay(request)
            let page = try self.page(request)
            return self.find(self.store.published.centersOf[district], day: day, page: page, key: "find/\(district)/\(day)/\(page)")
        }
        v2.get("appointment/sessions/public/calendarByDistrict") { request, context in
            try self.limitPublic(request, context)
            let (district, day) = try self.districtAndDay(request)
            let page = try self.page(request)
            return self.calendar(self.store.published.centersOf[district], day: day, page: page, key: "calendar/\(district)/\(day)/\(page)")
        }
        v2.get("appointment/sessions/public/findByPin") { request, context in
            try self.limitPublic(request, context)
            let (pincode, day) = try self.pincodeAndDay(request)
            let page = try self.page(request)
            return self.find(self.store.published.centersOfPincode[pincode] ?? [], day: day, page: page, key: "findPin/\(pincode)/\(day)/\(page)")
        }
        v2.get("appointment/sessions/public/calendarByPin") { request, context in
            try self.limitPublic(request, context)
            let (pincode, day) = try self.pincodeAndDay(request)
            let page = try self.page(request)
            return self.calendar(self.store.published.centersOfPincode[pincode] ?? [], day: day, page: page, key: "calendarPin/\(pincode)/\(day)/\(page)")
        }
        // Login.
        v2.post("auth/public/generateOTP") { request, context in
            try self.limit(request, context)
            return try await self.generateOTP(request, context, partner: nil)
        }
        v2.post("auth/public/confirmOTP") { request, context in
            try self.limit(request, context)
            return try await self.confirmOTP(request, context, partner: nil)
        }
        // The partner flow: the same, with the partner's x-api-key (scope book); its tokens work with that key only.
        v2.post("auth/generateOTP") { request, context in
            let partner = try self.partner(request, .book)
            return try await self.generateOTP(request, context, partner: partner.name)
        }
        v2.post("auth/confirmOTP") { request, context in
            let partner = try self.partner(request, .book)
            return try await self.confirmOTP(request, context, partner: partner.name)
        }
        // Citizens (bearer token).
        v2.post("registration/beneficiary/new") { request, context in
            let account = try self.account(request)
            var request = request
            let body = try await API.body(&request, context, allowed: Self.registrationFields, required: Self.registrationRequired)
            let key = try self.idempotencyKey(request)
            let (_, registration, asked) = try self.registration(body, account: account)
            let record = key.map { JournalRecord.keyed(record: registration, key: $0, fingerprint: self.store.vault.requestFingerprint(asked)) } ?? registration
            switch await self.commit(record, "beneficiary") {
            case .success(let reference): return API.json(["beneficiary_reference_id": reference])
            case .failure(let error): throw error
            }
        }
        v2.get("appointment/beneficiaries") { request, _ in
            let account = try self.account(request)
            let people = try self.store.read { books in (books.accounts[account] ?? []).compactMap { books.people[$0] } }
                .map { person throws -> [String: Any] in
                    let doses = self.store.engine.doses(of: person.engineID)
                    let status = doses?.dose2Day != nil ? "Vaccinated" : doses?.dose1 != nil ? "Partially Vaccinated" : "Not Vaccinated"
                    return ["beneficiary_reference_id": person.reference, "name": try self.store.vault.open(person.sealedName),
                            "birth_year": String(person.birthYear), "gender": person.gender, "photo_id_type": person.photoIDType,
                            "vaccination_status": status,
                            "appointments": person.appointments.compactMap { $0 }.map { ["appointment_id": $0] }]
                }
            return API.json(["beneficiaries": people])
        }
        v2.post("appointment/schedule") { request, context in
            let account = try self.account(request)
            let key = try self.idempotencyKey(request)
            var request = request
            let body = try await API.body(&request, context, allowed: ["dose", "session_id", "slot", "beneficiaries", "center_id"],
                                          required: ["dose", "session_id", "slot", "beneficiaries"])
            let dose = try API.int(body, "dose")
            let sessionID = try API.string(body, "session_id", maxLength: 64)
            let slotText = try API.string(body, "slot", maxLength: 32)
            let beneficiaries = try API.stringArray(body, "beneficiaries", max: BookingStore.beneficiariesPerMobile)
            guard !beneficiaries.isEmpty, Set(beneficiaries).count == beneficiaries.count else {
                throw APIError.badRequest("beneficiaries must list 1 to 4 different reference ids")
            }
            guard let session = self.store.published.sessions[sessionID] else { throw APIError(400, "APPOIN0018", "no such session_id") }
            let slots = self.store.published.centers[session.center].spec.slots
            guard let slot = slots.firstIndex(where: { API.slotText($0) == slotText }) else {
                throw APIError(400, "APPOIN0015", "slot must be one of the session's: \(slots.map(API.slotText).joined(separator: ", "))")
            }
            let record = JournalRecord.schedule(appointment: Vault.randomUUID(), account: account, beneficiaries: beneficiaries,
                                                session: sessionID, slot: slot, dose: dose, now: self.now, idempotencyKey: key)
            switch await self.commit(record, "schedule") {
            case .success(let appointment):
                self.metrics.booked(beneficiaries.count)
                return API.json(["appointment_confirmation_no": appointment])
            case .failure(let error): throw error
            }
        }
        v2.post("appointment/cancel") { request, context in
            let account = try self.account(request)
            let key = try self.idempotencyKey(request)
            var request = request
            let body = try await API.body(&request, context, allowed: ["appointment_id", "beneficiariesToCancel"], required: ["appointment_id"])
            let appointment = try API.string(body, "appointment_id", maxLength: 64)
            let references = body["beneficiariesToCancel"] == nil ? [] : try API.stringArray(body, "beneficiariesToCancel", max: 4)
            let record = JournalRecord.cancel(appointment: appointment, account: account, beneficiaries: references, now: self.now, idempotencyKey: key)
            switch await self.commit(record, "cancel") {
            case .success: return Response(status: .noContent)
            case .failure(let error): throw error
            }
        }
        v2.post("appointment/reschedule") { request, context in
            let account = try self.account(request)
            let key = try self.idempotencyKey(request)
            var request = request
            let body = try await API.body(&request, context, allowed: ["appointment_id", "session_id", "slot"],
                                          required: ["appointment_id", "session_id", "slot"])
            let appointment = try API.string(body, "appointment_id", maxLength: 64)
            let sessionID = try API.string(body, "session_id", maxLength: 64)
            let slotText = try API.string(body, "slot", maxLength: 32)
            guard let session = self.store.published.sessions[sessionID] else { throw APIError(400, "APPOIN0018", "no such session_id") }
            let slots = self.store.published.centers[session.center].spec.slots
            guard let slot = slots.firstIndex(where: { API.slotText($0) == slotText }) else {
                throw APIError(400, "APPOIN0015", "slot must be one of the session's: \(slots.map(API.slotText).joined(separator: ", "))")
            }
            let record = JournalRecord.reschedule(appointment: appointment, account: account, session: sessionID, slot: slot,
                                                  now: self.now, idempotencyKey: key)
            switch await self.commit(record, "reschedule") {
            case .success: return Response(status: .noContent)
            case .failure(let error): throw error
            }
        }
        addStaffRoutes(v2)
        return router
    }

    // MARK: Helpers

    /// Commits a change and counts it once it is on disk.
    func commit(_ record: JournalRecord, _ kind: String) async -> Result<String, APIError> {
        let outcome = await store.commit(record)
        if case .success = outcome { metrics.change(kind) }
        return outcome
    }

    static let registrationFields: Set<String> = ["name", "birth_year", "gender_id", "photo_id_type", "photo_id_number", "comorbidity_ind", "consent_version"]
    static let registrationRequired: Set<String> = ["name", "birth_year", "gender_id", "photo_id_type", "photo_id_number"]

    static let apiKeyHeader = HTTPField.Name("x-api-key")!
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    /// A new beneficiary of `account` from a registration body (personal data sealed): its
    /// reference and the record that registers it.
    /// A registration's record, its new reference, and the fields it asked for (for a fingerprint).
    func registration(_ body: [String: Any], account: String) throws -> (reference: String, record: JournalRecord, asked: [String]) {
        let name = try API.string(body, "name", maxLength: 100)
        let birthYear = try API.int(body, "birth_year")
        let gender = try API.int(body, "gender_id")
        guard (1...3).contains(gender) else { throw APIError.badRequest("gender_id must be 1, 2 or 3") }
        let photoType = try API.int(body, "photo_id_type")
        guard (1...10).contains(photoType) else { throw APIError.badRequest("photo_id_type must be 1 to 10") }
        let photoNumber = try API.string(body, "photo_id_number", pattern: "^[A-Za-z0-9]{4,20}$", maxLength: 20)
        let reference = String(10_000_000_000_000 + Int.random(in: 0..<89_999_999_999_999))
        return (reference, JournalRecord.beneficiary(reference: reference, account: account, sealedName: try store.vault.seal(name),
                                                     sealedPhotoID: try store.vault.seal(photoNumber), photoIDType: String(photoType),
                                                     birthYear: birthYear, gender: ["M", "F", "O"][gender - 1]),
                [account, name, String(birthYear), String(gender), String(photoType), photoNumber])
    }

    func generateOTP(_ request: Request, _ context: ServiceContext, partner: String?) async throws -> Response {
        var request = request
        let body = try await API.body(&request, context, allowed: ["mobile"], required: ["mobile"])
        let mobile = try API.string(body, "mobile", pattern: "^[6-9][0-9]{9}$", maxLength: 10)
        switch await sessions.begin(account: store.vault.lookup(mobile: mobile), partner: partner) {
        case .success(let (transaction, otp)):
            configuration.otpSender.send(otp: otp, mobile: mobile, transaction: transaction)
            return API.json(["txnId": transaction])
        case .failure(let error): throw error
        }
    }

    func confirmOTP(_ request: Request, _ context: ServiceContext, partner: String?) async throws -> Response {
        var request = request
        let body = try await API.body(&request, context, allowed: ["otp", "txnId"], required: ["otp", "txnId"])
        let otp = try API.string(body, "otp", pattern: "^[0-9a-fA-F]{64}$", maxLength: 64)
        let transaction = try API.string(body, "txnId", maxLength: 64)
        switch await sessions.confirm(transaction: transaction, otpHash: otp, partner: partner) {
        case .success(let token): return API.json(["token": token])
        case .failure(let error): throw error
        }
    }

    /// The partner of the request's `x-api-key`, with `scope`, counted against its quota.
    func partner(_ request: Request, _ scope: PartnerScope) throws -> Partner {
        guard let key = request.headers[Self.apiKeyHeader] else {
            throw APIError(401, "USRAUT0009", "this endpoint needs a partner's x-api-key")
        }
        return try partners.admit(key: key, scope: scope)
    }

    /// Public endpoints: a partner's key (scope public) counts against its quota; without
    /// one, the per-address limit applies. A wrong key is refused, not ignored.
    func limitPublic(_ request: Request, _ context: ServiceContext) throws {
        if request.headers[Self.apiKeyHeader] != nil {
            _ = try partner(request, .publicRead)
        } else {
            try limit(request, context)
        }
    }

    func limit(_ request: Request, _ context: ServiceContext) throws {
        let (allowed, retry) = limiter.allow(clientKey(request, context))
        guard allowed else { throw APIError(429, "USRRES0429", "too many requests from this address; retry after \(retry)") }
    }

    /// Whom the per-address limit counts for this request: the peer's address, or, when the peer
    /// is one of ``ServiceConfiguration/trustedProxies``, the client `X-Forwarded-For` names (its
    /// right-most entry that is not a trusted proxy). A header from any other peer is ignored, so
    /// a client cannot choose whom its calls are counted against.
    func clientKey(_ request: Request, _ context: ServiceContext) -> String {
        let peer = context.limitKey
        guard !trustedProxies.isEmpty, let ip = ServiceContext.ipText(context.remoteAddress), trustedProxies.contains(ip),
              let forwarded = request.headers[Self.forwardedForHeader] else { return peer }
        for entry in forwarded.split(separator: ",").reversed() {
            // Not an address (say "unknown"): the proxy could not name the client, so count the proxy.
            guard let address = ServiceContext.address(parsing: entry) else { return peer }
            if let text = ServiceContext.ipText(address), trustedProxies.contains(text) { continue }
            return ServiceContext.limitKey(address)
        }
        return peer
    }

    static let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!

    /// Whether `text` is an IPv4 or IPv6 address (for `--trusted-proxy`).
    public static func isIPAddress(_ text: String) -> Bool { ServiceContext.address(parsing: text[...]) != nil }

    /// The Idempotency-Key header: at most 64 of A–Z, a–z, 0–9, '-' and '_'.
    func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[Self.idempotencyHeader] else { return nil }
        guard (1...64).contains(key.utf8.count), key.utf8.allSatisfy({ $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'")
        }
        return key
    }

    /// The account of the bearer token. A partner-flow token needs its partner's key (counted
    /// against the partner's quota); every token has its own per-minute limit.
    func account(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError(401, "USRAUT0001", "the token is missing, invalid or expired")
        }
        let bearer = String(header.dropFirst(7))
        guard let token = sessions.token(bearer: bearer) else { throw APIError(401, "USRAUT0001", "the token is missing, invalid or expired") }
        if let owner = token.partner {
            let partner = try self.partner(request, .book)
            guard partner.name == owner else { throw APIError(403, "USRAUT0012", "this token was issued through another partner") }
        }
        // Every token has its own limit, so one citizen cannot use up a partner's whole quota.
        let (allowed, retry) = tokenLimiter.allow(bearer)
        guard allowed else { throw APIError(429, "USRRES0431", "too many requests with this token; retry after \(retry)") }
        return token.account
    }

    /// Page `page` of the sessions of `centers` on `day`, each with its centre (findByDistrict, findByPin).
    func find(_ centers: [Int], day: Int, page: Int, key: String) -> Response {
        if let hit = cachedResponse(key) { return hit }
        let all = centers.compactMap { c in store.published.session(center: c, day: day).map { (c, $0) } }
        let list = Self.slice(all, page: page, size: configuration.pageSize).map { c, s in
            centerJSON(c).merging(sessionJSON(s)) { a, _ in a }
        }
        return cached(["sessions": list], total: all.count, key: list.isEmpty ? nil : key)
    }

    /// Page `page` of `centers`, each with its sessions of 7 days from `day` (calendarByDistrict, calendarByPin).
    func calendar(_ centers: [Int], day: Int, page: Int, key: String) -> Response {
        if let hit = cachedResponse(key) { return hit }
        let list = Self.slice(centers, page: page, size: configuration.pageSize).map { c -> [String: Any] in
            var center = centerJSON(c)
            center["sessions"] = (day..<(day + 7)).compactMap { store.published.session(center: c, day: $0).map(sessionJSON) }
            return center
        }
        return cached(["centers": list], total: centers.count, key: list.isEmpty ? nil : key)
    }

    /// Entries `(page - 1) × size ..< page × size` of `all` (none past the last page).
    static func slice<T>(_ all: [T], page: Int, size: Int) -> ArraySlice<T> {
        let start = min((page - 1) * size, all.count)
        return all[start..<min(start + size, all.count)]
    }

    /// The `page` query parameter: 1 (the default) to 100000.
    func page(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters.get("page") else { return 1 }
        guard let page = Int(text), (1...100_000).contains(page) else {
            throw APIError(400, "USRRES0001", "page must be a whole number from 1 to 100000")
        }
        return page
    }

    /// A 6-digit Indian pincode (one without centres gives empty lists) and the date.
    func pincodeAndDay(_ request: Request) throws -> (Int, Int) {
        guard let text = request.uri.queryParameters.get("pincode"), text.utf8.count == 6, text.utf8.allSatisfy({ (48...57).contains($0) }),
              let pincode = Int(text), pincode >= 110_000 else {
            throw APIError(400, "USRRES0001", "pincode must be a 6-digit Indian pincode (110000 to 999999)")
        }
        return (pincode, try API.day(request.uri.queryParameters.get("date").map { String($0) }, epoch: epoch))
    }

    func districtAndDay(_ request: Request) throws -> (Int, Int) {
        guard let district = request.uri.queryParameters.get("district_id").flatMap({ Int($0) }),
              (1...store.published.districtNames.count).contains(district) else {
            throw APIError(400, "USRRES0001", "district_id must be a district of /v2/admin/location/districts/1")
        }
        return (district - 1, try API.day(request.uri.queryParameters.get("date").map { String($0) }, epoch: epoch))
    }

    /// Availability as computed at most `cacheSeconds` ago for the same query (0: never cached).
    func cachedResponse(_ key: String) -> Response? {
        guard configuration.cacheSeconds > 0 else { return nil }
        guard let hit = responseCache.withLock({ $0[key] }), hit.expires > Date() else { return nil }
        return Response(status: .ok, headers: hit.headers, body: .init(byteBuffer: hit.body))
    }

    /// A page of a list of `total` entries, cached under `key` (nil: not cached; empty pages are
    /// not, so that queries for pages past the end or unknown pincodes cannot crowd the cache);
    /// its headers say how many entries and pages there are.
    func cached(_ object: [String: Any], total: Int, key: String?) -> Response {
        var bytes: [UInt8] = []
        API.write(object, &bytes)
        let body = ByteBuffer(bytes: bytes)
        var headers = cacheHeaders
        headers[Self.totalCountHeader] = String(total)
        headers[Self.pageCountHeader] = String(max(1, (total + configuration.pageSize - 1) / configuration.pageSize))
        if configuration.cacheSeconds > 0, let key {
            let now = Date()
            responseCache.withLock { cache in
                if cache.count >= 10_000 { cache = cache.filter { $0.value.expires > now } }
                if cache.count >= 10_000 { cache.removeAll() }
                cache[key] = (now + TimeInterval(configuration.cacheSeconds), body, headers)
            }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    static let totalCountHeader = HTTPField.Name("X-Total-Count")!
    static let pageCountHeader = HTTPField.Name("X-Page-Count")!

    func centerJSON(_ c: Int) -> [String: Any] {
        let center = store.published.centers[c]
        let district = store.published.districtNames[center.district]
        let open = center.spec.slots.first?.startSecondOfDay ?? 0, close = center.spec.slots.last?.endSecondOfDay ?? 0
        func clock(_ s: Int) -> String { API.digits(s / 3600, 2) + ":" + API.digits(s % 3600 / 60, 2) + ":00" }
        return ["center_id": center.id, "name": center.name, "address": "\(center.name), \(district)", "state_name": store.published.stateName,
                "district_name": district, "block_name": district, "pincode": center.pincode, "from": clock(open), "to": clock(close),
                "fee_type": center.spec.feeRupees > 0 ? "Paid" : "Free"]
    }

    func sessionJSON(_ s: PublishedSession) -> [String: Any] {
        let spec = store.published.centers[s.center].spec
        let a = store.engine.availability(s.index, now: now)
        var json: [String: Any] = ["session_id": s.id, "date": API.dateText(day: s.day, epoch: epoch),
                                   "available_capacity": a?.availableCapacity ?? 0,
                                   "available_capacity_dose1": a?.availableCapacityDose1 ?? 0,
                                   "available_capacity_dose2": a?.availableCapacityDose2 ?? 0,
                                   "min_age_limit": spec.minAge, "vaccine": store.published.vaccines[spec.vaccine].name,
                                   "slots": spec.slots.map(API.slotText), "allow_all_age": false]
        if let maxAge = spec.maxAge { json["max_age_limit"] = maxAge }
        return json
    }
}
