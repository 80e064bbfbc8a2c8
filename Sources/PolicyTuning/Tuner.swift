import DemandSimulation
import Foundation

/// One candidate evaluated: its levels, the objective per replication, and the means of
/// the constrained metrics.
public struct Evaluation: Hashable, Sendable, Codable {
    public enum Phase: String, Hashable, Sendable, Codable { case search, final }
    public var phase: Phase
    public var candidate: Candidate
    public var seed: UInt64
    /// The objective of every replication (replication r of every candidate shares its seeds).
    public var objectives: [Double]
    /// Means of the constrained metrics, in the problem's constraint order.
    public var constraintMeans: [Double]
    public var feasible: Bool
    public var objective: Estimate { Estimate(objectives) }
}

/// The outcome of a tuning run.
public struct TuningResult: Sendable {
    public struct Difference: Hashable, Sendable {
        public var runnerUp: Candidate
        /// Chosen minus runner-up, paired by replication (same seeds).
        public var difference: Estimate
    }

    public let problem: TuningProblem
    /// Every evaluation, search then final, in order.
    public let evaluations: [Evaluation]
    /// The finalists rerun on fresh seeds, best first.
    public let finalists: [Evaluation]
    public var chosen: Evaluation { finalists[0] }
    /// The chosen candidate against each other finalist.
    public let differences: [Difference]
    /// The chosen candidate meets every constraint on the rerun.
    public var constraintsHold: Bool { chosen.feasible }
    /// How much the fitted objective moves over each parameter's range (others at the
    /// chosen levels), from a quadratic response surface over the search's evaluations;
    /// nil with the reason when it could not be fitted.
    public let sensitivity: [Double]?
    public let sensitivityNote: String
    public let surfaceRSquared: Double?

    /// The chosen candidate's values as `path=value` overrides.
    public var chosenOverrides: [String] { problem.overrides(chosen.candidate) }
}

extension TuningProblem {
    public func overrides(_ candidate: Candidate) -> [String] {
        parameters.indices.map { "\(parameters[$0].path)=\(parameters[$0].levels[candidate[$0]])" }
    }

    /// The candidate in [0, 1] per parameter (by the levels' numeric coordinates).
    func unit(_ candidate: Candidate) -> [Double] {
        parameters.indices.map { i in
            let c = parameters[i].coordinates
            guard let lo = c.min(), let hi = c.max(), hi > lo else { return 0.5 }
            return (c[candidate[i]] - lo) / (hi - lo)
        }
    }

    func objective(_ figures: [String: Double]) -> Double {
        objective.reduce(0) { $0 + $1.weight * (figures[$1.metric] ?? .nan) }
    }
}

/// Runs a tuning problem: a search over candidates (grid, Latin hypercube or Bayesian
/// optimisation), every candidate on the same seeds (common random numbers), then the
/// best `finalists` again on fresh seeds; the best of those is chosen, with 95 %
/// confidence intervals for its objective and for its difference to each runner-up.
///
/// The simulation is the caller's: `evaluate(candidate, seed, replications)` returns each
/// replication's figures (metric name → value).
public struct Tuner: Sendable {
    public typealias Evaluate = @Sendable (_ candidate: Candidate, _ seed: UInt64, _ replications: Int) throws(TuningError) -> [[String: Double]]
    public typealias Progress = @Sendable (_ done: Int, _ planned: Int, _ best: Double?) -> Void

    public let problem: TuningProblem
    public init(_ problem: TuningProblem) { self.problem = problem }

    /// The search's candidates for grid and Latin hypercube designs (Bayesian optimisation
    /// chooses as it goes), without duplicates, in a fixed order.
    public func design() -> [Candidate] {
        let counts = problem.parameters.map { $0.levels.count }
        switch problem.method {
        case .grid: return Designs.grid(counts)
        case .lhs, .bayes:
            var stream = RandomStream(seed: problem.designSeed, replication: 0, stream: .init(0x7475_6e65))
            let n = problem.method == .lhs ? problem.budget : initialBayesCount
            var seen = Set<Candidate>()
            return Designs.latinHypercube(counts, n: n, stream: &stream).filter { seen.insert($0).inserted }
        }
    }

    var initialBayesCount: Int { min(problem.budget, max(5, 2 * problem.parameters.count + 1)) }

    /// Search and selection on one machine.
    public func run(seed: UInt64, evaluate: Evaluate, progress: Progress? = nil) throws(TuningError) -> TuningResult {
        let search = try self.search(seed: seed, evaluate: evaluate, progress: progress)
        return try finish(search, seed: seed, evaluate: evaluate, progress: progress)
    }

    var plannedEvaluations: Int {
        (problem.method == .grid ? min(problem.gridSize, problem.budget) : problem.budget) + problem.finalists
    }

    /// Upper bound on the search's rounds: the design, then (bayes) batches until the budget.
    public var plannedRounds: Int {
        guard problem.method == .bayes else { return 1 }
        let rest = max(0, min(problem.budget, problem.gridSize) - design().count)
        return 1 + (rest + problem.batch - 1) / problem.batch
    }

    /// Rounds a search of these evaluations has done.
    public func roundsDone(_ evaluations: [Evaluation]) -> Int {
        let first = design().count
        guard evaluations.count > first else { return evaluations.isEmpty ? 0 : 1 }
        return 1 + (evaluations.count - first + problem.batch - 1) / problem.batch
    }

    func evaluateOne(_ candidate: Candidate, _ seed: UInt64, _ phase: Evaluation.Phase, _ evaluate: Evaluate) throws(TuningError) -> Evaluation {
        let runs = try evaluate(candidate, seed, problem.replications)
        let objectives = runs.map { problem.objective($0) }
        guard objectives.allSatisfy(\.isFinite) else {
            throw .evaluationFailed(candidate: problem.overrides(candidate).joined(separator: " "), reason: "a metric of the objective was missing or not finite")
        }
        let means = problem.constraints.map { c in runs.map { $0[c.metric] ?? .nan }.reduce(0, +) / Double(runs.count) }
        let feasible = zip(problem.constraints, means).allSatisfy { $0.holds($1) }
        return Evaluation(phase: phase, candidate: candidate, seed: seed, objectives: objectives, constraintMeans: means, feasible: feasible)
    }

    /// The candidates of the search's next round, given every evaluation of the rounds before
    /// it (in order); empty when the search is complete. Round 0 is the design (grid, Latin
    /// hypercube, or Bayesian optimisation's initial Latin hypercube); each later round (bayes
    /// only) is a batch of up to `problem.batch` candidates proposed from every evaluation so
    /// far. The answer depends only on `evaluations`, so every machine of a sharded search
    /// computes the same round.
    public func nextRound(after evaluations: [Evaluation]) throws(TuningError) -> [Candidate] {
        if evaluations.isEmpty { return design() }
        guard problem.method == .bayes, evaluations.count < problem.budget else { return [] }
        var stream = RandomStream(seed: problem.designSeed, replication: evaluations.count, stream: .init(0x6261_7965))
        return proposeBatch(evaluations, size: min(problem.batch, problem.budget - evaluations.count), &stream)
    }

    /// The search's evaluations on one machine: every round after `earlier` (the evaluations
    /// of rounds already done, e.g. merged from shards), in order, `earlier` included.
    public func search(seed: UInt64, evaluate: Evaluate, after earlier: [Evaluation] = [],
                       progress: Progress? = nil) throws(TuningError) -> [Evaluation] {
        var evaluations = earlier
        let planned = plannedEvaluations
        func best() -> Double? { evaluations.filter(\.feasible).map { $0.objective.mean }.max() }
        while true {
            let round = try nextRound(after: evaluations)
            if round.isEmpty { return evaluations }
            for candidate in round {
                evaluations.append(try evaluateOne(candidate, seed, .search, evaluate))
                progress?(evaluations.count, planned, best())
            }
        }
    }

    /// One shard's part of the next round after `earlier`: the round's candidates numbered
    /// i, i + n, i + 2n, … for `shard` (i, n), for ``merge(after:_:)`` to put back in order.
    public func searchShard(seed: UInt64, evaluate: Evaluate, shard: (index: Int, count: Int), after earlier: [Evaluation] = [],
                            progress: Progress? = nil) throws(TuningError) -> [Evaluation] {
        let round = try nextRound(after: earlier)
        guard !round.isEmpty else {
            throw .invalid("--resume", "the search is complete after these \(earlier.count) evaluations: run slotsim tune with --resume and no --shard to finish it")
        }
        var evaluations: [Evaluation] = []
        let planned = (round.count + shard.count - 1 - shard.index) / shard.count
        for (n, candidate) in round.enumerated() where n % shard.count == shard.index {
            evaluations.append(try evaluateOne(candidate, seed, .search, evaluate))
            progress?(evaluations.count, planned, evaluations.filter(\.feasible).map { $0.objective.mean }.max())
        }
        return evaluations
    }

    /// `earlier` followed by the next round, its evaluations gathered from the shards and put
    /// in the order the single-machine search makes them.
    public func merge(after earlier: [Evaluation] = [], _ shards: [[Evaluation]]) throws(TuningError) -> [Evaluation] {
        let round = try nextRound(after: earlier)
        var byCandidate: [Candidate: Evaluation] = [:]
        for e in shards.joined() where e.phase == .search { byCandidate[e.candidate] = e }
        var merged = earlier
        for candidate in round {
            guard let e = byCandidate[candidate] else {
                throw .invalid("shards", "candidate \(problem.overrides(candidate).joined(separator: " ")) is in no shard: is a shard missing?")
            }
            merged.append(e)
        }
        return merged
    }

    /// Selection: the best `finalists` of the search (feasible first) again on fresh seeds; the
    /// best of them is chosen, with paired differences to the others.
    public func finish(_ search: [Evaluation], seed: UInt64, evaluate: Evaluate, progress: Progress? = nil) throws(TuningError) -> TuningResult {
        guard !search.isEmpty else { throw .invalid("tune", "no candidate was evaluated") }
        var evaluations = search
        let planned = plannedEvaluations
        let ranked = evaluations.sorted { a, b in
            a.feasible != b.feasible ? a.feasible : a.objective.mean > b.objective.mean
        }
        let finalSeed = seed &+ 0x9E37_79B9_7F4A_7C15
        var finalists: [Evaluation] = []
        for e in ranked.prefix(problem.finalists) {
            let again = try evaluateOne(e.candidate, finalSeed, .final, evaluate)
            finalists.append(again)
            evaluations.append(again)
            progress?(evaluations.count, planned, finalists.filter(\.feasible).map { $0.objective.mean }.max())
        }
        finalists.sort { a, b in a.feasible != b.feasible ? a.feasible : a.objective.mean > b.objective.mean }
        let chosen = finalists[0]
        let differences = finalists.dropFirst().map { other in
            TuningResult.Difference(runnerUp: other.candidate,
                                    difference: Estimate(zip(chosen.objectives, other.objectives).map { $0 - $1 }))
        }
        let (sensitivity, note, r2) = responseSurface(search, at: chosen.candidate)
        return TuningResult(problem: problem, evaluations: evaluations, finalists: finalists, differences: differences,
                            sensitivity: sensitivity, sensitivityNote: note, surfaceRSquared: r2)
    }

    /// Bayesian optimisation's next batch: the unevaluated level combinations (from at most
    /// 2,000 drawn at random) with the largest expected improvement times the probability
    /// that every constraint holds, each metric modelled by its own Gaussian process. After
    /// each choice the models take the chosen candidate at its predicted values ("kriging
    /// believer", hyper-parameters kept), so a batch spreads out instead of repeating one
    /// choice; with `size` 1 this is plain sequential expected improvement.
    func proposeBatch(_ evaluations: [Evaluation], size: Int, _ stream: inout RandomStream) -> [Candidate] {
        let counts = problem.parameters.map { $0.levels.count }
        let seen = Set(evaluations.map(\.candidate))
        let total = problem.gridSize
        guard seen.count < total, size > 0 else { return [] }
        var pool: [Candidate] = []
        if total <= 2_000 {
            pool = Designs.grid(counts).filter { !seen.contains($0) }
        } else {
            var drawn = Set<Candidate>()
            for _ in 0..<4_000 where pool.count < 2_000 {
                let c = counts.map { Int(stream.next(upperBound: UInt64($0))) }
                if !seen.contains(c), drawn.insert(c).inserted { pool.append(c) }
            }
        }
        var batch: [Candidate] = []
        let x = evaluations.map { problem.unit($0.candidate) }
        var objectiveModel: GaussianProcess?
        var constraintModels: [GaussianProcess] = []
        do {
            objectiveModel = try GaussianProcess(inputs: x, outputs: evaluations.map { $0.objective.mean })
            constraintModels = try problem.constraints.indices.map { k throws(LinearAlgebraError) in
                try GaussianProcess(inputs: x, outputs: evaluations.map { $0.constraintMeans[k] })
            }
        } catch {
            objectiveModel = nil  // the surrogate could not be fitted (e.g. every value equal): random choices below
        }
        var best = evaluations.filter(\.feasible).map { $0.objective.mean }.max()
        while batch.count < size, !pool.isEmpty {
            guard let model = objectiveModel else {
                batch.append(pool.remove(at: Int(stream.next(upperBound: UInt64(pool.count)))))
                continue
            }
            var chosen = 0, score = -Double.infinity
            for (index, candidate) in pool.enumerated() {
                let u = problem.unit(candidate)
                var feasibility = 1.0
                for (k, c) in problem.constraints.enumerated() {
                    let (m, s) = constraintModels[k].predict(u)
                    if let hi = c.max { feasibility *= normalCDF((hi - m) / max(s, 1e-12)) }
                    if let lo = c.min { feasibility *= normalCDF((m - lo) / max(s, 1e-12)) }
                }
                let value: Double
                if let best {
                    let (m, s) = model.predict(u)
                    value = expectedImprovement(mean: m, sd: s, best: best) * feasibility
                } else {
                    value = feasibility  // nothing feasible yet: look for feasibility first
                }
                if value > score { (chosen, score) = (index, value) }
            }
            let candidate = pool.remove(at: chosen)
            batch.append(candidate)
            guard batch.count < size else { break }
            // Believe the models at the chosen candidate.
            let u = problem.unit(candidate)
            let predicted = model.predict(u).mean
            let constraintValues = constraintModels.map { $0.predict(u).mean }
            if zip(problem.constraints, constraintValues).allSatisfy({ $0.holds($1) }) { best = max(best ?? predicted, predicted) }
            objectiveModel = model.conditioned(on: u, value: predicted)
            var updated: [GaussianProcess] = []
            for (k, m) in constraintModels.enumerated() {
                guard let next = m.conditioned(on: u, value: constraintValues[k]) else { objectiveModel = nil; break }
                updated.append(next)
            }
            constraintModels = updated
        }
        return batch
    }

    /// A quadratic response surface (1, xᵢ, xᵢ² for parameters of three or more levels, xᵢxⱼ)
    /// fitted by least squares (LAPACK `dgels`) to the search's objective means; each
    /// parameter's effect is the range of the fitted objective as it moves over its levels,
    /// the others held at `center`.
    func responseSurface(_ evaluations: [Evaluation], at center: Candidate) -> ([Double]?, String, Double?) {
        let d = problem.parameters.count
        let curved = problem.parameters.map { $0.levels.count >= 3 }
        let terms = 1 + d + curved.filter { $0 }.count + d * (d - 1) / 2
        let distinct = Set(evaluations.map(\.candidate)).count
        guard distinct > terms else {
            return (nil, "needs more than \(terms) distinct candidates for \(d) parameters, found \(distinct)", nil)
        }
        func row(_ x: [Double]) -> [Double] {
            var r = [1.0] + x
            for i in 0..<d where curved[i] { r.append(x[i] * x[i]) }
            for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { r.append(x[i] * x[j]) } }
            return r
        }
        let xs = evaluations.map { problem.unit($0.candidate) }
        let y = evaluations.map { $0.objective.mean }
        var a = Matrix(rows: xs.count, columns: terms)
        for (i, x) in xs.enumerated() { for (j, v) in row(x).enumerated() { a[i, j] = v } }
        // (Distinct candidates can still leave the columns dependent, e.g. a Latin hypercube on a
        // line; least squares then refuses and the reason is reported.)
        let beta: [Double]
        do {
            beta = try leastSquares(a, y)
        } catch {
            return (nil, "could not be fitted: \(error)", nil)
        }
        func predict(_ x: [Double]) -> Double { zip(row(x), beta).reduce(0) { $0 + $1.0 * $1.1 } }
        let mean = y.reduce(0, +) / Double(y.count)
        let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let residual = zip(xs, y).reduce(0) { $0 + (predict($1.0) - $1.1) * (predict($1.0) - $1.1) }
        let r2 = total > 0 ? 1 - residual / total : 1
        let base = problem.unit(center)
        let effects = (0..<d).map { i in
            let values = (0...20).map { k -> Double in
                var x = base
                x[i] = Double(k) / 20
                return predict(x)
            }
            return values.max()! - values.min()!
        }
        return (effects, "quadratic response surface over \(evaluations.count) evaluations", r2)
    }
}
