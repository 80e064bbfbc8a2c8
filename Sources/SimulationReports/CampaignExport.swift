import DemandSimulation
import Foundation

/// Writes a campaign run for researchers: `campaign.csv` in tidy long format (one row per
/// replication × day × district × age band × access group × channel × metric, and per
/// replication × day × district for the district's own metrics, with `all` in the group
/// columns), `summary.csv` with run totals and 95 % confidence intervals, and
/// `manifest.json`. Rows whose value is 0 in every replication are left out of
/// `campaign.csv` (a missing row is a zero). The schema is documented in `notebooks-export/README.md`.
public struct CampaignExport: Sendable {
    public let results: [CampaignResult]
    public let manifest: ClinicExport.Manifest

    public init(results: [CampaignResult], manifest: ClinicExport.Manifest) {
        self.results = results
        self.manifest = manifest
    }

    /// Writes `campaign.csv`, `summary.csv` and `manifest.json` into `directory`, which must not
    /// exist yet or be empty: an export never overwrites an earlier one.
    public func write(to directory: URL) throws(ExportError) {
        try ClinicExport.write([("campaign.csv", longCSV), ("summary.csv", summaryCSV)], manifest: manifest, to: directory)
    }

    public static let header = "replication,day,district,age_band,access,channel,metric,value"

    /// The long table, in replication, day, district, band, access, channel, metric order.
    public var longCSV: String {
        guard let first = results.first else { return Self.header + "\n" }
        var out = Self.header + "\n"
        let districts = first.districts.map(ClinicExport.field), bands = first.bands.map(ClinicExport.field)
        for day in 0..<first.days {
            for d in districts.indices {
                for b in bands.indices {
                    for access in Access.allCases {
                        for channel in CampaignChannel.allCases {
                            for metric in CampaignMetric.allCases {
                                guard results.contains(where: { $0[day, d, b, access, channel, metric] != 0 }) else { continue }
                                for (r, result) in results.enumerated() {
                                    out += "\(r),\(day),\(districts[d]),\(bands[b]),\(access.rawValue),\(channel.rawValue),\(metric.name),\(result[day, d, b, access, channel, metric])\n"
                                }
                            }
                        }
                    }
                }
                for metric in DistrictMetric.allCases {
                    guard results.contains(where: { $0[day, d, metric] != 0 }) else { continue }
                    for (r, result) in results.enumerated() {
                        out += "\(r),\(day),\(districts[d]),all,all,all,\(metric.name),\(result[day, d, metric])\n"
                    }
                }
            }
        }
        return out
    }

    /// `metric,mean,ci95_low,ci95_high,replications`: the run totals and derived figures of
    /// ``CampaignSummary``, then refusals as `refusal_<code>`.
    public var summaryCSV: String {
        guard !results.isEmpty else { return "metric,mean,ci95_low,ci95_high,replications\n" }
        let summary = CampaignSummary(results)
        var lines = ["metric,mean,ci95_low,ci95_high,replications"]
        for row in summary.rows + summary.refusals.map({ CampaignSummary.Row(metric: "refusal_" + $0.metric, estimate: $0.estimate) }) {
            let e = row.estimate
            lines.append([ClinicExport.field(row.metric), ClinicExport.number(e.mean), ClinicExport.number(e.mean - e.halfWidth95),
                          ClinicExport.number(e.mean + e.halfWidth95), "\(e.replications)"].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
