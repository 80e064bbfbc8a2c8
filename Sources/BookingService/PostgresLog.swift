import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The journal of several server instances, kept in PostgreSQL: one table of records in
/// sequence order, shared by every instance. An instance appends under a transaction-level
/// advisory lock after reading (and replaying) every record it has not seen, so each
/// decision is made on the whole state and no two instances ever sell the same unit; the
/// allocator's engine decides, as with the embedded journal, so the policy is the same.
final class PostgresLog: Sendable {
    let client: PostgresClient
    let schema: String
    let logger: Logger
    private let runner: Task<Void, Never>
    /// The advisory lock of this schema's journal (FNV-1a of the schema name): journals in
    /// other schemas of the same database do not wait for it.
    var lockKey: Int64 { Int64(bitPattern: schema.utf8.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }) }

    /// One direct connection's settings, to report why the server cannot be used (the pool only retries).
    private let probeSettings: (host: String, port: Int, user: String, password: String?, database: String?, tls: TLSConfiguration?, requireTLS: Bool)

    /// `url`: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=MODE], MODE as
    /// libpq's: disable; prefer (the default: TLS if the server offers it) and require (TLS
    /// always), neither checking the certificate; verify-full (TLS, certificate and host name checked).
    init(url: String) throws(ServiceError) {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty else {
            throw .configuration("--postgres-url must look like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, found \(Self.redacted(url))")
        }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        let schema = query["schema"] ?? "slotsim"
        guard schema.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw .configuration("--postgres-url: schema must be 1 to 63 of a-z, 0-9 and _, not starting with a digit; found \(schema)")
        }
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS
        let probeTLS: (TLSConfiguration?, Bool)
        switch query["sslmode"] ?? "prefer" {
        case "disable": (tls, probeTLS) = (.disable, (nil, false))
        case "prefer": (tls, probeTLS) = (.prefer(unverified), (unverified, false))
        case "require": (tls, probeTLS) = (.require(unverified), (unverified, true))
        case "verify-full": (tls, probeTLS) = (.require(.makeClientConfiguration()), (.makeClientConfiguration(), true))
        case let other: throw .configuration("--postgres-url: sslmode must be disable, prefer, require or verify-full, found \(other)")
        }
        probeSettings = (host, parts.port ?? 5432, user, parts.password, database.isEmpty ? nil : database, probeTLS.0, probeTLS.1)
        var configuration = PostgresClient.Configuration(host: host, port: parts.port ?? 5432, username: user, password: parts.password,
                                                         database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.maximumConnections = 4
        configuration.options.connectTimeout = .seconds(5)
        // The advisory lock orders the writers only if each statement sees what committed before
        // it (READ COMMITTED, whatever the database's default); a stuck lock holder or statement
        // ends in an error (answered 503) instead of hanging every instance.
        configuration.options.additionalStartupParameters = [("default_transaction_isolation", "read committed"),
                                                             ("lock_timeout", "5s"), ("statement_timeout", "15s")]
        var logger = Logger(label: "slotsim.postgres")
        logger.logLevel = .warning
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.schema = schema
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        if var parts = URLComponents(string: url) {
            guard parts.password != nil else { return url }
            parts.password = "***"
            if let text = parts.string { return text }
        }
        // Not a URL Foundation reads (a password with '#', '/', '?' …): hide all between "://" and the last '@'.
        guard let scheme = url.range(of: "://"), let at = url.range(of: "@", options: .backwards), at.lowerBound > scheme.upperBound else {
            return "(a URL that cannot be read)"
        }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at.lowerBound...])
    }

    var table: String { "\(schema).journal" }

    /// Opens and closes one connection, so that a refused login, a missing database or a TLS
    /// failure is reported as such (the pool would only retry).
    func probe() async throws {
        let p = probeSettings
        let tls: PostgresConnection.Configuration.TLS
        if let configuration = p.tls {
            let context = try NIOSSLContext(configuration: configuration)
            tls = p.requireTLS ? .require(context) : .prefer(context)
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(host: p.host, port: p.port, username: p.user, password: p.password, database: p.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }

    /// Applies the migrations not applied yet, each in its own transaction (serialised
    /// between instances by the advisory lock).
    func migrate() async throws {
        let migrations: [[String]] = [
            ["CREATE TABLE \(table) (seq bigint PRIMARY KEY, record bytea NOT NULL, written_at timestamptz NOT NULL DEFAULT now())"],
            // OTP logins shared by the instances (OTPLedger.swift): codes as keyed hashes, mobiles as lookup keys.
            ["CREATE TABLE \(schema).otp_transactions (txn_id text PRIMARY KEY, account text NOT NULL, partner text NOT NULL, "
                + "code_hash text NOT NULL, expires_at timestamptz NOT NULL, attempts int NOT NULL DEFAULT 0)",
             "CREATE INDEX ON \(schema).otp_transactions (expires_at)",
             "CREATE TABLE \(schema).otp_accounts (account text PRIMARY KEY, last_sent timestamptz, wrong_since timestamptz, "
                + "wrong_count int NOT NULL DEFAULT 0)",
             "CREATE INDEX ON \(schema).otp_accounts (last_sent)"],
            // Partner quotas shared by the instances (QuotaLedger.swift): requests per partner key hash and minute.
            ["CREATE TABLE \(schema).partner_usage (partner text NOT NULL, window_start bigint NOT NULL, used bigint NOT NULL, "
                + "PRIMARY KEY (partner, window_start))"],
        ]
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(schema).migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"),
                                       logger: logger)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT coalesce(max(version), 0) FROM \(schema).migrations"), logger: logger)
            var applied = 0
            for try await version in rows.decode(Int.self) { applied = version }
            for (n, statements) in migrations.enumerated() where n + 1 > applied {
                for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(schema).migrations (version) VALUES (\(n + 1))"), logger: logger)
            }
        }
    }

    /// Records after `sequence`, in order.
    func records(after sequence: Int64, on connection: PostgresConnection? = nil) async throws -> [(Int64, Data)] {
        var binds = PostgresBindings()
        binds.append(sequence)
        let sql = PostgresQuery(unsafeSQL: "SELECT seq, record FROM \(table) WHERE seq > $1 ORDER BY seq", binds: binds)
        let rows: PostgresRowSequence
        if let connection { rows = try await connection.query(sql, logger: logger) } else { rows = try await client.query(sql, logger: logger) }
        var out: [(Int64, Data)] = []
        for try await (seq, record) in rows.decode((Int64, Data).self) { out.append((seq, record)) }
        return out
    }

    /// Writes records at sequences from `first` on, inside the caller's transaction.
    func insert(_ records: [Data], from first: Int64, on connection: PostgresConnection) async throws {
        guard !records.isEmpty else { return }
        var b = PostgresBindings()
        b.append((0..<Int64(records.count)).map { first + $0 })
        b.append(records.map { ByteBuffer(data: $0) })
        try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) (seq, record) SELECT * FROM unnest($1::bigint[], $2::bytea[])", binds: b),
                                   logger: logger)
    }

    /// The header, unless another instance wrote one first.
    func insertHeader(_ header: Data) async throws {
        var b = PostgresBindings()
        try b.append(header)
        try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) (seq, record) VALUES (1, $1) ON CONFLICT (seq) DO NOTHING", binds: b), logger: logger)
    }

    func close() { runner.cancel() }
}
