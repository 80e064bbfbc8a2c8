import COpenBLAS
import Foundation

/// Why a linear-algebra routine refused its input (rather than return garbage).
public enum LinearAlgebraError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The shapes do not fit (what was expected).
    case shapeMismatch(String)
    /// A value is NaN or infinite.
    case notFinite
    /// Cholesky met a leading minor that is not positive: the matrix is not positive definite.
    case notPositiveDefinite(minor: Int)
    /// The reciprocal condition number is below the limit: the answer would be mostly rounding error.
    case illConditioned(reciprocalCondition: Double)
    /// Least squares: the columns are linearly dependent.
    case rankDeficient
    /// LAPACK reported an illegal argument (a bug in this layer).
    case lapack(routine: String, info: Int32)

    public var description: String {
        switch self {
        case let .shapeMismatch(what): "shapes do not fit: \(what)"
        case .notFinite: "the input holds a NaN or an infinite value"
        case let .notPositiveDefinite(minor): "the matrix is not positive definite (leading minor \(minor) is not positive)"
        case let .illConditioned(rcond): "the matrix is too ill-conditioned to solve reliably (reciprocal condition number \(rcond))"
        case .rankDeficient: "the columns are linearly dependent (the least-squares problem has no unique answer)"
        case let .lapack(routine, info): "\(routine) rejected argument \(-info)"
        }
    }
}

/// A smaller reciprocal condition number than this is refused (about 1e-12: beyond it a
/// double keeps fewer than four significant digits of the solution).
public let reciprocalConditionMin = 1e-12

/// The Cholesky factor of a symmetric positive definite matrix, A = L Lᵀ (LAPACK `dpotrf`).
public struct Cholesky: Sendable {
    /// The factor L in the lower triangle (the upper triangle holds A's values, unused).
    public let factor: Matrix
    /// Reciprocal condition number of A in the 1-norm (LAPACK `dpocon`).
    public let reciprocalCondition: Double

    /// Factors `a` (only its lower triangle is read). Throws for a matrix that is not
    /// positive definite or whose condition number is beyond ``reciprocalConditionMin``.
    public init(_ a: Matrix, reciprocalConditionMin limit: Double = reciprocalConditionMin) throws(LinearAlgebraError) {
        guard a.isSquare else { throw .shapeMismatch("Cholesky needs a square matrix, found \(a.rows) × \(a.columns)") }
        guard a.values.allSatisfy(\.isFinite) else { throw .notFinite }
        var n = Int32(a.rows), lda = max(1, n), info: Int32 = 0
        var f = a
        // The 1-norm of the symmetric matrix from its lower triangle, for the condition estimate.
        var anorm = 0.0
        for j in 0..<a.columns {
            var sum = 0.0
            for i in 0..<a.rows { sum += abs(i >= j ? a[i, j] : a[j, i]) }
            anorm = max(anorm, sum)
        }
        var uplo = CChar(UInt8(ascii: "L"))
        f.values.withUnsafeMutableBufferPointer { dpotrf_(&uplo, &n, $0.baseAddress, &lda, &info, 1) }
        if info > 0 { throw .notPositiveDefinite(minor: Int(info)) }
        if info < 0 { throw .lapack(routine: "dpotrf", info: info) }
        var rcond = 0.0
        if n > 0 {
            var work = [Double](repeating: 0, count: 3 * Int(n))
            var iwork = [Int32](repeating: 0, count: Int(n))
            f.values.withUnsafeBufferPointer { dpocon_(&uplo, &n, $0.baseAddress, &lda, &anorm, &rcond, &work, &iwork, &info, 1) }
            if info < 0 { throw .lapack(routine: "dpocon", info: info) }
            guard rcond >= limit else { throw .illConditioned(reciprocalCondition: rcond) }
        } else {
            rcond = 1
        }
        factor = f
        reciprocalCondition = rcond
    }

    /// Solves A x = b.
    public func solve(_ b: [Double]) throws(LinearAlgebraError) -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, values: b)).values
    }

    /// Solves A X = B for every column of B (LAPACK `dpotrs`).
    public func solve(_ b: Matrix) throws(LinearAlgebraError) -> Matrix {
        guard b.rows == factor.rows else { throw .shapeMismatch("right-hand side has \(b.rows) rows, the matrix \(factor.rows)") }
        guard b.values.allSatisfy(\.isFinite) else { throw .notFinite }
        var x = b
        var n = Int32(factor.rows), nrhs = Int32(b.columns), lda = max(1, n), ldb = max(1, n), info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "L"))
        guard n > 0, nrhs > 0 else { return x }
        factor.values.withUnsafeBufferPointer { a in
            x.values.withUnsafeMutableBufferPointer { dpotrs_(&uplo, &n, &nrhs, a.baseAddress, &lda, $0.baseAddress, &ldb, &info, 1) }
        }
        if info < 0 { throw .lapack(routine: "dpotrs", info: info) }
        return x
    }

    /// log det A = 2 Σ log Lᵢᵢ.
    public var logDeterminant: Double {
        var sum = 0.0
        for i in 0..<factor.rows { sum += Foundation.log(factor[i, i]) }
        return 2 * sum
    }

    /// L⁻¹ b (forward substitution), e.g. for a Gaussian process's predictive variance.
    public func solveLower(_ b: [Double]) -> [Double] {
        var x = b
        let n = factor.rows
        for i in 0..<n {
            var s = x[i]
            for k in 0..<i { s -= factor[i, k] * x[k] }
            x[i] = s / factor[i, i]
        }
        return x
    }
}

extension Matrix {
    init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns)
        self.init(rows: rows, columns: columns)
        self.values = values
    }
}

/// Least squares: the x minimising ‖A x − b‖₂ for A with at least as many rows as columns
/// and full column rank (LAPACK `dgels`, QR). A rank-deficient or ill-conditioned A
/// (reciprocal condition of R below ``reciprocalConditionMin``, LAPACK `dtrcon`) is refused.
public func leastSquares(_ a: Matrix, _ b: [Double]) throws(LinearAlgebraError) -> [Double] {
    guard a.rows == b.count else { throw .shapeMismatch("A has \(a.rows) rows, b has \(b.count) values") }
    guard a.rows >= a.columns, a.columns > 0 else {
        throw .shapeMismatch("least squares needs at least as many rows as columns (and one column), found \(a.rows) × \(a.columns)")
    }
    guard a.values.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw .notFinite }
    var qr = a, rhs = b
    var trans = CChar(UInt8(ascii: "N"))
    var m = Int32(a.rows), n = Int32(a.columns), nrhs: Int32 = 1, lda = m, ldb = m, info: Int32 = 0
    // Workspace query, then the solve.
    var lwork: Int32 = -1, size = 0.0
    qr.values.withUnsafeMutableBufferPointer { q in
        rhs.withUnsafeMutableBufferPointer { dgels_(&trans, &m, &n, &nrhs, q.baseAddress, &lda, $0.baseAddress, &ldb, &size, &lwork, &info, 1) }
    }
    lwork = Int32(max(1, Int(size)))
    var work = [Double](repeating: 0, count: Int(lwork))
    qr.values.withUnsafeMutableBufferPointer { q in
        rhs.withUnsafeMutableBufferPointer { dgels_(&trans, &m, &n, &nrhs, q.baseAddress, &lda, $0.baseAddress, &ldb, &work, &lwork, &info, 1) }
    }
    if info > 0 { throw .rankDeficient }
    if info < 0 { throw .lapack(routine: "dgels", info: info) }
    // The R factor is in the upper triangle of qr's first n rows.
    var norm = CChar(UInt8(ascii: "1")), uplo = CChar(UInt8(ascii: "U")), diag = CChar(UInt8(ascii: "N"))
    var rcond = 0.0
    var work3 = [Double](repeating: 0, count: 3 * Int(n)), iwork = [Int32](repeating: 0, count: Int(n))
    qr.values.withUnsafeBufferPointer { dtrcon_(&norm, &uplo, &diag, &n, $0.baseAddress, &lda, &rcond, &work3, &iwork, &info, 1, 1, 1) }
    if info < 0 { throw .lapack(routine: "dtrcon", info: info) }
    guard rcond >= reciprocalConditionMin else { throw .illConditioned(reciprocalCondition: rcond) }
    return Array(rhs.prefix(Int(n)))
}

/// C = A B through OpenBLAS (`cblas_dgemm`).
public func multiply(_ a: Matrix, _ b: Matrix) throws(LinearAlgebraError) -> Matrix {
    guard a.columns == b.rows else { throw .shapeMismatch("A is \(a.rows) × \(a.columns), B is \(b.rows) × \(b.columns)") }
    var c = Matrix(rows: a.rows, columns: b.columns)
    guard a.rows > 0, b.columns > 0, a.columns > 0 else { return c }
    a.values.withUnsafeBufferPointer { pa in
        b.values.withUnsafeBufferPointer { pb in
            c.values.withUnsafeMutableBufferPointer { pc in
                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(a.rows), Int32(b.columns), Int32(a.columns),
                            1, pa.baseAddress, Int32(a.rows), pb.baseAddress, Int32(b.rows), 0, pc.baseAddress, Int32(a.rows))
            }
        }
    }
    return c
}
