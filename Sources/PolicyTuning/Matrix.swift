/// A dense matrix of `Double`s in column-major order (LAPACK's layout): element (i, j) is
/// `values[i + j * rows]`.
///
/// ```swift
/// var a = Matrix(rows: 2, columns: 2)
/// a[0, 0] = 4; a[1, 0] = 2; a[0, 1] = 2; a[1, 1] = 3
/// let factor = try Cholesky(a)          // a = L Lᵀ
/// let x = try factor.solve([1, 2])
/// ```
public struct Matrix: Hashable, Sendable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        values = [Double](repeating: value, count: rows * columns)
    }

    /// From rows of equal length (as written on paper).
    public init(_ rowValues: [[Double]]) {
        let r = rowValues.count, c = rowValues.first?.count ?? 0
        precondition(rowValues.allSatisfy { $0.count == c }, "rows of equal length")
        self.init(rows: r, columns: c)
        for i in 0..<r { for j in 0..<c { self[i, j] = rowValues[i][j] } }
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    @inline(__always)
    public subscript(i: Int, j: Int) -> Double {
        get { values[i + j * rows] }
        set { values[i + j * rows] = newValue }
    }

    public var isSquare: Bool { rows == columns }
}
