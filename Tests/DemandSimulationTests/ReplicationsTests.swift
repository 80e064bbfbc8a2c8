import DemandSimulation
import Testing

@Suite struct ReplicationsTests {
    @Test func resultsDoNotDependOnTheNumberOfThreads() throws {
        let simulation = try ClinicSimulation(ClinicConfiguration(
            stages: [ClinicStage(name: "v", staff: 3, service: .exponential(mean: 60))], arrivals: .poisson(perHour: 150),
            openSecond: 0, closeSecond: 86_400))
        let one = try Replications.run(count: 7, threads: 1) { r in try simulation.run(seed: 5, replication: r) }
        let two = try Replications.run(count: 7, threads: 2) { r in try simulation.run(seed: 5, replication: r) }
        let many = try Replications.run(count: 7, threads: 16) { r in try simulation.run(seed: 5, replication: r) }
        #expect(one == two && two == many)
        #expect(Set(one.map(\.arrivals)).count > 1, "replications must differ from each other")
    }

    @Test func theFirstFailingReplicationIsThrown() {
        struct Failed: Error, Equatable { let r: Int }
        #expect(throws: Failed(r: 2)) {
            try Replications.run(count: 6, threads: 2) { r throws(Failed) in
                if r >= 2 { throw Failed(r: r) }
                return r
            }
        }
    }

    @Test func confidenceIntervalsUseStudentsT() {
        let estimate = Estimate([10, 12, 14])
        #expect(estimate.mean == 12)
        #expect(abs(estimate.halfWidth95 - 4.303 * 2 / 3.squareRoot()) < 1e-9)
        #expect(Estimate([5]).halfWidth95 == 0 && Estimate([5]).description == "5")
        // Beyond the table: within 0.001 of the exact quantiles (R: qt(0.975, df)).
        for (df, exact) in [(40, 2.021), (100, 1.984), (200, 1.972), (1_000, 1.962), (9_999, 1.960)] {
            let values = (0...df).map { Double($0 % 2) }
            let sd = (values.map { ($0 - 0.5) * ($0 - 0.5) }.reduce(0, +) / Double(df)).squareRoot()
            let t = Estimate(values).halfWidth95 / (sd / Double(df + 1).squareRoot())
            #expect(abs(t - exact) < 0.0015, "df \(df): \(t)")
        }
    }
}
