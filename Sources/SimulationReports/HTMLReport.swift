import DemandSimulation
import Foundation
import PolicyTuning

/// One self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched) for a
/// planner: the run's charts with axes, units and legends, and its totals with 95 %
/// confidence intervals.
public enum HTMLReport {
    /// A campaign run: daily vaccinations by dose and age band, bookings against walk-ins,
    /// walk-ins turned away, stock and wastage, dose-1 coverage by access group, and totals.
    public static func campaign(_ results: [CampaignResult], scenario: String, manifest: ClinicExport.Manifest) -> String {
        let first = results[0]
        let days = Array(0..<first.days)
        func daily(_ value: (CampaignResult, Int) -> Double) -> (mean: [(x: Double, y: Double)], band: [(x: Double, low: Double, high: Double)]) {
            let estimates = days.map { day in Estimate(results.map { value($0, day) }) }
            return (zip(days, estimates).map { (Double($0), $1.mean) },
                    zip(days, estimates).map { (Double($0), $1.mean - $1.halfWidth95, $1.mean + $1.halfWidth95) })
        }
        func sum(_ r: CampaignResult, _ day: Int, _ metric: CampaignMetric, band: Int? = nil, access: Access? = nil, channel: CampaignChannel? = nil) -> Double {
            var total: Int64 = 0
            for d in r.districts.indices {
                for b in r.bands.indices where band == nil || b == band {
                    for a in Access.allCases where access == nil || a == access {
                        for c in CampaignChannel.allCases where channel == nil || c == channel { total += r[day, d, b, a, c, metric] }
                    }
                }
            }
            return Double(total)
        }
        func district(_ r: CampaignResult, _ day: Int, _ metric: DistrictMetric) -> Double {
            Double(r.districts.indices.reduce(Int64(0)) { $0 + r[day, $1, metric] })
        }
        var charts: [String] = []
        // 1. Vaccinations by dose and band (bands with any vaccinations).
        var vaccinationSeries: [SVGChart.Series] = []
        for (b, band) in first.bands.enumerated() {
            for (dose, metric) in [(1, CampaignMetric.vaccinationsDose1), (2, .vaccinationsDose2)]
            where results.contains(where: { r in days.contains { sum(r, $0, metric, band: b) > 0 } }) {
                let d = daily { sum($0, $1, metric, band: b) }
                vaccinationSeries.append(.init(name: "\(band), dose \(dose)", color: SVGChart.palette[vaccinationSeries.count % 9],
                                               values: d.mean, band: d.band, dashed: dose == 2))
            }
        }
        charts.append(SVGChart(title: "Vaccinations per day, by dose and age band", xLabel: "day of the campaign",
                               yLabel: "doses given per day", series: vaccinationSeries).svg)
        // 2. Bookings vs walk-ins.
        let bookings = daily { sum($0, $1, .bookings) }, walkIns = daily { sum($0, $1, .walkInsServed) }
        let away = daily { sum($0, $1, .walkInsTurnedAway) }, noStock = daily { sum($0, $1, .turnedAwayNoStock) }
        charts.append(SVGChart(title: "Online bookings and walk-ins", xLabel: "day of the campaign", yLabel: "people per day", series: [
            .init(name: "bookings made", color: SVGChart.palette[0], values: bookings.mean, band: bookings.band),
            .init(name: "walk-ins served", color: SVGChart.palette[2], values: walkIns.mean, band: walkIns.band),
            .init(name: "walk-ins turned away", color: SVGChart.palette[1], values: away.mean, band: away.band),
            .init(name: "sent home: no stock", color: SVGChart.palette[3], values: noStock.mean, band: noStock.band, dashed: true),
        ]).svg)
        // 3. Stock and wastage.
        let stock = daily { district($0, $1, .stockEnd) }, wasted = daily { district($0, $1, .dosesWasted) }
        let delivered = daily { district($0, $1, .dosesDelivered) }
        charts.append(SVGChart(title: "Stock at the end of each day, deliveries and doses wasted", xLabel: "day of the campaign", yLabel: "doses", series: [
            .init(name: "stock at end of day", color: SVGChart.palette[0], values: stock.mean, band: stock.band),
            .init(name: "delivered", color: SVGChart.palette[7], values: delivered.mean, dashed: true),
            .init(name: "wasted (opened vials)", color: SVGChart.palette[1], values: wasted.mean, band: wasted.band),
        ]).svg)
        // 4. Cumulative dose-1 coverage by access group.
        var coverageSeries: [SVGChart.Series] = []
        for (k, access) in Access.allCases.enumerated() where first.people(access: access) > 0 {
            let people = Double(first.people(access: access))
            let d = daily { r, day in (0...day).reduce(0.0) { $0 + sum(r, $1, .vaccinationsDose1, access: access) } / people * 100 }
            coverageSeries.append(.init(name: access == .noAccess ? "no phone (walk-in only)" : access.rawValue, color: SVGChart.palette[k],
                                        values: d.mean, band: d.band))
        }
        charts.append(SVGChart(title: "Dose-1 coverage by access group", xLabel: "day of the campaign", yLabel: "% of the group given dose 1",
                               series: coverageSeries).svg)
        let summary = CampaignSummary(results)
        var rows = summary.rows.map { "<tr><td>\(SVGChart.escape($0.metric))</td><td>\(number($0.estimate.mean))</td><td>± \(number($0.estimate.halfWidth95))</td></tr>" }
        rows += summary.refusals.map { "<tr><td>refused: \(SVGChart.escape($0.metric))</td><td>\(number($0.estimate.mean))</td><td>± \(number($0.estimate.halfWidth95))</td></tr>" }
        return page(title: "slotsim: \(scenario)", intro: """
            <p>Scenario <b>\(SVGChart.escape(scenario))</b>, \(first.days) days, \(results.count) replications, seed \(manifest.seed) \
            (scenario file \(SVGChart.escape(manifest.scenarioFile)), hash \(manifest.scenarioHash), slotsim \(manifest.slotsimVersion)). \
            Lines are means over the replications; shaded bands are 95 % confidence intervals. Large numbers: L = lakh (10<sup>5</sup>), cr = crore (10<sup>7</sup>).</p>
            """, charts: charts, table: "<table><tr><th>run total</th><th>mean</th><th>95 % CI</th></tr>\(rows.joined())</table>")
    }

    /// A tuning run: the objective over each parameter (search evaluations, with their 95 %
    /// intervals; the chosen value marked), the finalists and the differences.
    public static func tuning(_ result: TuningResult, scenario: String) -> String {
        let p = result.problem
        var charts: [String] = []
        let search = result.evaluations.filter { $0.phase == .search }
        for (i, parameter) in p.parameters.enumerated() {
            let coordinates = parameter.coordinates
            let feasible = search.filter(\.feasible), infeasible = search.filter { !$0.feasible }
            func series(_ list: [Evaluation], _ name: String, _ color: String) -> SVGChart.Series {
                .init(name: name, color: color, values: list.map { (coordinates[$0.candidate[i]], $0.objective.mean) },
                      band: list.map { (coordinates[$0.candidate[i]], $0.objective.mean - $0.objective.halfWidth95, $0.objective.mean + $0.objective.halfWidth95) },
                      points: true)
            }
            let chosen = coordinates[result.chosen.candidate[i]]
            let numeric = parameter.levels.allSatisfy { Double($0) != nil }
            charts.append(SVGChart(title: "Objective over \(parameter.path)",
                                   xLabel: parameter.path + (numeric ? "" : " (level number: " + parameter.levels.joined(separator: ", ") + ")"),
                                   yLabel: "objective (mean, 95 % CI)",
                                   series: [series(feasible, "meets the constraints", SVGChart.palette[0]), series(infeasible, "violates a constraint", SVGChart.palette[1])],
                                   marks: [(chosen, "chosen: \(parameter.levels[result.chosen.candidate[i]])")], zeroBased: false, padX: true).svg)
        }
        var rows: [String] = []
        for e in result.finalists {
            let values = p.parameters.indices.map { "\(p.parameters[$0].path) = \(p.parameters[$0].levels[e.candidate[$0]])" }.joined(separator: "<br>")
            let constraints = p.constraints.indices.map { "\(p.constraints[$0].metric): \(number(e.constraintMeans[$0]))" }.joined(separator: "<br>")
            rows.append("<tr><td>\(values)</td><td>\(number(e.objective.mean)) ± \(number(e.objective.halfWidth95))</td><td>\(constraints)</td><td>\(e.feasible ? "yes" : "no")</td></tr>")
        }
        let differences = result.differences.map { d in
            let values = p.parameters.indices.map { "\(p.parameters[$0].path) = \(p.parameters[$0].levels[d.runnerUp[$0]])" }.joined(separator: ", ")
            return "<li>chosen − (\(values)): \(number(d.difference.mean)) ± \(number(d.difference.halfWidth95))</li>"
        }.joined()
        let objective = p.objective.enumerated().map { k, term in
            (term.weight < 0 ? (k == 0 ? "−" : " − ") : (k == 0 ? "" : " + ")) + (abs(term.weight) == 1 ? "" : number(abs(term.weight)) + " × ") + term.metric
        }.joined()
        return page(title: "slotsim tune: \(scenario)", intro: """
            <p>Scenario <b>\(SVGChart.escape(scenario))</b>: \(p.method.rawValue) search over \(search.count) candidates, \(p.replications) \
            replications each on the same seeds; the best \(result.finalists.count) rerun on fresh seeds. Objective (maximised): \
            \(SVGChart.escape(objective)). Points are search means with 95 % confidence intervals. \
            Large numbers: L = lakh (10<sup>5</sup>), cr = crore (10<sup>7</sup>).</p>
            <p><b>Chosen:</b> \(SVGChart.escape(result.chosenOverrides.joined(separator: ", "))) — objective \(number(result.chosen.objective.mean)) \
            ± \(number(result.chosen.objective.halfWidth95)) (95 % CI)\(result.constraintsHold ? ", every constraint met" : "; <b>no finalist met every constraint</b>").</p>
            <ul>\(differences)</ul>
            """, charts: charts,
            table: "<table><tr><th>finalist</th><th>objective (95 % CI)</th><th>constrained metrics (means)</th><th>feasible</th></tr>\(rows.joined())</table>")
    }

    static func number(_ x: Double) -> String {
        abs(x) >= 1000 ? String(format: "%.0f", x) : String(format: "%.4g", x)
    }

    static func page(title: String, intro: String, charts: [String], table: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1000px; }
        h1 { font-size: 22px; } figure { margin: 18px 0; } table { border-collapse: collapse; font-size: 13px; }
        td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; } th { background: #f3f3f3; }
        </style></head><body>
        <h1>\(SVGChart.escape(title))</h1>
        \(intro)
        \(charts.map { "<figure>\($0)</figure>" }.joined(separator: "\n"))
        \(table)
        </body></html>

        """
    }
}
