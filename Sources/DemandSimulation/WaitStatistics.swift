/// Durations recorded in whole seconds: count, mean, share above zero and percentiles.
///
/// One-second buckets up to four hours (14,400 buckets, 115 KB) plus an overflow bucket:
/// percentiles are exact to the second below four hours, and recording is an increment.
public struct WaitRecorder: Sendable {
    public static let bucketCount = 4 * 3600
    private var buckets: [Int]
    private var overflow: [Int] = []
    public private(set) var count = 0
    public private(set) var sum = 0
    public private(set) var positive = 0
    public private(set) var maximum = 0

    public init() {
        buckets = [Int](repeating: 0, count: Self.bucketCount)
    }

    @inline(__always)
    public mutating func record(_ seconds: Int) {
        count += 1
        sum += seconds
        if seconds > 0 { positive += 1 }
        if seconds > maximum { maximum = seconds }
        if seconds < Self.bucketCount { buckets[seconds] += 1 } else { overflow.append(seconds) }
    }

    /// Adds every value `other` recorded (integer sums: the result does not depend on the order of merges).
    public mutating func merge(_ other: WaitRecorder) {
        count += other.count
        sum += other.sum
        positive += other.positive
        maximum = max(maximum, other.maximum)
        for i in 0..<Self.bucketCount where other.buckets[i] != 0 { buckets[i] += other.buckets[i] }
        overflow += other.overflow
    }

    /// The smallest recorded value with at least `q` of the values at or below it.
    public func percentile(_ q: Double) -> Int {
        guard count > 0 else { return 0 }
        let target = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (seconds, n) in buckets.enumerated() {
            seen += n
            if seen >= target { return seconds }
        }
        let sorted = overflow.sorted()
        return sorted[min(sorted.count - 1, target - seen - 1)]
    }

    public var summary: WaitStatistics {
        WaitStatistics(count: count, meanSeconds: count > 0 ? Double(sum) / Double(count) : 0,
                       waitedShare: count > 0 ? Double(positive) / Double(count) : 0,
                       p50Seconds: percentile(0.5), p90Seconds: percentile(0.9), p99Seconds: percentile(0.99),
                       maxSeconds: maximum)
    }
}

/// A summary of recorded durations.
public struct WaitStatistics: Hashable, Sendable, Codable {
    public var count: Int
    public var meanSeconds: Double
    /// Share of the durations above zero (for waits: the probability of waiting).
    public var waitedShare: Double
    public var p50Seconds: Int
    public var p90Seconds: Int
    public var p99Seconds: Int
    public var maxSeconds: Int
}
