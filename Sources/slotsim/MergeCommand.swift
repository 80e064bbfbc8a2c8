import ArgumentParser
import Foundation
import PolicyTuning
import Scenarios
import SimulationReports

/// What makes two tuning runs the same run: the scenario (its text travels with the
/// files, so `merge` simulates exactly what the shards did), `--set`s, the problem and the seed.
struct TuningRun: Codable, Equatable {
    var scenarioFile: String
    var scenarioHash: String
    var scenarioText: String
    var overrides: [String]
    var problem: TuningProblem
    var seed: UInt64
}

/// One shard's part of a search round, as `tune --shard i/n` writes it and `merge` reads it,
/// with the evaluations of the rounds before (from `--resume`), so `merge` can check that
/// every shard went on from the same search.
struct ShardFile: Codable {
    var format = "slotsim-tune-shard/2"
    var run: TuningRun
    var shard: Int
    var shards: Int
    /// The search's evaluations before this round (empty for the first round).
    var earlier: [Evaluation]
    /// This shard's evaluations of the round.
    var evaluations: [Evaluation]

    func write(to directory: URL) throws { try writeJSON(self, to: directory, name: "shard.json") }
}

/// A search merged so far but not complete (Bayesian optimisation has rounds left), as
/// `merge` writes it and `tune --resume` reads it.
struct SearchFile: Codable {
    static let currentFormat = "slotsim-tune-search/1"
    var format = SearchFile.currentFormat
    var run: TuningRun
    var evaluations: [Evaluation]

    static func read(from directory: String) throws -> SearchFile {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("search.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("\(path): cannot read the file (is \(directory) a directory where slotsim merge wrote an unfinished search?)")
            throw ExitCode(1)
        }
        do {
            let file = try JSONDecoder().decode(SearchFile.self, from: data)
            guard file.format == currentFormat else {
                printError("\(path): format \(file.format) is not one this slotsim reads")
                throw ExitCode(1)
            }
            return file
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("\(path): not a search file of this slotsim version: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Writes `value` as sorted-key JSON to `directory/name`; the directory must be new or empty.
func writeJSON(_ value: some Encodable, to directory: URL, name: String) throws {
    do {
        try ClinicExport.checkWritable(directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(value).write(to: directory.appendingPathComponent(name), options: .withoutOverwriting)
    } catch let error as ExportError {
        printError(error.description)
        throw ExitCode(1)
    } catch {
        printError("cannot write \(directory.path)/\(name): \(error.localizedDescription)")
        throw ExitCode(1)
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine the shards of a round of slotsim tune --shard i/n; finish the tuning when the search is complete.",
        discussion: """
            Grid and lhs searches are one round: merge runs the finalists and writes the result, the same as the \
            single-machine run. Bayesian optimisation has a round per batch: until the last one, merge writes \
            search.json to --out, and the next round's shards go on from it with slotsim tune --resume.
            """)

    @Argument(help: "The shard directories (each with a shard.json).")
    var directories: [String]

    @Option(help: "Write evaluations.csv, tuned.yaml and manifest.json (or, with rounds left, search.json) to this new (or empty) directory.")
    var out: String?

    @Option(help: "Threads per simulation of the final stage; results do not depend on it.")
    var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, 256)

    @Option(help: "Write a self-contained HTML report to this file (when the search is complete).")
    var report: String?

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256.") }
    }

    func run() throws {
        var shards: [ShardFile] = []
        for directory in directories {
            let path = URL(fileURLWithPath: directory).appendingPathComponent("shard.json").path
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("\(path): cannot read the file (is \(directory) a directory written by slotsim tune --shard?)")
                throw ExitCode(1)
            }
            do {
                shards.append(try JSONDecoder().decode(ShardFile.self, from: data))
            } catch {
                printError("\(path): not a shard file of this slotsim version: \(error)")
                throw ExitCode(1)
            }
        }
        guard let first = shards.first else {
            printError("give the shard directories to merge")
            throw ExitCode(1)
        }
        for (k, s) in shards.enumerated() {
            guard s.format == first.format, s.run == first.run, s.shards == first.shards else {
                printError("\(directories[k]): this shard comes from a different tuning run than \(directories[0]) (scenario, tune section, seed, --set or shard count differ)")
                throw ExitCode(1)
            }
            guard s.earlier == first.earlier else {
                printError("\(directories[k]): this shard went on from a different search than \(directories[0]) (--resume of another round?)")
                throw ExitCode(1)
            }
        }
        let indices = shards.map(\.shard).sorted()
        guard indices == Array(0..<first.shards) else {
            let missing = Set(0..<first.shards).subtracting(indices).sorted()
            printError("expected each of the \(first.shards) shards once; " + (missing.isEmpty ? "a shard is given twice" : "missing: \(missing.map(String.init).joined(separator: ", "))"))
            throw ExitCode(1)
        }
        let run = first.run, text = run.scenarioText
        guard ClinicExport.Manifest.hash(Data(text.utf8)) == run.scenarioHash else {
            printError("\(directories[0])/shard.json: the scenario text does not match its hash; the shard file was changed")
            throw ExitCode(1)
        }
        let scenario: Scenario
        do {
            scenario = try ScenarioLoader.load(yaml: text, file: run.scenarioFile, overrides: run.overrides)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        if let out {
            do { try ClinicExport.checkWritable(URL(fileURLWithPath: out)) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        let tuner = Tuner(run.problem)
        let search: [Evaluation]
        let complete: Bool
        do {
            search = try tuner.merge(after: first.earlier, shards.map(\.evaluations))
            complete = try tuner.nextRound(after: search).isEmpty
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        guard complete else {
            guard let out else {
                printError("the search has rounds left: give --out DIR for its search.json, for the next round's slotsim tune --resume DIR")
                throw ExitCode(1)
            }
            let state = SearchFile(run: run, evaluations: search)
            try writeJSON(state, to: URL(fileURLWithPath: out), name: "search.json")
            let rounds = tuner.roundsDone(search)
            print("round \(rounds) of at most \(tuner.plannedRounds) merged: \(search.count) of \(run.problem.budget) candidates evaluated; written to \(out)/search.json")
            print("next round: slotsim tune \(run.scenarioFile) --resume \(out) --shard i/n --out DIR_i for each i, then slotsim merge DIR_0 … DIR_n−1 --out DIR")
            if report != nil { print("(the report is written when the last round is merged)") }
            return
        }
        let session = TuningSession(file: run.scenarioFile, text: text, overrides: run.overrides, problem: run.problem,
                                    seed: run.seed, threads: threads)
        let result: TuningResult
        do {
            result = try tuner.finish(search, seed: run.seed, evaluate: session.evaluate)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        try session.report(result, scenarioName: scenario.name, out: out)
        if let report { try writeReport(HTMLReport.tuning(result, scenario: scenario.name), to: report) }
    }
}
