import Foundation
import Testing

/// The `slotsim` executable end to end: it is built with the tests and found next to them.
@Suite struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func slotsim(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = products.deletingLastPathComponent()
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("slotsim").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        let process = Process()
        process.executableURL = folder.appendingPathComponent("slotsim")
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func runPrintsASummaryWithConfidenceIntervals() throws {
        let table = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--replications", "3"])
        #expect(table.status == 0, "\(table.err)")
        #expect(table.out.contains("registration") && table.out.contains(" ± ") && table.out.contains("3 replications"))
        let json = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--replications", "2", "--threads", "1", "--format", "json"])
        let again = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--replications", "2", "--threads", "2", "--format", "json"])
        #expect(json.status == 0 && json.out == again.out, "results must not depend on threads")
        let summary = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(summary?["replications"] as? Int == 2)
    }

    @Test func runWritesAnExportForAnalysis() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--replications", "2", "--out", out.path])
        #expect(result.status == 0, "\(result.err)")
        let csv = try String(contentsOf: out.appendingPathComponent("clinic.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("replication,stage,metric,value\n") && csv.contains("\n1,vaccination,wait_mean_seconds,"))
        let again = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--replications", "2", "--out", out.path])
        #expect(again.status == 1 && again.err.contains("is not empty"))
    }

    @Test func badInputGetsAPositionedErrorAndAFailingStatus() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-bad-\(UUID().uuidString).yaml")
        try "name: bad\nclinic:\n  stages:\n    - {name: v, staf: 2, service: {constant: {seconds: 60}}}\n  arrivals: {poisson: {perHour: 5}}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Self.slotsim(["validate", file.path])
        #expect(result.status == 1)
        #expect(result.err.contains("\(file.path):4:"), "\(result.err)")
        let noClinic = try Self.slotsim(["run", file.path, "--set", "clinic=null"])
        #expect(noClinic.status == 1 && noClinic.err.contains("expected a campaign or a clinic section"), "\(noClinic.err)")
        let badOption = try Self.slotsim(["run", "scenarios/clinic-flow.yaml", "--threads", "0"])
        #expect(badOption.status != 0 && badOption.err.contains("--threads"))
    }

    @Test func campaignExportsAreTheSameBytesForASeedOnAnyThreads() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-campaign-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        var csv: [Data] = []
        for threads in ["1", "2"] {
            let out = base.appendingPathComponent(threads)
            let run = try Self.slotsim(["run", "scenarios/quickstart.yaml", "--replications", "2", "--threads", threads,
                                        "--set", "campaign.days=6", "--out", out.path])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("vaccinations_dose1") && run.out.contains("coverage_gap_points") && run.out.contains(" ± "))
            csv.append(try Data(contentsOf: out.appendingPathComponent("campaign.csv")))
            let summary = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8)
            #expect(summary.hasPrefix("metric,mean,ci95_low,ci95_high,replications\n"))
        }
        #expect(csv[0] == csv[1] && csv[0].count > 1_000)
        let header = String(decoding: csv[0].prefix(80), as: UTF8.self)
        #expect(header.hasPrefix("replication,day,district,age_band,access,channel,metric,value\n"))
    }
}
