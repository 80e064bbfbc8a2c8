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

    func validate() throws {
        if let replications, !(1...Scenario.replicationsMax).contains(replications) {
            throw ValidationError("--replications must be between 1 and \(Scenario.replicationsMax).")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256.") }
    }

    func run() throws {
        let scenario = try loadOrExit(file, overrides)
        guard let clinic = scenario.clinic else {
            printError("\(file): this scenario has no clinic section; slotsim runs clinic scenarios so far (the campaign models are still being built)")
            throw ExitCode(1)
        }
        if let out {
            do { try ClinicExport.checkWritable(URL(fileURLWithPath: out)) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        let simulation = try ClinicSimulation(clinic)
        let seed = self.seed ?? scenario.seed
        let results: [ClinicResult]
        do {
            results = try Replications.run(count: replications ?? scenario.replications, threads: threads) { r throws(SimulationError) in
                try simulation.run(seed: seed, replication: r)
            }
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
        let summary = ClinicSummary(results, stageNames: clinic.stages.map(\.name))
        if let out {
            let manifest = ClinicExport.Manifest(
                scenario: scenario.name, scenarioFile: file, scenarioBytes: FileManager.default.contents(atPath: file) ?? Data(),
                seed: seed, replications: results.count, slotsimVersion: slotsimVersion, commandLine: CommandLine.arguments)
            do {
                try ClinicExport(results: results, stageNames: clinic.stages.map(\.name), manifest: manifest)
                    .write(to: URL(fileURLWithPath: out))
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        switch format {
        case .table:
            print("scenario \"\(scenario.name)\" (seed \(seed))\n")
            print(summary.table)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}
