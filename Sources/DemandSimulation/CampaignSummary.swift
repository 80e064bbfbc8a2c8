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
        var rows: [Row] = []
        func add(_ name: String, _ value: (CampaignResult) -> Double?) {
            let values = results.compactMap(value)
            guard values.count == results.count else { return }
            rows.append(Row(metric: name, estimate: Estimate(values)))
        }
        add("people") { Double($0.people()) }
        for metric in CampaignMetric.allCases { add(metric.name) { Double($0.total(metric)) } }
        for metric in DistrictMetric.allCases where metric != .stockEnd { add(metric.name) { Double($0.total(metric)) } }
        add("stock_at_end") { Double($0.finalStock) }
        // Shares in percent of: doses from opened vials, published capacity, doses given, the group's people.
        add("wastage_percent") { r in
            let opened = r.total(.dosesGiven) + r.total(.dosesWasted)
            return opened > 0 ? 100 * Double(r.total(.dosesWasted)) / Double(opened) : 0
        }
        add("capacity_utilisation_percent") { r in
            let capacity = r.total(.capacityPublished)
            return capacity > 0 ? 100 * Double(r.total(.dosesGiven)) / Double(capacity) : 0
        }
        add("walk_in_share_of_doses_percent") { r in
            let doses = r.total(.vaccinationsDose1) + r.total(.vaccinationsDose2)
            let walkIns = r.total(.vaccinationsDose1, channel: .walkIn) + r.total(.vaccinationsDose2, channel: .walkIn)
            return doses > 0 ? 100 * Double(walkIns) / Double(doses) : 0
        }
        for access in Access.allCases {
            add("coverage_dose1_\(access.rawValue)_percent") { $0.coverage(access).map { $0 * 100 } }
        }
        add("coverage_gap_points") { $0.coverageGapPoints }
        add("dose2_window_missed") { Double($0.dose2WindowMissed) }
        for q in [50, 90, 99] {
            add("days_registration_to_dose1_p\(q)") { $0.daysToVaccinationPercentile(Double(q) / 100).map(Double.init) }
        }
        if !results[0].stageNames.isEmpty {
            add("minutes_in_clinic_mean") { $0.timeInClinic.count > 0 ? $0.timeInClinic.summary.meanSeconds / 60 : nil }
            add("minutes_in_clinic_p90") { $0.timeInClinic.count > 0 ? Double($0.timeInClinic.percentile(0.9)) / 60 : nil }
            for (s, name) in results[0].stageNames.enumerated() {
                add("wait_minutes_\(name)_mean") { $0.stageWaits[s].count > 0 ? $0.stageWaits[s].summary.meanSeconds / 60 : nil }
                add("wait_minutes_\(name)_p90") { $0.stageWaits[s].count > 0 ? Double($0.stageWaits[s].percentile(0.9)) / 60 : nil }
            }
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
