/// A mean across replications with its 95 % confidence interval (Student's t).
public struct Estimate: Hashable, Sendable, Codable, CustomStringConvertible {
    public var mean: Double
    /// Half-width of the 95 % confidence interval; 0 with one replication.
    public var halfWidth95: Double
    public var replications: Int

    public init(_ values: [Double]) {
        replications = values.count
        let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        self.mean = mean
        guard values.count > 1 else {
            halfWidth95 = 0
            return
        }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        halfWidth95 = Self.t975(degreesOfFreedom: values.count - 1) * (variance / Double(values.count)).squareRoot()
    }

    /// The 97.5 % quantile of Student's t (two-sided 95 %): the table up to 30 degrees of
    /// freedom, then interpolation in 1/df between 30, 60, 120 and ∞ (within 0.001 of exact).
    static func t975(degreesOfFreedom df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        if df <= table.count { return table[df - 1] }
        let knots: [(df: Double, t: Double)] = [(30, 2.042), (60, 2.000), (120, 1.980), (.infinity, 1.960)]
        let x = 1 / Double(df)
        for k in 1..<knots.count where Double(df) <= knots[k].df {
            let (x0, x1) = (1 / knots[k - 1].df, 1 / knots[k].df)
            return knots[k].t + (knots[k - 1].t - knots[k].t) * (x - x1) / (x0 - x1)
        }
        return 1.960
    }

    public var description: String {
        replications > 1 ? "\(Self.format(mean)) ± \(Self.format(halfWidth95))" : Self.format(mean)
    }

    static func format(_ x: Double) -> String {
        let rounded = (x * 100).rounded() / 100
        let text = String(rounded)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
