import DemandSimulation
import Foundation
import PolicyTuning

/// Writes a tuning run: `evaluations.csv` (one row per evaluation: phase, seed, the
/// parameters' values, the objective's mean and 95 % interval, constrained metrics'
/// means, feasibility), `tuned.yaml` (the scenario with the chosen values) and `manifest.json`.
public struct TuningExport: Sendable {
    public let result: TuningResult
    public let tunedYAML: String
    public let manifest: ClinicExport.Manifest

    public init(result: TuningResult, tunedYAML: String, manifest: ClinicExport.Manifest) {
        self.result = result
        self.tunedYAML = tunedYAML
        self.manifest = manifest
    }

    public func write(to directory: URL) throws(ExportError) {
        try ClinicExport.write([("evaluations.csv", evaluationsCSV), ("tuned.yaml", tunedYAML)], manifest: manifest, to: directory)
    }

    public var evaluationsCSV: String {
        let p = result.problem
        let header = ["phase", "seed"] + p.parameters.map(\.path) + ["objective_mean", "objective_ci95_low", "objective_ci95_high", "replications"]
            + p.constraints.map { "\($0.metric)_mean" } + ["feasible", "chosen"]
        var lines = [header.map(ClinicExport.field).joined(separator: ",")]
        for e in result.evaluations {
            let o = e.objective
            let chosen = e.phase == .final && e.candidate == result.chosen.candidate
            let row = [e.phase.rawValue, "\(e.seed)"] + p.parameters.indices.map { p.parameters[$0].levels[e.candidate[$0]] }
                + [ClinicExport.number(o.mean), ClinicExport.number(o.mean - o.halfWidth95), ClinicExport.number(o.mean + o.halfWidth95), "\(o.replications)"]
                + e.constraintMeans.map(ClinicExport.number) + [e.feasible ? "true" : "false", chosen ? "true" : "false"]
            lines.append(row.map(ClinicExport.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
