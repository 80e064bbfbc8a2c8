import DemandSimulation
import Foundation

/// Writes a clinic run for researchers: tidy long-format CSV (one row per replication ×
/// stage × metric), a summary with 95 % confidence intervals, and a manifest that says how
/// the run was made. The schema is documented in `notebooks-export/README.md`.
///
/// ```swift
/// try ClinicExport(results: results, stageNames: ["registration", "vaccination"], manifest: manifest)
///     .write(to: URL(fileURLWithPath: "notebooks-export/runs/clinic-flow"))
/// ```
public struct ClinicExport: Sendable {
    /// How a run was made, written as `manifest.json`.
    public struct Manifest: Codable, Hashable, Sendable {
        public var scenario: String
        public var scenarioFile: String
        /// FNV-1a (64-bit) of the scenario file's bytes, in hex: tells two files apart, not a security hash.
        public var scenarioHash: String
        public var seed: UInt64
        public var replications: Int
        public var slotsimVersion: String
        public var commandLine: [String]
        public var createdUTC: String

        public init(scenario: String, scenarioFile: String, scenarioBytes: Data, seed: UInt64, replications: Int,
                    slotsimVersion: String, commandLine: [String], created: Date = Date()) {
            self.scenario = scenario
            self.scenarioFile = scenarioFile
            scenarioHash = Self.fnv1a(scenarioBytes)
            self.seed = seed
            self.replications = replications
            self.slotsimVersion = slotsimVersion
            self.commandLine = commandLine
            createdUTC = ISO8601DateFormatter().string(from: created)
        }

        /// FNV-1a (64-bit) in hex, as ``scenarioHash`` gives it.
        public static func hash(_ data: Data) -> String { fnv1a(data) }

        static func fnv1a(_ data: Data) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in data {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }

    public let results: [ClinicResult]
    public let stageNames: [String]
    public let manifest: Manifest

    public init(results: [ClinicResult], stageNames: [String], manifest: Manifest) {
        self.results = results
        self.stageNames = stageNames
        self.manifest = manifest
    }

    /// Writes `clinic.csv`, `summary.csv` and `manifest.json` into `directory`, which must not
    /// exist yet or be empty: an export never overwrites an earlier one.
    public func write(to directory: URL) throws(ExportError) {
        try Self.write([("clinic.csv", longCSV), ("summary.csv", summaryCSV)], manifest: manifest, to: directory)
    }

    /// Writes text files and `manifest.json` into `directory` (missing or empty), never overwriting.
    static func write(_ files: [(name: String, text: String)], manifest: Manifest, to directory: URL) throws(ExportError) {
        try checkWritable(directory)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in files {
                try Data(file.text.utf8).write(to: directory.appendingPathComponent(file.name), options: .withoutOverwriting)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: directory.appendingPathComponent("manifest.json"), options: .withoutOverwriting)
        } catch {
            throw .cannotWrite(directory.path, error.localizedDescription)
        }
    }

    /// Throws unless `directory` is missing or empty (call it before a long run, to fail early).
    public static func checkWritable(_ directory: URL) throws(ExportError) {
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw .directoryNotEmpty(directory.path)
        }
    }

    /// A row of the long format.
    struct Row {
        var replication: Int
        var stage: String
        var metric: String
        var value: Double
    }

    /// Every measurement, in replication, stage, metric order. Clinic-wide metrics have the stage `clinic`.
    var rows: [Row] {
        var rows: [Row] = []
        for (r, result) in results.enumerated() {
            for (stage, waits) in zip(stageNames, result.waits) {
                for (metric, value) in Self.metrics(waits, prefix: "wait") { rows.append(Row(replication: r, stage: stage, metric: metric, value: value)) }
            }
            for (metric, value) in Self.metrics(result.timeInClinic, prefix: "time_in_clinic")
                + [("arrivals", Double(result.arrivals)), ("served", Double(result.served)),
                   ("arrived_after_closing", Double(result.arrivedAfterClosing)),
                   ("last_departure_second", Double(result.lastDepartureSecond))] {
                rows.append(Row(replication: r, stage: "clinic", metric: metric, value: value))
            }
        }
        return rows
    }

    /// One row per replication × stage × metric: `replication,stage,metric,value`.
    public var longCSV: String {
        (["replication,stage,metric,value"] + rows.map { "\($0.replication),\(Self.field($0.stage)),\($0.metric),\(Self.number($0.value))" })
            .joined(separator: "\n") + "\n"
    }

    /// One row per stage × metric across replications: mean and 95 % confidence interval.
    public var summaryCSV: String {
        var values: [String: (stage: String, metric: String, values: [Double])] = [:], order: [String] = []
        for row in rows {
            let key = row.stage + "\u{0}" + row.metric
            if values[key] == nil {
                order.append(key)
                values[key] = (row.stage, row.metric, [])
            }
            values[key]!.values.append(row.value)
        }
        var lines = ["stage,metric,mean,ci95_low,ci95_high,replications"]
        for key in order {
            let (stage, metric, series) = values[key]!
            let e = Estimate(series)
            lines.append([Self.field(stage), metric, Self.number(e.mean), Self.number(e.mean - e.halfWidth95),
                          Self.number(e.mean + e.halfWidth95), "\(e.replications)"].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func metrics(_ s: WaitStatistics, prefix: String) -> [(String, Double)] {
        [("\(prefix)_count", Double(s.count)), ("\(prefix)_mean_seconds", s.meanSeconds),
         ("\(prefix)_positive_share", s.waitedShare), ("\(prefix)_p50_seconds", Double(s.p50Seconds)),
         ("\(prefix)_p90_seconds", Double(s.p90Seconds)), ("\(prefix)_p99_seconds", Double(s.p99Seconds)),
         ("\(prefix)_max_seconds", Double(s.maxSeconds))]
    }

    /// Whole numbers without a fraction; others with Swift's shortest round-trip form.
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func field(_ text: String) -> String {
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Why an export could not be written.
public enum ExportError: Error, Hashable, Sendable, CustomStringConvertible {
    case directoryNotEmpty(String)
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case let .directoryNotEmpty(path): "\(path) is not empty; an export never overwrites one, so choose a new directory"
        case let .cannotWrite(path, reason): "cannot write the export to \(path): \(reason)"
        }
    }
}
