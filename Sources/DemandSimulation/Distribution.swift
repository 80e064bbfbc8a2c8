/// A distribution of durations in seconds, as scenario files give service times, walking
/// delays and reaction times. Every variant is a plain value, checked by ``validate(path:)``.
///
/// ```swift
/// let vaccination = Distribution.shiftedExponential(minimum: 120, mean: 300)
/// var stream = RandomStream(seed: 1, replication: 0, stream: .service)
/// let seconds = vaccination.sample(&stream)   // ≥ 120, mean 300
/// ```
public enum Distribution: Hashable, Sendable, Codable {
    case constant(seconds: Double)
    case exponential(mean: Double)
    /// `minimum` plus an exponential with mean `mean - minimum`.
    case shiftedExponential(minimum: Double, mean: Double)
    /// A lognormal with the given mean and standard deviation of the duration itself.
    case lognormal(mean: Double, standardDeviation: Double)
    /// A normal truncated at zero (resampled below zero).
    case normal(mean: Double, standardDeviation: Double)
    /// One of the observed values, uniformly.
    case empirical(values: [Double])

    /// The mean of the distribution (of the untruncated normal).
    public var mean: Double {
        switch self {
        case let .constant(seconds): seconds
        case let .exponential(mean), let .shiftedExponential(_, mean), let .lognormal(mean, _), let .normal(mean, _): mean
        case let .empirical(values): values.reduce(0, +) / Double(values.count)
        }
    }

    /// Checks the parameters; the error names the key below `path`. Durations are between
    /// a millisecond (means) or zero and 30 days, so no draw overflows or divides by zero.
    public func validate(path: String) throws(ConfigurationError) {
        func bad(_ key: String, _ value: Double, _ rule: String) -> ConfigurationError {
            ConfigurationError("\(path).\(key)", "expected \(rule), found \(value)")
        }
        let limit = 30.0 * 86_400, meanRule = "a duration between 0.001 s and 30 days"
        switch self {
        case let .constant(seconds):
            guard (0...limit).contains(seconds) else { throw bad("seconds", seconds, "a duration between 0 and 30 days") }
        case let .exponential(mean):
            guard (0.001...limit).contains(mean) else { throw bad("mean", mean, meanRule) }
        case let .shiftedExponential(minimum, mean):
            guard (0...limit).contains(minimum) else { throw bad("minimum", minimum, "a duration between 0 and 30 days") }
            guard mean >= minimum + 0.001, mean <= limit else { throw bad("mean", mean, "more than minimum (\(minimum)) and up to 30 days") }
        case let .lognormal(mean, sd), let .normal(mean, sd):
            guard (0.001...limit).contains(mean) else { throw bad("mean", mean, meanRule) }
            guard (0...limit).contains(sd) else { throw bad("standardDeviation", sd, "a duration between 0 and 30 days") }
        case let .empirical(values):
            guard !values.isEmpty, values.count <= 1_000_000 else {
                throw ConfigurationError("\(path).values", "expected 1 to 1000000 values, found \(values.count)")
            }
            if let wrong = values.firstIndex(where: { !(0...limit).contains($0) }) {
                throw bad("values[\(wrong)]", values[wrong], "a duration between 0 and 30 days")
            }
        }
    }

    /// One duration in seconds (≥ 0).
    @inline(__always)
    public func sample(_ stream: inout RandomStream) -> Double {
        switch self {
        case let .constant(seconds): return seconds
        case let .exponential(mean): return stream.exponential(mean: mean)
        case let .shiftedExponential(minimum, mean): return minimum + stream.exponential(mean: mean - minimum)
        case let .lognormal(mean, sd):
            // Parameters of the underlying normal from the duration's mean and deviation.
            let sigma2 = Double.log(1 + (sd * sd) / (mean * mean))
            return Double.exp(Double.log(mean) - sigma2 / 2 + sigma2.squareRoot() * stream.standardNormal())
        case let .normal(mean, sd):
            for _ in 0..<64 {
                let x = mean + sd * stream.standardNormal()
                if x >= 0 { return x }
            }
            return 0
        case let .empirical(values):
            return values[Int(stream.next(upperBound: UInt64(values.count)))]
        }
    }
}
