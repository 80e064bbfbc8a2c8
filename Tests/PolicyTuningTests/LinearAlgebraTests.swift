import Foundation
@testable import PolicyTuning
import Testing

/// The OpenBLAS/LAPACK layer against known results, and its refusals.
@Suite struct LinearAlgebraTests {
    @Test func choleskyFactorsSolvesAndGivesTheLogDeterminant() throws {
        let a = Matrix([[4, 2, 0.4], [2, 3, 0.5], [0.4, 0.5, 2]])
        let c = try Cholesky(a)
        #expect(abs(c.factor[0, 0] - 2) < 1e-12 && abs(c.factor[1, 0] - 1) < 1e-12 && abs(c.factor[1, 1] - 2.0.squareRoot()) < 1e-12)
        let x = try c.solve([1, 2, 3])
        // A x reproduces b.
        for i in 0..<3 {
            let ax = (0..<3).reduce(0.0) { $0 + a[i, $1] * x[$1] }
            #expect(abs(ax - Double(i + 1)) < 1e-12)
        }
        // det = 4·(3·2 − 0.25) − 2·(2·2 − 0.2) + 0.4·(1 − 1.2) = 23 − 7.6 − 0.08
        #expect(abs(c.logDeterminant - log(15.32)) < 1e-12)
        #expect(c.reciprocalCondition > 0.05)
    }

    @Test func notPositiveDefiniteIsRefused() {
        #expect(throws: LinearAlgebraError.notPositiveDefinite(minor: 2)) { try Cholesky(Matrix([[1, 2], [2, 1]])) }
        #expect(throws: LinearAlgebraError.notFinite) { try Cholesky(Matrix([[1, .nan], [.nan, 1]])) }
        #expect(throws: LinearAlgebraError.self) { try Cholesky(Matrix([[1, 2, 3]])) }
    }

    @Test func illConditionedIsRefusedNotSolved() {
        // The 12 × 12 Hilbert matrix: condition number ≈ 1.7e16.
        var h = Matrix(rows: 12, columns: 12)
        for i in 0..<12 { for j in 0..<12 { h[i, j] = 1 / Double(i + j + 1) } }
        do {
            _ = try Cholesky(h)
            Issue.record("an ill-conditioned matrix was factored without complaint")
        } catch let .illConditioned(rcond) {
            #expect(rcond < 1e-12)
        } catch {
            // dpotrf may also meet a non-positive pivot in rounding: refused either way.
            #expect(error == .notPositiveDefinite(minor: error.minorIfAny))
        }
    }

    @Test func leastSquaresFitsAndRefusesDependentColumns() throws {
        // y = 1 + 2x − 0.5x² exactly, on 6 points.
        let xs: [Double] = [0, 1, 2, 3, 4, 5]
        let a = Matrix(xs.map { [1, $0, $0 * $0] })
        let beta = try leastSquares(a, xs.map { 1 + 2 * $0 - 0.5 * $0 * $0 })
        #expect(abs(beta[0] - 1) < 1e-10 && abs(beta[1] - 2) < 1e-10 && abs(beta[2] + 0.5) < 1e-10)
        // Noisy line: the textbook answer for (0,1) (1,3) (2,4) (3,4): slope 1, intercept 1.5.
        let line = try leastSquares(Matrix([[1, 0], [1, 1], [1, 2], [1, 3]]), [1, 3, 4, 4])
        #expect(abs(line[0] - 1.5) < 1e-12 && abs(line[1] - 1) < 1e-12)
        let dependent = Matrix(xs.map { [1, $0, 2 * $0] })
        #expect(throws: LinearAlgebraError.self) { try leastSquares(dependent, xs) }
        let nearly = Matrix(xs.map { [1, $0, $0 + 1e-15 * $0 * $0] })
        #expect(throws: LinearAlgebraError.self) { try leastSquares(nearly, xs) }
        #expect(throws: LinearAlgebraError.self) { try leastSquares(Matrix([[1, 2]]), [1]) }
    }

    @Test func multiplyMatchesTheDefinition() throws {
        let c = try multiply(Matrix([[1, 2], [3, 4], [5, 6]]), Matrix([[7, 8, 9], [10, 11, 12]]))
        #expect(c == Matrix([[27, 30, 33], [61, 68, 75], [95, 106, 117]]))
    }

    @Test func gaussianProcessInterpolatesASmoothFunction() throws {
        let xs = (0..<12).map { [Double($0) / 11] }
        let f = { (x: Double) in sin(6 * x) + 0.5 * x }
        let gp = try GaussianProcess(inputs: xs, outputs: xs.map { f($0[0]) })
        for x in [0.05, 0.33, 0.61, 0.97] {
            let (m, s) = gp.predict([x])
            #expect(abs(m - f(x)) < 0.05, "at \(x): \(m) vs \(f(x))")
            #expect(s < 0.2)
        }
        #expect(expectedImprovement(mean: 1, sd: 0, best: 0.5) == 0.5)
        #expect(expectedImprovement(mean: 0, sd: 1, best: 0) > 0.39)
    }
}

extension LinearAlgebraError {
    var minorIfAny: Int {
        if case let .notPositiveDefinite(minor) = self { return minor }
        return -1
    }
}
