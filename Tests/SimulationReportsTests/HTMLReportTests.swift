import DemandSimulation
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PolicyTuning
import SimulationReports
import SlotAllocation
import Testing

/// The HTML reports: self-contained, every chart an SVG with a title, axes and a legend.
@Suite struct HTMLReportTests {
    static func campaignResults() throws -> [CampaignResult] {
        let campaign = CampaignConfiguration(
            days: 8,
            districts: [DistrictConfiguration(name: "d", cohorts: [
                Cohort(ageBand: "18-44", access: .smartphone, people: 5_000), Cohort(ageBand: "18-44", access: .noAccess, people: 2_000),
            ], centers: [CenterGroup(count: 3, vaccine: "COVISHIELD", capacityPerDay: 60)],
               deliveries: [Delivery(vaccine: "COVISHIELD", doses: 1_000, everyDays: 3)])],
            registration: [RegistrationWave(ageBand: "18-44")])
        return try CampaignSimulation(campaign: campaign, policy: .standard()).run(seed: 1, replications: 3, threads: 2)
    }

    @Test func campaignReportIsSelfContainedWithCharts() throws {
        let manifest = ClinicExport.Manifest(scenario: "t", scenarioFile: "t.yaml", scenarioBytes: Data(), seed: 1, replications: 3,
                                             slotsimVersion: "test", commandLine: ["slotsim"])
        let html = HTMLReport.campaign(try Self.campaignResults(), scenario: "t <&> test", manifest: manifest)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("</html>"))
        #expect(!html.contains("<script") && !html.contains("http://") || html.contains("http://www.w3.org/2000/svg"))
        #expect(!html.contains("https://"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
        for title in ["Vaccinations per day, by dose and age band", "Online bookings and walk-ins",
                      "Stock at the end of each day, deliveries and doses wasted", "Dose-1 coverage by access group"] {
            #expect(html.contains(title))
        }
        #expect(html.contains("day of the campaign") && html.contains("% of the group given dose 1") && html.contains("walk-ins served"))
        #expect(html.contains("t &lt;&amp;&gt; test"), "names are escaped")
        // Every SVG is well-formed XML.
        for piece in html.components(separatedBy: "<svg ").dropFirst() {
            let svg = "<svg " + piece.components(separatedBy: "</svg>")[0] + "</svg>"
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        }
    }

    @Test func tuningReportMarksTheChoice() throws {
        let problem = TuningProblem(parameters: [TuningParameter(path: "x", min: 0, max: 4, step: 1)],
                                    objective: [ObjectiveTerm(metric: "m", weight: 1)], constraints: [TuningConstraint(metric: "m", max: 3)],
                                    method: .grid, budget: 5, replications: 3, finalists: 2)
        let result = try Tuner(problem).run(seed: 1) { candidate, _, replications in
            (0..<replications).map { r in ["m": Double(candidate[0]) + Double(r) * 0.1] }
        }
        let html = HTMLReport.tuning(result, scenario: "s")
        #expect(html.contains("Objective over x") && html.contains("chosen: 2") && html.contains("violates a constraint"))
        #expect(!html.contains("<script"))
    }
}
