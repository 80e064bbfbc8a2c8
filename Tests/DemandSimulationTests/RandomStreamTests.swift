import DemandSimulation
import Testing

@Suite struct RandomStreamTests {
    @Test func streamsAreReproducibleAndIndependentByName() {
        var a = RandomStream(seed: 9, replication: 2, stream: .service)
        var b = RandomStream(seed: 9, replication: 2, stream: .service)
        var other = RandomStream(seed: 9, replication: 2, stream: .arrivals)
        var nextReplication = RandomStream(seed: 9, replication: 3, stream: .service)
        let draws = (0..<100).map { _ in a.next() }
        #expect(draws == (0..<100).map { _ in b.next() })
        #expect(draws != (0..<100).map { _ in other.next() })
        #expect(draws != (0..<100).map { _ in nextReplication.next() })
    }

    @Test func uniformAndDistributionMeansAreRight() {
        var s = RandomStream(seed: 1, replication: 0, stream: .behaviour)
        let n = 200_000
        let uniformMean = (0..<n).map { _ in s.uniform() }.reduce(0, +) / Double(n)
        #expect(abs(uniformMean - 0.5) < 0.005)
        for distribution in [Distribution.exponential(mean: 60), .shiftedExponential(minimum: 120, mean: 300),
                             .lognormal(mean: 300, standardDeviation: 120), .constant(seconds: 42),
                             .empirical(values: [10, 20, 30])] {
            let mean = (0..<n).map { _ in distribution.sample(&s) }.reduce(0, +) / Double(n)
            #expect(abs(mean / distribution.mean - 1) < 0.02, "\(distribution): \(mean)")
        }
        let lognormal = (0..<n).map { _ in Distribution.lognormal(mean: 300, standardDeviation: 120).sample(&s) }
        let lognormalMean = lognormal.reduce(0, +) / Double(n)
        let lognormalSD = (lognormal.map { ($0 - lognormalMean) * ($0 - lognormalMean) }.reduce(0, +) / Double(n)).squareRoot()
        #expect(abs(lognormalSD / 120 - 1) < 0.03, "lognormal standard deviation \(lognormalSD)")
        let normal = (0..<n).map { _ in Distribution.normal(mean: 300, standardDeviation: 50).sample(&s) }
        let normalMean = normal.reduce(0, +) / Double(n)
        let normalSD = (normal.map { ($0 - normalMean) * ($0 - normalMean) }.reduce(0, +) / Double(n)).squareRoot()
        #expect(abs(normalSD / 50 - 1) < 0.02, "normal standard deviation \(normalSD)")
        // Truncated at zero: mean 10, deviation 30 leaves the negative third out, so the mean rises well above 10.
        let truncated = (0..<n).map { _ in Distribution.normal(mean: 10, standardDeviation: 30).sample(&s) }
        #expect(truncated.allSatisfy { $0 >= 0 } && truncated.reduce(0, +) / Double(n) > 20)
    }
}
