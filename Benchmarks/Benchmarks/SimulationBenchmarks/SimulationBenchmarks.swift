// The simulator's engine target (issue: DemandSimulation): an M/M/10 clinic at ρ = 0.9 for
// 1,000,000 customers, built with the same event engine and clinic model planners use.
// customers/s = 1,000,000 ÷ wall-clock time per iteration. Results: ../../RESULTS.md.
import Benchmark
import DemandSimulation

let benchmarks: @Sendable () -> Void = {
    Benchmark("clinic M/M/10 at rho 0.9, 1M customers",
              configuration: .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident], timeUnits: .milliseconds,
                                   warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
        let clinic = ClinicConfiguration(
            stages: [ClinicStage(name: "vaccination", staff: 10, service: .exponential(mean: 60))],
            arrivals: .poisson(perHour: 540), openSecond: 0, closeSecond: 366 * 86_400, arrivalsMax: 1_000_000,
            queueLengthMax: 10_000_000)
        let result = try ClinicSimulation(clinic).run(seed: 1, replication: 0)
        blackHole(result.served)
    }
}
