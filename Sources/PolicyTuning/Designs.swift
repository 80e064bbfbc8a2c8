import DemandSimulation

/// A candidate: one level index per parameter.
public typealias Candidate = [Int]

/// Experimental designs over the parameters' levels.
public enum Designs {
    /// Every combination, the first parameter varying slowest.
    public static func grid(_ counts: [Int]) -> [Candidate] {
        var all: [Candidate] = [[]]
        for count in counts {
            all = all.flatMap { prefix in (0..<count).map { prefix + [$0] } }
        }
        return all
    }

    /// `n` candidates of a Latin hypercube: for each parameter the unit interval is cut into
    /// `n` strata, each used once in a random order, and a stratum's midpoint picks a level.
    /// Duplicates (when a parameter has fewer levels than `n`) are kept: they are
    /// re-evaluated as distinct candidates only once (see ``Tuner``).
    public static func latinHypercube(_ counts: [Int], n: Int, stream: inout RandomStream) -> [Candidate] {
        var columns: [[Int]] = []
        for count in counts {
            var strata = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { strata.swapAt(i, Int(stream.next(upperBound: UInt64(i + 1)))) }
            columns.append(strata.map { s in
                let u = (Double(s) + stream.uniform()) / Double(n)
                return min(count - 1, Int(u * Double(count)))
            })
        }
        return (0..<n).map { i in counts.indices.map { columns[$0][i] } }
    }
}
