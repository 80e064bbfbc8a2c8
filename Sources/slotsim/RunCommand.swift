import ArgumentParser
import DemandSimulation
import Foundation
import Scenarios
import SimulationReports

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario's replications and print a summary with 95 % confidence intervals.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The scenario file (YAML).")
    var file: String

    @Option(help: "Replications (overrides the file's).")
    var replications: Int?

    @Option(help: "Seed of every random stream (overrides the file's).")
    var seed: UInt64?

    @Option(help: "Threads to run replications on; results do not depend on it.")
    var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, 256)

    @Option(help: "Output format: table or json.")
    var format: Format = .table

    @Option(name: .customLong("set"), help: "Override a value: key.path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Write the results for analysis to this new (or empty) directory: CSV, summary and manifest.")
    var out: String?

    @Option(help: "Write a self-contained HTML report with charts (campaign scenarios) to this file.")
    var report: String?

    func validate() throws {
        if let replications, !(1...Scenario.replicationsMax).contains(replications) {
            throw ValidationError("--replications must be between 1 and \(Scenario.replicationsMax).")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256.") }
    }

    func run() throws {
        let scenario = try loadOrExit(file, overrides)
        if report != nil, scenario.campaign == nil {
            printError("\(file): --report draws a campaign's charts; this scenario has no campaign section")
            throw ExitCode(1)
        }
        if let out {
            do { try ClinicExport.checkWritable(URL(fileURLWithPath: out)) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        let seed = self.seed ?? scenario.seed
        let count = replications ?? scenario.replications
        let manifest = ClinicExport.Manifest(
            scenario: scenario.name, scenarioFile: file, scenarioBytes: FileManager.default.contents(atPath: file) ?? Data(),
            seed: seed, replications: count, slotsimVersion: slotsimVersion, commandLine: CommandLine.arguments)
        if let campaign = scenario.campaign {
            try runCampaign(scenario, campaign, seed: seed, count: count, manifest: manifest)
        }
        if let clinic = scenario.clinic {
            if scenario.campaign != nil, format == .table { print("") }
            try runClinic(scenario, clinic, seed: seed, count: count, manifest: manifest, alsoCampaign: scenario.campaign != nil)
        }
    }

    func runCampaign(_ scenario: Scenario, _ campaign: CampaignConfiguration, seed: UInt64, count: Int,
                     manifest: ClinicExport.Manifest) throws {
        let simulation: CampaignSimulation
        do {
            simulation = try CampaignSimulation(campaign: campaign, policy: scenario.effectivePolicy)
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(1)
        }
        let bar = ProgressBar(label: "replications × districts")
        let results: [CampaignResult]
        do {
            var progress: (@Sendable (Int, Int) -> Void)? = nil
            if let bar { progress = { done, total in bar.update(done, total) } }
            results = try simulation.run(seed: seed, replications: count, threads: threads, progress: progress)
        } catch {
            bar?.finish()
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
        bar?.finish()
        let summary = CampaignSummary(results)
        if let out {
            do {
                try CampaignExport(results: results, manifest: manifest).write(to: URL(fileURLWithPath: out))
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        if let report { try writeReport(HTMLReport.campaign(results, scenario: scenario.name, manifest: manifest), to: report) }
        switch format {
        case .table:
            print("scenario \"\(scenario.name)\" (seed \(seed)): campaign\n")
            print(summary.table)
        case .json:
            print(try json(summary))
        }
    }

    func runClinic(_ scenario: Scenario, _ clinic: ClinicConfiguration, seed: UInt64, count: Int,
                   manifest: ClinicExport.Manifest, alsoCampaign: Bool) throws {
        let simulation = try ClinicSimulation(clinic)
        let results: [ClinicResult]
        do {
            results = try Replications.run(count: count, threads: threads) { r throws(SimulationError) in
                try simulation.run(seed: seed, replication: r)
            }
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
        let summary = ClinicSummary(results, stageNames: clinic.stages.map(\.name))
        if let out {
            // Next to a campaign export, the clinic's goes in a subdirectory.
            let directory = alsoCampaign ? URL(fileURLWithPath: out).appendingPathComponent("clinic") : URL(fileURLWithPath: out)
            do {
                try ClinicExport(results: results, stageNames: clinic.stages.map(\.name), manifest: manifest).write(to: directory)
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        switch format {
        case .table:
            print("scenario \"\(scenario.name)\" (seed \(seed)): clinic\n")
            print(summary.table)
        case .json:
            print(try json(summary))
        }
    }

    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Writes an HTML report, or prints why not and exits with status 1.
func writeReport(_ html: String, to path: String) throws {
    do {
        try Data(html.utf8).write(to: URL(fileURLWithPath: path))
    } catch {
        printError("cannot write the report to \(path): \(error.localizedDescription)")
        throw ExitCode(1)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}
