import DemandSimulation
import Foundation
import SimulationReports
import Testing

@Suite struct ClinicExportTests {
    static func run(_ replications: Int) throws -> ([ClinicResult], [String]) {
        let clinic = ClinicConfiguration(stages: [ClinicStage(name: "registration, desk", staff: 2, service: .exponential(mean: 200)),
                                                  ClinicStage(name: "vaccination", staff: 3, service: .exponential(mean: 240))],
                                         arrivals: .poisson(perHour: 30))
        let simulation = try ClinicSimulation(clinic)
        return (try (0..<replications).map { try simulation.run(seed: 4, replication: $0) }, clinic.stages.map(\.name))
    }

    static func manifest() -> ClinicExport.Manifest {
        ClinicExport.Manifest(scenario: "x", scenarioFile: "x.yaml", scenarioBytes: Data("abc".utf8), seed: 4, replications: 3,
                              slotsimVersion: "test", commandLine: ["slotsim", "run"])
    }

    /// A minimal CSV reader (quoted fields with doubled quotes), to read back what was written.
    static func parse(_ csv: String) -> [[String]] {
        csv.split(separator: "\n").map { line in
            var fields: [String] = [], field = "", quoted = false
            var chars = Array(line)[...]
            while let c = chars.popFirst() {
                if quoted {
                    if c == "\"" { if chars.first == "\"" { field.append("\""); chars = chars.dropFirst() } else { quoted = false } } else { field.append(c) }
                } else if c == "\"" { quoted = true } else if c == "," { fields.append(field); field = "" } else { field.append(c) }
            }
            fields.append(field)
            return fields
        }
    }

    @Test func theLongFormatHasOneRowPerReplicationStageAndMetric() throws {
        let (results, stages) = try Self.run(3)
        let export = ClinicExport(results: results, stageNames: stages, manifest: Self.manifest())
        let rows = Self.parse(export.longCSV)
        #expect(rows.first == ["replication", "stage", "metric", "value"])
        #expect(rows.count == 1 + 3 * (2 * 7 + 11))
        #expect(rows.allSatisfy { $0.count == 4 })
        #expect(rows.contains(["0", "registration, desk", "wait_count", String(results[0].waits[0].count)]))
        #expect(rows.contains(["2", "clinic", "served", String(results[2].served)]))
    }

    @Test func theSummaryHasMeansAndIntervalsOfTheLongRows() throws {
        let (results, stages) = try Self.run(4)
        let summary = Self.parse(ClinicExport(results: results, stageNames: stages, manifest: Self.manifest()).summaryCSV)
        #expect(summary.first == ["stage", "metric", "mean", "ci95_low", "ci95_high", "replications"])
        let served = try #require(summary.first { $0[0] == "clinic" && $0[1] == "served" })
        let expected = Estimate(results.map { Double($0.served) })
        #expect(Double(served[2])! == expected.mean && served[5] == "4")
        #expect(abs(Double(served[4])! - (expected.mean + expected.halfWidth95)) < 1e-9)
    }

    @Test func writingNeverOverwritesAnEarlierExport() throws {
        let (results, stages) = try Self.run(2)
        let export = ClinicExport(results: results, stageNames: stages, manifest: Self.manifest())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)/nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try export.write(to: directory)
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(written == ["clinic.csv", "manifest.json", "summary.csv"])
        let manifest = try JSONDecoder().decode(ClinicExport.Manifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        #expect(manifest.scenarioHash == "e71fa2190541574b")  // FNV-1a 64 of "abc"
        #expect(throws: ExportError.directoryNotEmpty(directory.path)) { try export.write(to: directory) }
    }
}
