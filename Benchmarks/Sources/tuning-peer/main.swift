// The linear algebra and search figures of issue #4, in release mode:
//   swift run -c release --package-path Benchmarks tuning-peer cholesky 2000
//   swift run -c release --package-path Benchmarks tuning-peer branin
import Foundation
import PolicyTuning

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A Matérn 5/2 kernel matrix on n points of [0, 1]³ plus a small nugget: symmetric positive definite.
func kernelMatrix(_ n: Int) -> Matrix {
    var state: UInt64 = 42
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    let points = (0..<n).map { _ in [uniform(), uniform(), uniform()] }
    var k = Matrix(rows: n, columns: n)
    for i in 0..<n {
        for j in 0...i {
            var r2 = 0.0
            for d in 0..<3 { r2 += (points[i][d] - points[j][d]) * (points[i][d] - points[j][d]) / 0.09 }
            let r = r2.squareRoot(), s5 = 5.0.squareRoot()
            let v = (1 + s5 * r + 5 * r2 / 3) * exp(-s5 * r) + (i == j ? 1e-3 : 0)
            k[i, j] = v
            k[j, i] = v
        }
    }
    return k
}

/// The textbook Cholesky–Banachiewicz triple loop in plain Swift (unsafe buffers, no bounds checks).
func naiveCholesky(_ a: Matrix) -> [Double] {
    let n = a.rows
    var l = [Double](repeating: 0, count: n * n)  // row-major lower triangle
    a.values.withUnsafeBufferPointer { a in
        l.withUnsafeMutableBufferPointer { l in
            for i in 0..<n {
                for j in 0...i {
                    var sum = a[i + j * n]
                    for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                    l[i * n + j] = i == j ? sum.squareRoot() : sum / l[j * n + j]
                }
            }
        }
    }
    return l
}

/// Branin on x1 ∈ [−5, 10], x2 ∈ [0, 15]; minimum 0.397887 at three points.
@Sendable func branin(_ x1: Double, _ x2: Double) -> Double {
    let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
    return pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * cos(x1) + 10
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "cholesky":
    let n = arguments.dropFirst().first.flatMap(Int.init) ?? 2000
    let k = kernelMatrix(n)
    var blas = Double.infinity, plain = Double.infinity
    var factor: Cholesky? = nil
    var naive: [Double] = []
    for _ in 0..<3 { blas = min(blas, try seconds { factor = try Cholesky(k, reciprocalConditionMin: 1e-300) }) }
    for _ in 0..<(n > 1000 ? 1 : 3) { plain = min(plain, seconds { naive = naiveCholesky(k) }) }
    var difference = 0.0
    for i in 0..<n { for j in 0...i { difference = max(difference, abs(factor!.factor[i, j] - naive[i * n + j])) } }
    print("cholesky n=\(n): OpenBLAS dpotrf (+ dpocon) \(String(format: "%.3f", blas)) s, plain Swift triple loop \(String(format: "%.3f", plain)) s, ratio \(String(format: "%.1f", plain / blas))×, max |difference| \(difference)")
case "branin":
    let evaluate: Tuner.Evaluate = { candidate, _, replications in
        Array(repeating: ["branin": branin(-5 + 0.75 * Double(candidate[0]), 0.75 * Double(candidate[1]))], count: replications)
    }
    func problem(_ method: TuningMethod, _ budget: Int, seed: UInt64, batch: Int = 1) -> TuningProblem {
        TuningProblem(parameters: [TuningParameter(path: "x1", min: -5, max: 10, step: 0.75), TuningParameter(path: "x2", min: 0, max: 15, step: 0.75)],
                      objective: [ObjectiveTerm(metric: "branin", weight: -1)], method: method, budget: budget, replications: 2, finalists: 1,
                      designSeed: seed, batch: batch)
    }
    let grid = try Tuner(problem(.grid, 441, seed: 1)).search(seed: 1, evaluate: evaluate)
    let gridBest = grid.map { -$0.objective.mean }.min()!
    print("grid: \(grid.count) evaluations, best \(gridBest) (Branin's minimum 0.397887)")
    for batch in [1, 4, 8] {
        for designSeed in UInt64(1)...5 {
            let tuner = Tuner(problem(.bayes, 110, seed: designSeed, batch: batch))
            let bayes = try tuner.search(seed: 1, evaluate: evaluate)
            let values = bayes.map { -$0.objective.mean }
            let reached = values.indices.first { values[$0] <= gridBest * 1.01 }
            let round = reached.map { tuner.roundsDone(Array(bayes.prefix($0 + 1))) }
            print("bayes batch \(batch) (design seed \(designSeed)): best \(values.min()!) after \(bayes.count) evaluations; within 1 % of the grid's best after \(reached.map { String($0 + 1) } ?? "never") evaluations (round \(round.map(String.init) ?? "-"))")
        }
    }
default:
    print("usage: tuning-peer cholesky [N] | branin")
}
