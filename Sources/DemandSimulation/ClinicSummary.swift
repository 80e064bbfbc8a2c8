/// A clinic scenario's results across replications: means with 95 % confidence intervals.
public struct ClinicSummary: Hashable, Sendable, Codable {
    public struct Stage: Hashable, Sendable, Codable {
        public var name: String
        public var meanWaitMinutes: Estimate
        public var waitedShare: Estimate
        public var p90WaitMinutes: Estimate
    }

    public var replications: Int
    public var arrivals: Estimate
    public var served: Estimate
    public var stages: [Stage]
    public var meanMinutesInClinic: Estimate
    public var p90MinutesInClinic: Estimate

    public init(_ results: [ClinicResult], stageNames: [String]) {
        func estimate(_ value: (ClinicResult) -> Double) -> Estimate { Estimate(results.map(value)) }
        replications = results.count
        arrivals = estimate { Double($0.arrivals) }
        served = estimate { Double($0.served) }
        stages = stageNames.enumerated().map { s, name in
            Stage(name: name, meanWaitMinutes: estimate { $0.waits[s].meanSeconds / 60 },
                  waitedShare: estimate { $0.waits[s].waitedShare },
                  p90WaitMinutes: estimate { Double($0.waits[s].p90Seconds) / 60 })
        }
        meanMinutesInClinic = estimate { $0.timeInClinic.meanSeconds / 60 }
        p90MinutesInClinic = estimate { Double($0.timeInClinic.p90Seconds) / 60 }
    }

    /// A plain-text table for a terminal.
    public var table: String {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = ["stage            mean wait (min)    waited (share)    p90 wait (min)"]
        for stage in stages {
            lines.append(pad(stage.name, 17) + pad(stage.meanWaitMinutes.description, 19)
                + pad(stage.waitedShare.description, 18) + stage.p90WaitMinutes.description)
        }
        lines.append("")
        lines.append("time in clinic: mean \(meanMinutesInClinic) min, p90 \(p90MinutesInClinic) min")
        lines.append("arrivals \(arrivals), served \(served); \(replications) replications, ± is the 95 % confidence interval")
        return lines.joined(separator: "\n")
    }
}
