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

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256.") }
    }

    func run() throws {
        guard let loaded = try loadTuningOrExit(file, overrides, required: true) else { throw ExitCode(1) }
        let (scenario, text) = (loaded.scenario, loaded.text)
        var problem = loaded.problem
        if let budget { problem.budget = budget }
        if let replications { problem.replications = replications }
        if let method { problem.method = method }
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
        let (file, userOverrides, threads, problemToRun) = (self.file, overrides, self.threads, problem)
        let evaluate: Tuner.Evaluate = { candidate, seed, replications throws(TuningError) in
            let sets = problemToRun.overrides(candidate)
            do {
                let candidateScenario = try ScenarioLoader.load(yaml: text, file: file, overrides: userOverrides + sets)
                guard let campaign = candidateScenario.campaign else { throw TuningError.invalid("campaign", "missing") }
                let simulation = try CampaignSimulation(campaign: campaign, policy: candidateScenario.effectivePolicy)
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
        let bar = ProgressBar(label: "evaluations")
        var progress: Tuner.Progress? = nil
        if let bar { progress = { done, planned, best in bar.update(done, planned, note: best.map { "best \(Tune.number($0))" } ?? "") } }
        let result: TuningResult
        do {
            result = try Tuner(problem).run(seed: seed, evaluate: evaluate, progress: progress)
        } catch {
            bar?.finish()
            printError("\(file): \(error)")
            throw ExitCode(2)
        }
        bar?.finish()
        print(Tune.table(result, scenario: scenario.name, seed: seed))
        if let out {
            let directory = URL(fileURLWithPath: out)
            do {
                let tuned = try ScenarioLoader.loadDocument(yaml: text, file: file, overrides: userOverrides + result.chosenOverrides).document.yamlText()
                let header = "# \(scenario.name), tuned by: \(CommandLine.arguments.joined(separator: " "))\n# chosen: \(result.chosenOverrides.joined(separator: " "))\n"
                let manifest = ClinicExport.Manifest(scenario: scenario.name, scenarioFile: file, scenarioBytes: Data(text.utf8), seed: seed,
                                                     replications: problem.replications, slotsimVersion: slotsimVersion, commandLine: CommandLine.arguments)
                try TuningExport(result: result, tunedYAML: header + tuned, manifest: manifest).write(to: directory)
            } catch let error as ExportError {
                printError(error.description)
                throw ExitCode(1)
            } catch {
                printError("\(file): \(error)")
                throw ExitCode(1)
            }
        }
    }

    static func number(_ x: Double) -> String { String(format: abs(x) >= 100 ? "%.1f" : "%.4g", x) }

    static func table(_ result: TuningResult, scenario: String, seed: UInt64) -> String {
        let p = result.problem
        var lines = ["scenario \"\(scenario)\" (seed \(seed)): tuned by \(p.method.rawValue) search, \(result.evaluations.filter { $0.phase == .search }.count) candidates × \(p.replications) replications, \(result.finalists.count) finalists rerun on fresh seeds", ""]
        lines.append("chosen:")
        for (i, parameter) in p.parameters.enumerated() { lines.append("  \(parameter.path) = \(parameter.levels[result.chosen.candidate[i]])") }
        let objective = p.objective.map { "\($0.weight == 1 ? "" : number($0.weight) + " × ")\($0.metric)" }.joined(separator: " + ")
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
