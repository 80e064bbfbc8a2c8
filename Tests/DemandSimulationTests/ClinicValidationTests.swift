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

    /// c = 10, λ = 9/min, μ = 1/min: P(wait) = 0.6687, Wq = 0.6687 min (40.1 s). Five
    /// replications of 200,000 customers; the mean of the replications within ±5 %.
    @Test func singleClinicReproducesErlangC() throws {
        let simulation = try ClinicSimulation(mmc(servers: 10, perMinute: 9, serviceMinutes: 1, customers: 200_000))
        let runs = try (0..<5).map { try simulation.run(seed: 42, replication: $0) }
        let meanWait = runs.map { $0.waits[0].meanSeconds }.reduce(0, +) / 5
        let pWait = runs.map { $0.waits[0].waitedShare }.reduce(0, +) / 5
        let theory = erlangC(servers: 10, arrivalRate: 9, serviceRate: 1)
        #expect(abs(meanWait / (theory.meanWait * 60) - 1) < 0.05, "mean wait \(meanWait) s vs \(theory.meanWait * 60) s")
        #expect(abs(pWait / theory.pWait - 1) < 0.05, "P(wait) \(pWait) vs \(theory.pWait)")
        #expect(runs.allSatisfy { $0.served == 200_000 && $0.arrivals == 200_000 })
    }

    @Test func aLightlyLoadedClinicRarelyMakesAnyoneWait() throws {
        let simulation = try ClinicSimulation(mmc(servers: 4, perMinute: 0.5, serviceMinutes: 1, customers: 20_000))
        let result = try simulation.run(seed: 7, replication: 0)
        let theory = erlangC(servers: 4, arrivalRate: 0.5, serviceRate: 1)
        #expect(abs(result.waits[0].waitedShare - theory.pWait) < 0.003)
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
        #expect(result.arrivals == 80 && result.served == 80)
        #expect(result.waits[0].waitedShare > 0.5, "40 people for 5 vaccinators at once must wait")
    }

    @Test func badConfigurationsNameTheKeyPath() {
        var clinic = mmc(servers: 0, perMinute: 1, serviceMinutes: 1, customers: 10)
        #expect(throws: ConfigurationError("clinic.stages[0].staff", "expected 1 to 10000 people, found 0")) { try ClinicSimulation(clinic) }
        clinic = mmc(servers: 2, perMinute: 1, serviceMinutes: -1, customers: 10)
        #expect(throws: ConfigurationError("clinic.stages[0].service.mean", "expected a positive duration up to 30 days, found -60.0")) {
            try ClinicSimulation(clinic)
        }
        clinic.stages[0].service = .shiftedExponential(minimum: 300, mean: 200)
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        clinic.stages[0].service = .empirical(values: [])
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
        clinic = mmc(servers: 1, perMinute: 0, serviceMinutes: 1, customers: 10)
        #expect(throws: ConfigurationError.self) { try ClinicSimulation(clinic) }
    }

    @Test func anOverloadedStageStopsWithATypedErrorNotAHang() throws {
        var clinic = mmc(servers: 1, perMinute: 10, serviceMinutes: 1, customers: 1_000_000)
        clinic.queueLengthMax = 500
        #expect(throws: SimulationError.queueLimitExceeded(stage: "vaccination", limit: 500)) {
            try ClinicSimulation(clinic).run(seed: 1, replication: 0)
        }
    }
}
