import DemandSimulation
import Foundation
import Scenarios
import SlotAllocation
import Testing

let clinicYAML = """
name: one centre
clinic:
  stages:
    - name: registration
      staff: 2
      service: {exponential: {mean: 240}}
    - name: vaccination
      staff: 4
      service: {shiftedExponential: {minimum: 120, mean: 300}}
      walk: {constant: {seconds: 30}}
  arrivals: {poisson: {perHour: 40}}
  openSecond: 32400
  closeSecond: 61200
  queueLengthMax: 1000
"""

@Suite struct ScenarioDocumentTests {
    @Test func aGoodFileDecodesAtAKeyPath() throws {
        let document = try ScenarioDocument(yaml: clinicYAML, file: "clinic.yaml")
        let clinic = try document.decode(ClinicConfiguration.self, at: "clinic")
        #expect(clinic.stages.map(\.staff) == [2, 4])
        #expect(clinic.stages[1].service == .shiftedExponential(minimum: 120, mean: 300))
        #expect(clinic.arrivals == .poisson(perHour: 40))
        #expect(try ClinicSimulation(clinic).run(seed: 1, replication: 0).served > 0)
    }

    @Test func syntaxErrorsKeepTheirPosition() {
        #expect(throws: ScenarioError.self) { try ScenarioDocument(yaml: "clinic:\n  stages: [a, b\n  staff: 3\n", file: "bad.yaml") }
        do {
            _ = try ScenarioDocument(yaml: "clinic:\n  stages: [a, b\n  staff: 3\n", file: "bad.yaml")
        } catch {
            #expect(error.file == "bad.yaml" && error.line != nil && error.column != nil)
            #expect(error.message.hasPrefix("YAML syntax"))
        }
    }

    @Test func aWrongTypeNamesLineColumnKeyPathAndWhatWasFound() throws {
        let yaml = """
        policy:
          categories:
            - name: walk-in
              share: 20%
            - name: open
        """
        let document = try ScenarioDocument(yaml: yaml, file: "scenarios/x.yaml")
        #expect(throws: ScenarioError(file: "scenarios/x.yaml", line: 4, column: 7, path: "policy.categories[0].share",
                                      message: "expected a number, found \"20%\"")) {
            try document.decode(AllocationPolicy.self, at: "policy")
        }
    }

    @Test func unknownKeysAreRejectedWithTheKnownOnes() throws {
        let yaml = clinicYAML.replacingOccurrences(of: "      staff: 4", with: "      staf: 4\n      staff: 4")
        let document = try ScenarioDocument(yaml: yaml, file: "clinic.yaml")
        do {
            _ = try document.decode(ClinicConfiguration.self, at: "clinic")
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.line == 8 && error.column == 7 && error.path == "clinic.stages[1].staf", "\(error)")
            #expect(error.message == "unknown key \"staf\"; keys set here that are known: name, service, staff, walk", "\(error)")
        }
    }

    @Test func missingKeysAndMissingSectionsAreNamed() throws {
        let document = try ScenarioDocument(yaml: clinicYAML.replacingOccurrences(of: "  arrivals: {poisson: {perHour: 40}}\n", with: ""),
                                            file: "clinic.yaml")
        #expect(throws: ScenarioError(file: "clinic.yaml", line: 2, column: 1, path: "clinic", message: "missing key \"arrivals\"")) {
            try document.decode(ClinicConfiguration.self, at: "clinic")
        }
        #expect(throws: ScenarioError(file: "clinic.yaml", line: 1, column: 1, path: "policy", message: "missing; expected a value here")) {
            try document.decode(AllocationPolicy.self, at: "policy")
        }
    }

    @Test func overridesChangeValuesAndBadOnesAreErrors() throws {
        let document = try ScenarioDocument(yaml: clinicYAML, file: "clinic.yaml",
                                            overrides: ["clinic.stages[1].staff=6", "clinic.arrivalsMax=100", "name=other"])
        let clinic = try document.decode(ClinicConfiguration.self, at: "clinic")
        #expect(clinic.stages[1].staff == 6 && clinic.arrivalsMax == 100)
        #expect(try document.decode(Scenario.self).name == "other")
        #expect(throws: ScenarioError.self) { try ScenarioDocument(yaml: clinicYAML, file: "c.yaml", overrides: ["clinic.stages[7].staff=1"]) }
        #expect(throws: ScenarioError.self) { try ScenarioDocument(yaml: clinicYAML, file: "c.yaml", overrides: ["no equals sign"]) }
        #expect(throws: ScenarioError.self) { try ScenarioDocument(yaml: clinicYAML, file: "c.yaml", overrides: ["name.x=1"]) }
    }

    @Test func validationErrorsOfTheConfigurationTypesGetTheirPosition() throws {
        let document = try ScenarioDocument(yaml: clinicYAML.replacingOccurrences(of: "staff: 2", with: "staff: 0"), file: "clinic.yaml")
        let clinic = try document.decode(ClinicConfiguration.self, at: "clinic")
        do {
            _ = try ClinicSimulation(clinic)
            Issue.record("staff 0 was accepted")
        } catch {
            let positioned = document.error(at: error.path, error.expected)
            #expect(positioned.description == "clinic.yaml:5:7: clinic.stages[0].staff: expected 1 to 10000 people, found 0")
        }
    }

    @Test func aliasesAndMergeKeysAreRefusedBeforeParsing() {
        let alias = "a0: &a0 {k: 0}\na1: &a1 [*a0, *a0]\nname: x\n"
        #expect(throws: ScenarioError(file: "x.yaml", line: 2, column: 10, path: "",
                                      message: "aliases (*name) are not supported in scenario files; write the values out")) {
            try ScenarioDocument(yaml: alias, file: "x.yaml")
        }
        #expect(throws: ScenarioError.self) { try ScenarioDocument(yaml: "base: {k: 1}\nother:\n  <<: {k: 2}\n", file: "x.yaml") }
        // A star inside text is not an alias.
        #expect((try? ScenarioDocument(yaml: "name: 5 * 3 # a *comment\ndescription: 'a *b'\n", file: "x.yaml")) != nil)
    }

    @Test func emptyAndNullValuesAreNotSilentlyAccepted() throws {
        let empty = try ScenarioDocument(yaml: clinicYAML.replacingOccurrences(of: "      staff: 4", with: "      staf:\n      staff: 4"), file: "c.yaml")
        #expect(throws: ScenarioError(file: "c.yaml", line: 8, column: 7, path: "clinic.stages[1].staf",
                                      message: "\"staf\" has no value: give one, or leave the key out")) {
            try empty.decode(ClinicConfiguration.self, at: "clinic")
        }
        let nullName = try ScenarioDocument(yaml: "name: ~\n", file: "n.yaml")
        #expect(throws: ScenarioError(file: "n.yaml", line: 1, column: 1, path: "name", message: "expected a value, found null")) {
            try nullName.decode(Scenario.self)
        }
        let wrongShape = try ScenarioDocument(yaml: "name: x\nclinic: 5\n", file: "s.yaml")
        #expect(throws: ScenarioError(file: "s.yaml", line: 2, column: 1, path: "clinic",
                                      message: "expected a mapping (key: value lines), found \"5\"")) {
            try wrongShape.decode(Scenario.self)
        }
    }

    @Test func errorsInOverriddenValuesBlameTheOverride() throws {
        let document = try ScenarioDocument(yaml: clinicYAML, file: "clinic.yaml", overrides: ["clinic.stages[1].staff=0", "clinic.arrivalsMax=null"])
        let clinic = try document.decode(ClinicConfiguration.self, at: "clinic")
        #expect(clinic.arrivalsMax == nil)
        let staffError = document.error(at: "clinic.stages[1].staff", "expected 1 to 10000 people, found 0")
        #expect(staffError.description == "--set: clinic.stages[1].staff: expected 1 to 10000 people, found 0 (from --set clinic.stages[1].staff=0)")
        let typed = try ScenarioDocument(yaml: clinicYAML, file: "clinic.yaml", overrides: ["clinic.stages[0].staff=many"])
        do {
            _ = try typed.decode(ClinicConfiguration.self, at: "clinic")
            Issue.record("a non-number was accepted")
        } catch {
            #expect(error.file == "--set" && error.message.contains("from --set clinic.stages[0].staff=many"), "\(error)")
        }
        #expect(throws: ScenarioError.self) { try document.decode(ClinicConfiguration.self, at: "clinic[") }
    }

    @Test func aHugeOrEndlessFileIsRefusedNotRead() {
        #expect(throws: ScenarioError(file: "/dev/zero", line: nil, column: nil, path: "", message: "the file is larger than 16777216 bytes")) {
            try ScenarioLoader.load(path: "/dev/zero")
        }
    }

    @Test func keyPathsParseAndPrint() {
        let path = KeyPathComponent.parse("clinic.stages[12].service")
        #expect(path == [.key("clinic"), .key("stages"), .index(12), .key("service")])
        #expect(KeyPathComponent.text(path!) == "clinic.stages[12].service")
        for bad in ["", ".a", "a..b", "a[x]", "a[-1]", "a]", "a[+1]", "a[01]", "a[]"] { #expect(KeyPathComponent.parse(bad) == nil, "\(bad)") }
    }
}
