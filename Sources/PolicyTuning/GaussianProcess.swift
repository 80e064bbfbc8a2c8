import Foundation

/// A Gaussian-process regression model with a Matérn 5/2 kernel (one length scale per
/// input), a signal variance and a noise variance (for the spread of replication means),
/// fitted by maximum likelihood. Inputs are scaled to [0, 1]; outputs are standardised.
///
/// ```swift
/// let gp = try GaussianProcess(inputs: xs, outputs: ys)
/// let (mean, sd) = gp.predict([0.3, 0.7])
/// ```
public struct GaussianProcess: Sendable {
    public let inputs: [[Double]]
    let mean: Double
    let scale: Double
    /// The outputs as fitted: (output − mean) / scale.
    let standardised: [Double]
    public let lengthScales: [Double]
    /// Signal and noise variances, in standardised units.
    public let signalVariance: Double
    public let noiseVariance: Double
    let factor: Cholesky
    let alpha: [Double]
    public let logLikelihood: Double

    /// Fits the hyper-parameters by maximum likelihood over a coarse grid of length scales
    /// (shared, then refined per input) and noise ratios; every fit goes through LAPACK's
    /// Cholesky (`dpotrf`, `dpotrs`).
    public init(inputs: [[Double]], outputs: [Double]) throws(LinearAlgebraError) {
        precondition(!inputs.isEmpty && inputs.count == outputs.count)
        let mean = outputs.reduce(0, +) / Double(outputs.count)
        let variance = outputs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, outputs.count - 1))
        let scale = variance > 0 ? variance.squareRoot() : 1
        let y = outputs.map { ($0 - mean) / scale }
        let d = inputs[0].count
        let lengths = [0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 2.0]
        let noises = [1e-6, 1e-3, 0.01, 0.05, 0.2]
        var best: (ls: [Double], noise: Double, fit: Fit)? = nil
        func consider(_ ls: [Double], _ noise: Double) {
            guard let fit = try? Fit(inputs, y, ls, noise) else { return }
            if best == nil || fit.logLikelihood > best!.fit.logLikelihood { best = (ls, noise, fit) }
        }
        for l in lengths { for noise in noises { consider([Double](repeating: l, count: d), noise) } }
        // Coordinate refinement: one input at a time, others fixed.
        if d > 1, let start = best {
            var ls = start.ls
            for _ in 0..<2 {
                for k in 0..<d {
                    for l in lengths {
                        var trial = ls
                        trial[k] = l
                        consider(trial, best!.noise)
                    }
                    ls = best!.ls
                }
            }
        }
        guard let chosen = best else { throw .notPositiveDefinite(minor: 1) }
        self.inputs = inputs
        self.mean = mean
        self.scale = scale
        standardised = y
        lengthScales = chosen.ls
        signalVariance = 1
        noiseVariance = chosen.noise
        factor = chosen.fit.factor
        alpha = chosen.fit.alpha
        logLikelihood = chosen.fit.logLikelihood
    }

    private init(inputs: [[Double]], standardised: [Double], mean: Double, scale: Double, lengthScales: [Double], noiseVariance: Double, fit: Fit) {
        self.inputs = inputs
        self.standardised = standardised
        self.mean = mean
        self.scale = scale
        self.lengthScales = lengthScales
        signalVariance = 1
        self.noiseVariance = noiseVariance
        factor = fit.factor
        alpha = fit.alpha
        logLikelihood = fit.logLikelihood
    }

    /// The model with one more observation `value` (output units) at `x`, keeping the
    /// hyper-parameters and the standardisation: a batch's "kriging believer" adds each chosen
    /// candidate at its predicted mean, so the next choice looks elsewhere. Nil when the
    /// kernel matrix can no longer be factored.
    public func conditioned(on x: [Double], value: Double) -> GaussianProcess? {
        let xs = inputs + [x]
        let y = standardised + [(value - mean) / scale]
        guard let fit = try? Fit(xs, y, lengthScales, noiseVariance) else { return nil }
        return GaussianProcess(inputs: xs, standardised: y, mean: mean, scale: scale, lengthScales: lengthScales, noiseVariance: noiseVariance, fit: fit)
    }

    struct Fit {
        let factor: Cholesky
        let alpha: [Double]
        let logLikelihood: Double

        init(_ x: [[Double]], _ y: [Double], _ ls: [Double], _ noise: Double) throws(LinearAlgebraError) {
            let n = x.count
            var k = Matrix(rows: n, columns: n)
            for i in 0..<n {
                for j in 0...i {
                    let v = GaussianProcess.matern52(x[i], x[j], ls) + (i == j ? noise + 1e-9 : 0)
                    k[i, j] = v
                    k[j, i] = v
                }
            }
            factor = try Cholesky(k, reciprocalConditionMin: 1e-14)
            alpha = try factor.solve(y)
            var fit = 0.0
            for i in 0..<n { fit += y[i] * alpha[i] }
            logLikelihood = -0.5 * fit - 0.5 * factor.logDeterminant - 0.5 * Double(n) * Foundation.log(2 * .pi)
        }
    }

    /// Matérn 5/2 with unit variance: (1 + √5 r + 5r²/3) exp(−√5 r), r the scaled distance.
    static func matern52(_ a: [Double], _ b: [Double], _ ls: [Double]) -> Double {
        var r2 = 0.0
        for k in a.indices {
            let t = (a[k] - b[k]) / ls[k]
            r2 += t * t
        }
        let r = r2.squareRoot(), s5 = 5.0.squareRoot()
        return (1 + s5 * r + 5 * r2 / 3) * Foundation.exp(-s5 * r)
    }

    /// Predictive mean and standard deviation of the latent function at `x` (output units).
    public func predict(_ x: [Double]) -> (mean: Double, sd: Double) {
        let k = inputs.map { Self.matern52($0, x, lengthScales) }
        var mu = 0.0
        for i in k.indices { mu += k[i] * alpha[i] }
        let v = factor.solveLower(k)
        let variance = max(1e-12, signalVariance - v.reduce(0) { $0 + $1 * $1 })
        return (mean + scale * mu, scale * variance.squareRoot())
    }
}

/// Expected improvement over `best` for a maximisation, at a predictive (mean, sd).
public func expectedImprovement(mean: Double, sd: Double, best: Double) -> Double {
    guard sd > 1e-12 else { return max(0, mean - best) }
    let z = (mean - best) / sd
    return (mean - best) * normalCDF(z) + sd * normalPDF(z)
}

func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }
func normalPDF(_ x: Double) -> Double { Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
