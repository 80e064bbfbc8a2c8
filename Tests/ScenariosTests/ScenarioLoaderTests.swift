import DemandSimulation
import Foundation
import Scenarios
import Testing

@Suite struct ScenarioLoaderTests {
    static let scenariosFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scenarios")

    @Test func everyBundledScenarioLoads() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.scenariosFolder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for file in files {
            let scenario = try ScenarioLoader.load(path: Self.scenariosFolder.appendingPathComponent(file).path)
            #expect(!scenario.name.isEmpty, "\(file)")
        }
    }

    @Test func defaultsAndOverridesApply() throws {
        let scenario = try ScenarioLoader.load(yaml: "name: x\nclinic: {stages: [{name: v, staff: 1, service: {constant: {seconds: 60}}}], arrivals: {poisson: {perHour: 10}}}\n",
                                               file: "x.yaml", overrides: ["seed=9"])
        #expect(scenario.seed == 9 && scenario.replications == 10)
        #expect(scenario.clinic?.openSecond == 9 * 3600 && scenario.clinic?.queueLengthMax == 100_000)
    }

    @Test func sectionValidationErrorsArePositioned() {
        let clinic = "name: x\nreplications: 3\nclinic:\n  stages:\n    - {name: v, staff: 1, service: {constant: {seconds: 60}}}\n  arrivals: {poisson: {perHour: -5}}\n"
        #expect(throws: ScenarioError(file: "x.yaml", line: 6, column: 24, path: "clinic.arrivals.poisson.perHour",
                                      message: "expected a rate above 0 and at most 1000 per second, found -5.0")) {
            try ScenarioLoader.load(yaml: clinic, file: "x.yaml")
        }
        #expect(throws: ScenarioError(file: "x.yaml", line: 2, column: 1, path: "replications", message: "expected 1 to 10000, found 0")) {
            try ScenarioLoader.load(yaml: "name: x\nreplications: 0\n", file: "x.yaml")
        }
        let policy = "name: x\npolicy:\n  categories:\n    - {name: walk-in, share: 1.5}\n    - {name: open}\n"
        #expect(throws: ScenarioError(file: "x.yaml", line: 4, column: 23, path: "policy.categories[0].share",
                                      message: "expected a number between 0 and 1, found 1.5")) {
            try ScenarioLoader.load(yaml: policy, file: "x.yaml")
        }
        #expect(throws: ScenarioError(file: "missing.yaml", line: nil, column: nil, path: "", message: "cannot read the file")) {
            try ScenarioLoader.load(path: "missing.yaml")
        }
    }
}
