import ArgumentParser
import DemandSimulation
import Foundation
import PolicyTuning
import Scenarios
import SimulationReports

extension TuningMethod: ExpressibleByArgument {}

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the policy values a scenario's tune section names; choose the best with 95 % confidence intervals.",
        discussion: """
            Every candidate runs the scenario's campaign on the same seeds (common random numbers); the best \
            finalists run again on fresh seeds and the best of those is chosen. With --out DIR: evaluations.csv, \
            tuned.yaml (the scenario with the chosen values, ready to run) and manifest.json.
            """)

    @Argument(help: "The scenario file (YAML) with a campaign and a tune section.")
    var file: String

    @Option(help: "Candidates to evaluate in the search (overrides tune.budget).")
    var budget: Int?

    @Option(help: "Replications per candidate (overrides tune.replications).")
    var replications: Int?

    @Option(help: "Search: grid, lhs or bayes (overrides tune.method).")
    var method: TuningMethod?

    @Option(help: "Seed of the simulations (overrides the file's).")
    var seed: UInt64?

    @Option(help: "Threads per simulation; results do not depend on it.")
    var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, 256)

    @Option(name: .customLong("set"), help: "Override a value of the scenario: key.path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Write evaluations.csv, tuned.yaml and manifest.json to this new (or empty) directory.")
    var out: String?

    @Option(help: "Write a self-contained HTML report (objective over each parameter, finalists, CIs) to this file.")
    var report: String?

    @Option(help: "Bayesian optimisation: candidates per round after the initial design (overrides tune.batch).")
    var batch: Int?

    @Option(help: "Evaluate only slice i of n of the search's next round (i/n, from 0) and write DIR/shard.json for slotsim merge; needs --out.")
    var shard: String?

    @Option(help: "Go on from the search so far that slotsim merge wrote to this directory (its search.json): with --shard, one slice of the next round; without, the rest of the search and the selection.")
    var resume: String?

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256.") }
        if shard != nil {
            guard parsedShard != nil else { throw ValidationError("--shard must be i/n with 0 <= i < n <= 10000, e.g. 0/4.") }
            guard out != nil else { throw ValidationError("--shard needs --out DIR for its shard.json.") }
        }
        if let batch, !(1...256).contains(batch) { throw ValidationError("--batch must be between 1 and 256.") }
    }

    var parsedShard: (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), (1...10_000).contains(n), (0..<n).contains(i) else { return nil }
        return (i, n)
    }

    func run() throws {
        guard let loaded = try loadTuningOrExit(file, overrides, required: true) else { throw ExitCode(1) }
        let (scenario, text) = (loaded.scenario, loaded.text)
        var problem = loaded.problem
        if let budget { problem.budget = budget }
        if let replications { problem.replications = replications }
        if let method { problem.method = method }
        if let batch { problem.batch = batch }
        let metrics = CampaignResult.figureNames(stageNames: scenario.campaign?.clinic?.stages.map(\.name) ?? [])
        do {
            try problem.validate(metrics: metrics)
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(1)
        }
        if let out {
            do { try ClinicExport.checkWritable(URL(fileURLWithPath: out)) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
        // Every level of every parameter must make a valid scenario: check them now, not an hour in.
        for (i, parameter) in problem.parameters.enumerated() {
            for level in parameter.levels {
                do {
                    _ = try ScenarioLoader.load(yaml: text, file: file, overrides: overrides + ["\(parameter.path)=\(level)"])
                } catch {
                    printError("\(file): tune.parameters[\(i)] (\(parameter.path)=\(level)): \(error)")
                    throw ExitCode(1)
                }
            }
        }
        let seed = self.seed ?? scenario.seed
        let session = TuningSession(file: file, text: text, overrides: overrides, problem: problem, seed: seed, threads: threads)
        var earlier: [Evaluation] = []
        if let resume {
            let state = try SearchFile.read(from: resume)
            var differences: [String] = []
            if state.run.scenarioHash != ClinicExport.Manifest.hash(Data(text.utf8)) { differences.append("the scenario file's text") }
            if state.run.problem != problem { differences.append("the tune section or --budget, --replications, --method, --batch") }
            if state.run.seed != seed { differences.append("the seed (\(state.run.seed) there)") }
            if state.run.overrides != overrides { differences.append("the --set values") }
            guard differences.isEmpty else {
                printError("\(resume)/search.json: this search comes from a different tuning run: \(differences.joined(separator: ", ")) differ")
                throw ExitCode(1)
            }
            earlier = state.evaluations
        }
        let bar = ProgressBar(label: "evaluations")
        var progress: Tuner.Progress? = nil
        if let bar { progress = { done, planned, best in bar.update(done, planned, note: best.map { "best \(Tune.number($0))" } ?? "") } }
        if let (index, count) = parsedShard {
            let evaluations: [Evaluation]
            do {
                evaluations = try Tuner(problem).searchShard(seed: seed, evaluate: session.evaluate, shard: (index, count), after: earlier, progress: progress)
            } catch {
                bar?.finish()
                printError("\(file): \(error)")
                throw ExitCode(2)
            }
            bar?.finish()
            let run = TuningRun(scenarioFile: file, scenarioHash: ClinicExport.Manifest.hash(Data(text.utf8)), scenarioText: text,
                                overrides: overrides, problem: problem, seed: seed)
            let shardFile = ShardFile(run: run, shard: index, shards: count, earlier: earlier, evaluations: evaluations)
            try shardFile.write(to: URL(fileURLWithPath: out!))
            print("shard \(index)/\(count): \(evaluations.count) candidates evaluated; written to \(out!)/shard.json (combine with slotsim merge)")
            return
        }
        let result: TuningResult
        do {
            let tuner = Tuner(problem)
            result = try tuner.finish(try tuner.search(seed: seed, evaluate: session.evaluate, after: earlier, progress: progress),
                                      seed: seed, evaluate: session.evaluate, progress: progress)
        } catch {
            bar?.finish()
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
        bar?.finish()
        try session.report(result, scenarioName: scenario.name, out: out)
        if let report { try writeReport(HTMLReport.tuning(result, scenario: scenario.name), to: report) }
    }

    static func number(_ x: Double) -> String { String(format: abs(x) >= 100 ? "%.1f" : "%.4g", x) }

    static func table(_ result: TuningResult, scenario: String, seed: UInt64) -> String {
        let p = result.problem
        var lines = ["scenario \"\(scenario)\" (seed \(seed)): tuned by \(p.method.rawValue) search, \(result.evaluations.filter { $0.phase == .search }.count) candidates × \(p.replications) replications, \(result.finalists.count) finalists rerun on fresh seeds", ""]
        lines.append("chosen:")
        for (i, parameter) in p.parameters.enumerated() { lines.append("  \(parameter.path) = \(parameter.levels[result.chosen.candidate[i]])") }
        let objective = p.objective.enumerated().map { k, term in
            let sign = term.weight < 0 ? (k == 0 ? "−" : " − ") : (k == 0 ? "" : " + ")
            let size = abs(term.weight) == 1 ? "" : number(abs(term.weight)) + " × "
            return sign + size + term.metric
        }.joined()
        lines.append("objective (\(objective)): \(result.chosen.objective)")
        for (k, c) in p.constraints.enumerated() {
            let bound = [c.min.map { "≥ \(number($0))" }, c.max.map { "≤ \(number($0))" }].compactMap { $0 }.joined(separator: ", ")
            lines.append("constraint \(c.metric) \(bound): mean \(number(result.chosen.constraintMeans[k])) — \(c.holds(result.chosen.constraintMeans[k]) ? "holds" : "VIOLATED")")
        }
        if !result.constraintsHold { lines.append("warning: no finalist meets every constraint on the rerun; the best is shown") }
        if !result.differences.isEmpty {
            lines.append("")
            lines.append("chosen minus each runner-up (same seeds, 95 % CI):")
            for d in result.differences {
                let values = p.parameters.indices.map { "\(p.parameters[$0].path)=\(p.parameters[$0].levels[d.runnerUp[$0]])" }.joined(separator: " ")
                lines.append("  vs \(values): \(d.difference)")
            }
        }
        lines.append("")
        if let effects = result.sensitivity {
            lines.append("sensitivity (\(result.sensitivityNote), R² \(number(result.surfaceRSquared ?? 0))): change of the fitted objective over each range")
            for (i, parameter) in p.parameters.enumerated() { lines.append("  \(parameter.path): \(number(effects[i]))") }
        } else {
            lines.append("sensitivity: not reported (\(result.sensitivityNote))")
        }
        return lines.joined(separator: "\n")
    }
}

/// Loads a scenario and decodes its `tune` section, or prints the positioned error and exits.
/// Returns nil when there is no tune section and `required` is false.
func loadTuningOrExit(_ file: String, _ overrides: [String], required: Bool) throws -> (scenario: Scenario, problem: TuningProblem, text: String)? {
    do {
        let text = try ScenarioLoader.text(file)
        let (scenario, document) = try ScenarioLoader.loadDocument(yaml: text, file: file, overrides: overrides)
        guard document.has("tune") else {
            if required { throw document.error(at: "", "expected a tune section (parameters, objective, constraints) to tune") }
            return nil
        }
        guard scenario.campaign != nil else { throw document.error(at: "tune", "tuning needs a campaign section to simulate") }
        return (scenario, try document.decode(TuningProblem.self, at: "tune"), text)
    } catch let error as ScenarioError {
        printError(error.description)
        throw ExitCode(1)
    }
}

/// What `tune` and `merge` share: how a candidate is simulated, and how a result is reported.
struct TuningSession: Sendable {
    let file: String
    let text: String
    let overrides: [String]
    let problem: TuningProblem
    let seed: UInt64
    let threads: Int

    /// The scenario with the candidate's values set, its campaign simulated on `seed`.
    var evaluate: Tuner.Evaluate {
        let (file, text, overrides, problem, threads) = (file, text, overrides, problem, threads)
        return { candidate, seed, replications throws(TuningError) in
            let sets = problem.overrides(candidate)
            do {
                let scenario = try ScenarioLoader.load(yaml: text, file: file, overrides: overrides + sets)
                guard let campaign = scenario.campaign else { throw TuningError.invalid("campaign", "missing") }
                let simulation = try CampaignSimulation(campaign: campaign, policy: scenario.effectivePolicy)
                let results = try simulation.run(seed: seed, replications: replications, threads: threads)
                return results.map { result in
                    Dictionary(result.figures.compactMap { name, value in value.map { (name, $0) } }, uniquingKeysWith: { a, _ in a })
                }
            } catch let error as TuningError {
                throw error
            } catch {
                throw TuningError.evaluationFailed(candidate: sets.joined(separator: " "), reason: "\(error)")
            }
        }
    }

    /// Prints the table and, with `out`, writes evaluations.csv, tuned.yaml and manifest.json.
    func report(_ result: TuningResult, scenarioName: String, out: String?) throws {
        print(Tune.table(result, scenario: scenarioName, seed: seed))
        guard let out else { return }
        do {
            let tuned = try ScenarioLoader.loadDocument(yaml: text, file: file, overrides: overrides + result.chosenOverrides).document.yamlText()
            let header = "# \(scenarioName), tuned: \(result.chosenOverrides.joined(separator: " "))\n"
                + "# objective \(result.chosen.objective) over \(result.problem.replications) replications on fresh seeds (see evaluations.csv)\n"
            let manifest = ClinicExport.Manifest(scenario: scenarioName, scenarioFile: file, scenarioBytes: Data(text.utf8), seed: seed,
                                                 replications: problem.replications, slotsimVersion: slotsimVersion, commandLine: CommandLine.arguments)
            try TuningExport(result: result, tunedYAML: header + tuned, manifest: manifest).write(to: URL(fileURLWithPath: out))
        } catch let error as ExportError {
            printError(error.description)
            throw ExitCode(1)
        } catch {
            printError("\(file): \(error)")
            throw ExitCode(1)
        }
    }
}

