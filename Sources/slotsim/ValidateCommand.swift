import ArgumentParser
import Scenarios

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a scenario file without running it; errors give file:line:column and the key path.")

    @Argument(help: "The scenario file (YAML).")
    var file: String

    @Option(name: .customLong("set"), help: "Override a value: key.path=value (repeatable).")
    var overrides: [String] = []

    func run() throws {
        let scenario = try loadOrExit(file, overrides)
        let campaign = scenario.campaign.map { c in
            "campaign (\(c.days) days, \(c.districts.reduce(0) { $0 + $1.copies }) districts)"
        }
        let tune = try loadTuningOrExit(file, overrides, required: false).map { "tune (\($0.problem.parameters.count) parameters, \($0.problem.method.rawValue))" }
        let sections = [scenario.clinic.map { "clinic (\($0.stages.count) stages)" }, scenario.policy.map { _ in "policy" }, campaign, tune]
        print("\(file): ok: scenario \"\(scenario.name)\", \(scenario.replications) replications, seed \(scenario.seed); "
            + "sections: \(sections.compactMap { $0 }.joined(separator: ", "))")
    }
}

/// Loads a scenario, or prints the positioned error and exits with status 1.
func loadOrExit(_ file: String, _ overrides: [String]) throws -> Scenario {
    do {
        return try ScenarioLoader.load(path: file, overrides: overrides)
    } catch {
        printError(error.description)
        throw ExitCode(1)
    }
}
