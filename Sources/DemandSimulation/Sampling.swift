import Foundation

extension RandomStream {
    /// A binomial variate: successes in `n` trials of probability `p`.
    ///
    /// Exact inversion of the distribution function (starting at 0, with the pmf's
    /// recurrence) while the mean of the rarer outcome is below 60; above it, the normal
    /// approximation with continuity correction, clamped to 0...n (a small error in the
    /// tails, shrinking as n·p·(1−p) grows; the mean and variance are right). That is how
    /// millions of alike people are drawn in one step.
    public mutating func binomial(_ n: Int, _ p: Double) -> Int {
        guard n > 0, p > 0 else { return 0 }
        guard p < 1 else { return n }
        let flipped = p > 0.5
        let q = flipped ? 1 - p : p
        let mean = Double(n) * q
        var k: Int
        if mean < 60 {
            // (1 − q)^n ≥ e^(−60·1.5) > 1e-40, so the start is a normal double.
            let ratio = q / (1 - q)
            var pmf = Foundation.exp(Double(n) * Foundation.log1p(-q))
            var cdf = pmf
            let u = uniform()
            k = 0
            while u > cdf, k < n {
                pmf *= ratio * Double(n - k) / Double(k + 1)
                k += 1
                cdf += pmf
                if pmf < 1e-300 { break }
            }
        } else {
            let sd = (mean * (1 - q)).squareRoot()
            k = Int((mean + sd * standardNormal() + 0.5).rounded(.down))
            k = min(max(k, 0), n)
        }
        return flipped ? n - k : k
    }

    /// Splits `n` people over `weights` (a multinomial draw by successive binomials).
    public mutating func multinomial(_ n: Int, _ weights: [Double]) -> [Int] {
        var left = n
        var weightLeft = weights.reduce(0, +)
        var counts = [Int](repeating: 0, count: weights.count)
        for (i, w) in weights.enumerated() where left > 0 && w > 0 {
            let k = weightLeft <= w ? left : binomial(left, w / weightLeft)
            counts[i] = k
            left -= k
            weightLeft -= w
        }
        return counts
    }

    /// An index drawn with probability proportional to `counts[i]` (whose sum is `total` > 0).
    mutating func weightedIndex(_ counts: [Int], total: Int) -> Int {
        var r = Int(next(upperBound: UInt64(total)))
        for (i, c) in counts.enumerated() {
            if r < c { return i }
            r -= c
        }
        return counts.count - 1
    }
}

/// The order statistics of `n` uniforms on (0, 1), produced in increasing order one at a
/// time (the k-th gap uses `1 − (1 − u) · V^(1/(n − k))`), so the first few arrivals of a
/// crowd of millions cost a few draws, not a sort of millions.
struct SortedUniforms {
    private(set) var remaining: Int
    private(set) var last = 0.0

    init(count: Int) { remaining = count }

    mutating func next(_ stream: inout RandomStream) -> Double? {
        guard remaining > 0 else { return nil }
        // Below 1 always: a quantile at exactly 1 would be infinite.
        last = min(1 - (1 - last) * Foundation.pow(stream.uniform(), 1 / Double(remaining)), 1.0.nextDown)
        remaining -= 1
        return last
    }
}

extension Distribution {
    /// The duration at cumulative probability `p` in (0, 1) (the inverse distribution function).
    public func quantile(_ p: Double) -> Double {
        switch self {
        case let .constant(seconds): return seconds
        case let .exponential(mean): return -mean * Foundation.log1p(-p)
        case let .shiftedExponential(minimum, mean): return minimum - (mean - minimum) * Foundation.log1p(-p)
        case let .lognormal(mean, sd):
            let sigma2 = Foundation.log(1 + (sd * sd) / (mean * mean))
            return Foundation.exp(Foundation.log(mean) - sigma2 / 2 + sigma2.squareRoot() * standardNormalQuantile(p))
        case let .normal(mean, sd):
            // Truncated at zero: the quantile of the part above zero.
            let below = standardNormalCDF(-mean / max(sd, 1e-300))
            return max(0, mean + sd * standardNormalQuantile(below + p * (1 - below)))
        case let .empirical(values):
            let sorted = values.sorted()
            return sorted[min(Int(p * Double(sorted.count)), sorted.count - 1)]
        }
    }
}

/// Φ(x), from the complementary error function.
func standardNormalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }

/// Φ⁻¹(p): Acklam's rational approximation (relative error below 1.2e-9), refined by one
/// Halley step on Φ.
func standardNormalQuantile(_ p: Double) -> Double {
    if p <= 0 { return -.infinity }
    if p >= 1 { return .infinity }
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    var x: Double
    if p < low {
        let q = (-2 * Foundation.log(p)).squareRoot()
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - low {
        let q = p - 0.5, r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * Foundation.log1p(-p)).squareRoot()
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    let e = standardNormalCDF(x) - p
    let u = e * (2 * Double.pi).squareRoot() * Foundation.exp(x * x / 2)
    return x - u / (1 + x * u / 2)
}
