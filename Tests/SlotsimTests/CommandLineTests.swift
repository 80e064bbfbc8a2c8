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

    /// `tune` chooses with confidence intervals and writes its outputs; `--shard` + `merge`
    /// give exactly the single-machine result.
    @Test func tuneAndShardedTuneAgree() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-tune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let quickstart = try String(contentsOf: Self.root.appendingPathComponent("scenarios/quickstart.yaml"), encoding: .utf8)
        let scenario = base.appendingPathComponent("tune.yaml")
        try (quickstart.replacingOccurrences(of: "days: 14", with: "days: 5") + """
            tune:
              parameters:
                - {path: "policy.categories[0].share", values: ["0.1", "0.3", "0.5"]}
                - {path: campaign.walkIns.returnProbability, min: 0.2, max: 0.8, step: 0.6}
              objective:
                - {metric: vaccinations_dose1, weight: 1}
                - {metric: doses_wasted, weight: -5}
              constraints:
                - {metric: wastage_percent, max: 20}
              method: grid
              budget: 6
              replications: 2
              finalists: 2

            """).write(to: scenario, atomically: true, encoding: .utf8)
        let single = try Self.slotsim(["tune", scenario.path, "--threads", "2", "--out", base.appendingPathComponent("single").path])
        #expect(single.status == 0, "\(single.err)")
        #expect(single.out.contains("chosen:") && single.out.contains(" ± ") && single.out.contains("chosen minus each runner-up"))
        for i in 0..<2 {
            let shard = try Self.slotsim(["tune", scenario.path, "--threads", "1", "--shard", "\(i)/2", "--out", base.appendingPathComponent("s\(i)").path])
            #expect(shard.status == 0, "\(shard.err)")
        }
        let merged = try Self.slotsim(["merge", base.appendingPathComponent("s0").path, base.appendingPathComponent("s1").path,
                                       "--out", base.appendingPathComponent("merged").path])
        #expect(merged.status == 0, "\(merged.err)")
        #expect(merged.out == single.out)
        for file in ["evaluations.csv", "tuned.yaml"] {
            let a = try Data(contentsOf: base.appendingPathComponent("single/\(file)"))
            let b = try Data(contentsOf: base.appendingPathComponent("merged/\(file)"))
            #expect(a == b && !a.isEmpty, "\(file) differs between the single run and the merged shards")
        }
        // The tuned scenario runs as it is.
        let tuned = try Self.slotsim(["validate", base.appendingPathComponent("single/tuned.yaml").path])
        #expect(tuned.status == 0, "\(tuned.err)")
        let missing = try Self.slotsim(["merge", base.appendingPathComponent("s0").path])
        #expect(missing.status == 1 && missing.err.contains("missing: 1"), "\(missing.err)")
    }

    /// Batched Bayesian optimisation on many machines: each round's shards, merged, go on
    /// from `search.json` with `--resume`; the last merge gives the single run's bytes.
    @Test func batchedBayesRoundsOfShardsAgreeWithTheSingleRun() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("slotsim-bayes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let quickstart = try String(contentsOf: Self.root.appendingPathComponent("scenarios/quickstart.yaml"), encoding: .utf8)
        let scenario = base.appendingPathComponent("bayes.yaml")
        try (quickstart.replacingOccurrences(of: "days: 14", with: "days: 4") + """
            tune:
              parameters:
                - {path: "policy.categories[0].share", values: ["0.1", "0.2", "0.3", "0.4", "0.5"]}
                - {path: campaign.walkIns.returnProbability, values: ["0.2", "0.5", "0.8"]}
              objective:
                - {metric: vaccinations_dose1, weight: 1}
                - {metric: doses_wasted, weight: -5}
              method: bayes
              batch: 2
              budget: 9
              replications: 2
              finalists: 2

            """).write(to: scenario, atomically: true, encoding: .utf8)
        func path(_ name: String) -> String { base.appendingPathComponent(name).path }
        let single = try Self.slotsim(["tune", scenario.path, "--threads", "2", "--out", path("single")])
        #expect(single.status == 0, "\(single.err)")
        var resume: [String] = []
        var last: (status: Int32, out: String, err: String)? = nil
        for round in 0..<3 {
            for i in 0..<2 {
                let shard = try Self.slotsim(["tune", scenario.path, "--threads", "1", "--shard", "\(i)/2", "--out", path("r\(round)s\(i)")] + resume)
                #expect(shard.status == 0, "\(shard.err)")
            }
            let merged = try Self.slotsim(["merge", path("r\(round)s0"), path("r\(round)s1"), "--out", path("r\(round)")])
            #expect(merged.status == 0, "\(merged.err)")
            if round < 2 {
                #expect(merged.out.contains("round \(round + 1) of at most 3 merged") && merged.out.contains("--resume"), "\(merged.out)")
                #expect(FileManager.default.fileExists(atPath: path("r\(round)/search.json")))
            }
            resume = ["--resume", path("r\(round)")]
            last = merged
        }
        #expect(last?.out == single.out)
        for file in ["evaluations.csv", "tuned.yaml"] {
            let a = try Data(contentsOf: base.appendingPathComponent("single/\(file)"))
            let b = try Data(contentsOf: base.appendingPathComponent("r2/\(file)"))
            #expect(a == b && !a.isEmpty, "\(file) differs between the single run and the merged rounds")
        }
        // A round's shards must go on from the same search; a resumed run must be the same run.
        let stale = try Self.slotsim(["tune", scenario.path, "--threads", "1", "--shard", "1/2", "--out", path("stale")])
        #expect(stale.status == 0, "\(stale.err)")
        let mixed = try Self.slotsim(["merge", path("r1s0"), path("stale")])
        #expect(mixed.status == 1 && mixed.err.contains("went on from a different search"), "\(mixed.err)")
        let badBatch = try Self.slotsim(["tune", scenario.path, "--batch", "0"])
        #expect(badBatch.status != 0 && badBatch.err.contains("--batch"), "\(badBatch.err)")
        let otherSeed = try Self.slotsim(["tune", scenario.path, "--seed", "99", "--shard", "0/2", "--resume", path("r0"), "--out", path("x")])
        #expect(otherSeed.status == 1 && otherSeed.err.contains("the seed"), "\(otherSeed.err)")
        // The rest of the search on one machine, from the first merged round, gives the same result too.
        let rest = try Self.slotsim(["tune", scenario.path, "--threads", "2", "--resume", path("r0"), "--out", path("rest")])
        #expect(rest.status == 0 && rest.out == single.out, "\(rest.err)")
    }
}
