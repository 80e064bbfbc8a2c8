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

/// Broken campaign scenarios: each kind of mistake gets its position, key path and expectation.
@Suite struct CampaignScenarioErrorTests {
    static let good = """
        name: c
        campaign:
          days: 10
          districts:
            - name: d
              cohorts:
                - {ageBand: "18-44", access: smartphone, people: 1000}
              centers:
                - {count: 2, vaccine: covishield, capacityPerDay: 50}
              deliveries:
                - {vaccine: covishield, doses: 500}
          registration:
            - {ageBand: "18-44"}

        """

    @Test func aGoodCampaignLoadsWithDefaults() throws {
        let scenario = try ScenarioLoader.load(yaml: Self.good, file: "c.yaml")
        #expect(scenario.campaign?.booking.releaseSecond == 16 * 3600 && scenario.campaign?.districts[0].copies == 1)
        #expect(scenario.effectivePolicy == .standard())
    }

    func expectError(_ yaml: String, _ expected: ScenarioError, overrides: [String] = []) {
        #expect(throws: expected) { try ScenarioLoader.load(yaml: yaml, file: "c.yaml", overrides: overrides) }
    }

    @Test func eachKindOfMistakeIsPositioned() {
        expectError(Self.good.replacingOccurrences(of: "days: 10", with: "days: [10"),
                    ScenarioError(file: "c.yaml", line: 4, column: 12, path: "", message: "YAML syntax: did not find expected ',' or ']'"))
        expectError(Self.good.replacingOccurrences(of: "people: 1000", with: "people: many"),
                    ScenarioError(file: "c.yaml", line: 7, column: 50, path: "campaign.districts[0].cohorts[0].people", message: "expected a whole number, found \"many\""))
        expectError(Self.good.replacingOccurrences(of: "capacityPerDay: 50", with: "capacityPerDay: 50, capcity: 3"),
                    ScenarioError(file: "c.yaml", line: 9, column: 63, path: "campaign.districts[0].centers[0].capcity", message: "unknown key \"capcity\"; keys set here that are known: area, capacityPerDay, count, minAge, slots, vaccine"))
        expectError(Self.good.replacingOccurrences(of: "people: 1000", with: "people: -5"),
                    ScenarioError(file: "c.yaml", line: 7, column: 50, path: "campaign.districts[0].cohorts[0].people", message: "expected a number of people from 0 to 2000000000, found -5"))
        // Inconsistent dates: a delivery after the campaign's last day.
        expectError(Self.good.replacingOccurrences(of: "doses: 500}", with: "doses: 500, firstDay: 12}"),
                    ScenarioError(file: "c.yaml", line: 11, column: 45, path: "campaign.districts[0].deliveries[0].firstDay", message: "expected a day of the campaign from 0 to 9, found 12"))
        expectError(Self.good, ScenarioError(file: "--set", line: nil, column: nil, path: "campaign.walkIns.returnProbability",
                                             message: "expected a probability between 0 and 1, found 2.0 (from --set campaign.walkIns.returnProbability=2)"),
                    overrides: ["campaign.walkIns.returnProbability=2"])
    }
}
