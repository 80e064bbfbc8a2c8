/// A campaign's run totals across replications, each a mean with a 95 % confidence interval.
public struct CampaignSummary: Hashable, Sendable, Codable {
    public struct Row: Hashable, Sendable, Codable {
        public var metric: String
        public var estimate: Estimate
        public init(metric: String, estimate: Estimate) {
            self.metric = metric
            self.estimate = estimate
        }
    }

    public var replications: Int
    public var days: Int
    /// Totals of every counted metric, then derived figures (shares, coverage, gaps, percentiles).
    public var rows: [Row]
    /// Refusals by engine code, means across replications.
    public var refusals: [Row]

    public init(_ results: [CampaignResult]) {
        precondition(!results.isEmpty)
        replications = results.count
        days = results[0].days
        let figures = results.map(\.figures)
        var rows: [Row] = []
        for (k, (name, _)) in figures[0].enumerated() {
            let values = figures.compactMap { $0[k].value }
            // A figure some replication cannot give (no vaccinations, no clinic visits) is left out.
            guard values.count == results.count else { continue }
            rows.append(Row(metric: name, estimate: Estimate(values)))
        }
        self.rows = rows
        let codes = Set(results.flatMap { $0.refusals.keys }).sorted()
        refusals = codes.map { code in Row(metric: code, estimate: Estimate(results.map { Double($0.refusals[code] ?? 0) })) }
    }

    public func value(_ metric: String) -> Estimate? { rows.first { $0.metric == metric }?.estimate }

    /// A plain-text table for a terminal.
    public var table: String {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = [pad("metric", 36) + "mean ± 95 % CI"]
        for row in rows { lines.append(pad(row.metric, 36) + row.estimate.description) }
        if !refusals.isEmpty {
            lines.append("")
            lines.append(pad("refusals by reason", 36) + "mean ± 95 % CI")
            for row in refusals { lines.append(pad(row.metric, 36) + row.estimate.description) }
        }
        lines.append("")
        lines.append("\(days) days, \(replications) replications; ± is the 95 % confidence interval across replications")
        return lines.joined(separator: "\n")
    }
}

extension CampaignResult {
    /// The names of ``figures`` for a campaign whose clinic has `stageNames` (tuning checks objectives against them).
    public static func figureNames(stageNames: [String]) -> [String] {
        CampaignResult(days: 1, districts: ["-"], bands: ["-"], stageNames: stageNames).figures.map(\.name)
    }

    /// The run's figures, in a fixed order: totals of every metric, then derived figures
    /// (percentages, coverage and its gap, percentiles, clinic waits). A figure is nil
    /// when this run cannot give it (no registered person vaccinated, no clinic visit).
    /// Tuning objectives and constraints name these.
    public var figures: [(name: String, value: Double?)] {
        var list: [(String, Double?)] = []
        list.append(("people", Double(people())))
        for metric in CampaignMetric.allCases { list.append((metric.name, Double(total(metric)))) }
        for metric in DistrictMetric.allCases where metric != .stockEnd { list.append((metric.name, Double(total(metric)))) }
        list.append(("stock_at_end", Double(finalStock)))
        // Shares in percent of: doses from opened vials, published capacity, doses given, the group's people.
        let opened = total(.dosesGiven) + total(.dosesWasted)
        list.append(("wastage_percent", opened > 0 ? 100 * Double(total(.dosesWasted)) / Double(opened) : 0))
        let capacity = total(.capacityPublished)
        list.append(("capacity_utilisation_percent", capacity > 0 ? 100 * Double(total(.dosesGiven)) / Double(capacity) : 0))
        let doses = total(.vaccinationsDose1) + total(.vaccinationsDose2)
        let walkIns = total(.vaccinationsDose1, channel: .walkIn) + total(.vaccinationsDose2, channel: .walkIn)
        list.append(("walk_in_share_of_doses_percent", doses > 0 ? 100 * Double(walkIns) / Double(doses) : 0))
        for access in Access.allCases {
            list.append(("coverage_dose1_\(access.rawValue)_percent", coverage(access).map { $0 * 100 }))
        }
        list.append(("coverage_gap_points", coverageGapPoints))
        list.append(("dose2_window_missed", Double(dose2WindowMissed)))
        for q in [50, 90, 99] {
            list.append(("days_registration_to_dose1_p\(q)", daysToVaccinationPercentile(Double(q) / 100).map(Double.init)))
        }
        if !stageNames.isEmpty {
            let visited = timeInClinic.count > 0
            list.append(("minutes_in_clinic_mean", visited ? timeInClinic.summary.meanSeconds / 60 : nil))
            list.append(("minutes_in_clinic_p90", visited ? Double(timeInClinic.percentile(0.9)) / 60 : nil))
            for (s, name) in stageNames.enumerated() {
                let waited = stageWaits[s].count > 0
                list.append(("wait_minutes_\(name)_mean", waited ? stageWaits[s].summary.meanSeconds / 60 : nil))
                list.append(("wait_minutes_\(name)_p90", waited ? Double(stageWaits[s].percentile(0.9)) / 60 : nil))
            }
        }
        return list
    }
}
