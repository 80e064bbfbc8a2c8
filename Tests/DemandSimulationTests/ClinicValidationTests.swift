import DemandSimulation
import Foundation
import Testing

/// Erlang C: the probability that an arrival waits in an M/M/c queue, and the mean wait.
func erlangC(servers c: Int, arrivalRate lambda: Double, serviceRate mu: Double) -> (pWait: Double, meanWait: Double) {
    let a = lambda / mu, rho = a / Double(c)
    var term = 1.0, sum = 1.0
    for k in 1..<c {
        term *= a / Double(k)
        sum += term
    }
    let last = term * a / Double(c)
    let pWait = last / (1 - rho) / (sum + last / (1 - rho))
    return (pWait, pWait / (Double(c) * mu - lambda))
}

/// M/M/c in seconds: Poisson arrivals, exponential service, `servers` vaccinators, one stage.
func mmc(servers: Int, perMinute lambda: Double, serviceMinutes: Double, customers: Int) -> ClinicConfiguration {
    ClinicConfiguration(stages: [ClinicStage(name: "vaccination", staff: servers, service: .exponential(mean: serviceMinutes * 60))],
                        arrivals: .poisson(perHour: lambda * 60), openSecond: 0, closeSecond: 366 * 86_400,
                        arrivalsMax: customers)
}

@Suite struct ClinicValidationTests {
    @Test func erlangCFormulaMatchesThePublishedValue() {
        let (p, w) = erlangC(servers: 10, arrivalRate: 9, serviceRate: 1)
        #expect(abs(p - 0.6687) < 0.0001)
        #expect(abs(w - 0.6687) < 0.0001)
    }

    /// c = 10, λ = 9/min, μ = 1/min: P(wait) = 0.6687, Wq = 0.6687 min (40.1 s). At ρ = 0.9
    /// the mean wait of one million customers has a relative standard error of ≈ 2.8 % (from the
    /// queue length's long-run variance), so four replications of a million (≈ 1.4 %) against a
    /// ±5 % band is a check of about 3.5 standard errors; P(wait) is far tighter (≈ 0.3 %), ±2 %.
    /// 1-second ticks count waits of under half a second as none, which lowers P(wait) by ≈ 1 %.
    @Test func singleClinicReproducesErlangC() throws {
        let simulation = try ClinicSimulation(mmc(servers: 10, perMinute: 9, serviceMinutes: 1, customers: 1_000_000))
        let runs = try (0..<4).map { try simulation.run(seed: 42, replication: $0) }
        let meanWait = runs.map { $0.waits[0].meanSeconds }.reduce(0, +) / 4
        let pWait = runs.map { $0.waits[0].waitedShare }.reduce(0, +) / 4
        let theory = erlangC(servers: 10, arrivalRate: 9, serviceRate: 1)
        #expect(abs(meanWait / (theory.meanWait * 60) - 1) < 0.05, "mean wait \(meanWait) s vs \(theory.meanWait * 60) s")
        #expect(abs(pWait / theory.pWait - 1) < 0.02, "P(wait) \(pWait) vs \(theory.pWait)")
        #expect(runs.allSatisfy { $0.served == 1_000_000 && $0.arrivals == 1_000_000 })
    }

    @Test func aModeratelyLoadedClinicMatchesErlangCToo() throws {
        // c = 4, λ = 2.5/min, μ = 1/min: P(wait) ≈ 0.26, a share a broken model cannot hit by accident.
        let simulation = try ClinicSimulation(mmc(servers: 4, perMinute: 2.5, serviceMinutes: 1, customers: 300_000))
        let result = try simulation.run(seed: 7, replication: 0)
        let theory = erlangC(servers: 4, arrivalRate: 2.5, serviceRate: 1)
        #expect(abs(result.waits[0].waitedShare / theory.pWait - 1) < 0.05, "\(result.waits[0].waitedShare) vs \(theory.pWait)")
        #expect(abs(result.waits[0].meanSeconds / (theory.meanWait * 60) - 1) < 0.1, "\(result.waits[0].meanSeconds) s")
    }

    @Test func highArrivalRatesKeepTheirRate() throws {
        // One per second for an hour: rounding each gap would give ≈ 3,750 arrivals.
        let clinic = ClinicConfiguration(stages: [ClinicStage(name: "door", staff: 1_000, service: .constant(seconds: 1))],
                                         arrivals: .poisson(perHour: 3600), openSecond: 0, closeSecond: 3600 * 20)
        let result = try ClinicSimulation(clinic).run(seed: 11, replication: 0)
        #expect(abs(Double(result.arrivals) / 72_000 - 1) < 0.01, "\(result.arrivals) arrivals")
    }

    @Test func sameSeedSameResultAndReplicationsDiffer() throws {
        let simulation = try ClinicSimulation(mmc(servers: 3, perMinute: 2.5, serviceMinutes: 1, customers: 5_000))
        let a = try simulation.run(seed: 1, replication: 0), b = try simulation.run(seed: 1, replication: 0)
        let c = try simulation.run(seed: 1, replication: 1)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func stagesInSeriesServeEveryoneAndTimeInClinicCoversTheWaits() throws {
        let clinic = ClinicConfiguration(stages: [
            ClinicStage(name: "registration", staff: 2, service: .exponential(mean: 240)),
            ClinicStage(name: "vaccination", staff: 3, service: .shiftedExponential(minimum: 120, mean: 300), walk: .constant(seconds: 30)),
            ClinicStage(name: "observation", staff: 1_000, service: .constant(seconds: 900), walk: .constant(seconds: 20)),
        ], arrivals: .poisson(perHour: 25), openSecond: 9 * 3600, closeSecond: 17 * 3600)
        let result = try ClinicSimulation(clinic).run(seed: 3, replication: 0)
        #expect(result.arrivals > 150 && result.served == result.arrivals)
        #expect(result.waits.count == 3 && result.waits[2].waitedShare == 0)
        // Time in clinic ≥ walks + observation + the minimum vaccination time.
        #expect(result.timeInClinic.p50Seconds >= 30 + 20 + 900 + 120)
        #expect(result.lastDepartureSecond >= 17 * 3600 - 3600)
    }

    @Test func appointmentBlocksArriveAroundTheirStart() throws {
        let clinic = ClinicConfiguration(stages: [ClinicStage(name: "vaccination", staff: 5, service: .constant(seconds: 240))],
                                         arrivals: .blocks(startSeconds: [9 * 3600, 11 * 3600], perBlock: 40,
                                                           offsetMeanSeconds: -300, offsetStandardDeviationSeconds: 300))
        let result = try ClinicSimulation(clinic).run(seed: 5, replication: 0)
        #expect(result.arrivals == 80 && result.served == 80 && result.arrivedAfterClosing == 0)
        #expect(result.waits[0].waitedShare > 0.5, "40 people for 5 vaccinators at once must wait")
    }

    @Test func badConfigurationsNameTheKeyPath() {
        var clinic = mmc(servers: 0, perMinute: 1, serviceMinutes: 1, customers: 10)
        #expect(throws: ConfigurationError("clinic.stages[0].staff", "expected 1 to 10000 people, found 0")) { try ClinicSimulation(clinic) }
        clinic = mmc(servers: 2, perMinute: 1, serviceMinutes: -1, customers: 10)
        #expect(throws: ConfigurationError("clinic.stages[0].service.mean", "expected a duration between 0.001 s and 30 days, found -60.0")) {
            try ClinicSimulation(clinic)
        }
        clinic.stages[0].service = .shiftedExponential(minimum: 300, mean: 200)
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        clinic.stages[0].service = .empirical(values: [])
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        clinic = mmc(servers: 1, perMinute: 0, serviceMinutes: 1, customers: 10)
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        clinic = mmc(servers: 1, perMinute: 1, serviceMinutes: 1, customers: 10)
        clinic.stages[0].service = .lognormal(mean: 1e-200, standardDeviation: 0)
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        for arrivals in [ClinicArrivals.blocks(startSeconds: [9 * 3600], perBlock: 10, offsetMeanSeconds: .nan, offsetStandardDeviationSeconds: 0),
                         .blocks(startSeconds: [9 * 3600], perBlock: 10, offsetMeanSeconds: 0, offsetStandardDeviationSeconds: .infinity),
                         .blocks(startSeconds: [Int.max], perBlock: 10, offsetMeanSeconds: 0, offsetStandardDeviationSeconds: 60),
                         .blocks(startSeconds: Array(repeating: 9 * 3600, count: 10_000), perBlock: 100_000,
                                 offsetMeanSeconds: 0, offsetStandardDeviationSeconds: 60)] {
            let day = ClinicConfiguration(stages: [ClinicStage(name: "v", staff: 1, service: .constant(seconds: 60))], arrivals: arrivals)
            #expect(throws: ConfigurationError.self, "\(arrivals)") { try ClinicSimulation(day) }
        }
    }

    @Test func anOverloadedStageStopsWithATypedErrorNotAHang() throws {
        var clinic = mmc(servers: 1, perMinute: 10, serviceMinutes: 1, customers: 1_000_000)
        clinic.queueLengthMax = 500
        #expect(throws: SimulationError.queueLimitExceeded(stage: "vaccination", limit: 500)) {
            try ClinicSimulation(clinic).run(seed: 1, replication: 0)
        }
    }
}
