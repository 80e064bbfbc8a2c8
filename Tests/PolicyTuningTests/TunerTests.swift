import Foundation
@testable import PolicyTuning
import Testing

/// The search and the selection on analytic functions (no simulation).
@Suite struct TunerTests {
    /// Branin on x1 ∈ [−5, 10], x2 ∈ [0, 15]; minimum 0.397887 at three points.
    static func branin(_ x1: Double, _ x2: Double) -> Double {
        let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
        return pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * cos(x1) + 10
    }

    static func braninProblem(_ method: TuningMethod, budget: Int) -> TuningProblem {
        TuningProblem(parameters: [TuningParameter(path: "x1", min: -5, max: 10, step: 0.75),
                                   TuningParameter(path: "x2", min: 0, max: 15, step: 0.75)],
                      objective: [ObjectiveTerm(metric: "branin", weight: -1)], method: method, budget: budget, replications: 2, finalists: 2)
    }

    static let braninEvaluate: Tuner.Evaluate = { candidate, _, replications in
        let x1 = -5 + 0.75 * Double(candidate[0]), x2 = 0.75 * Double(candidate[1])
        return Array(repeating: ["branin": branin(x1, x2)], count: replications)
    }

    @Test func bayesReachesTheGridOptimumWithAQuarterOfTheEvaluations() throws {
        let grid = try Tuner(Self.braninProblem(.grid, budget: 441)).run(seed: 1, evaluate: Self.braninEvaluate)
        let gridBest = -grid.chosen.objective.mean
        #expect(grid.evaluations.filter { $0.phase == .search }.count == 441)
        #expect(abs(gridBest - 0.397887) < 0.2)
        let bayes = try Tuner(Self.braninProblem(.bayes, budget: 110)).run(seed: 1, evaluate: Self.braninEvaluate)
        let bayesBest = -bayes.chosen.objective.mean
        #expect(bayes.evaluations.filter { $0.phase == .search }.count <= 110)
        #expect(abs(bayesBest - gridBest) <= 0.01 * abs(gridBest), "bayes \(bayesBest) vs grid \(gridBest)")
    }

    /// Batched Bayesian optimisation: rounds of distinct candidates, still within 1 % of the grid
    /// optimum with a quarter of its evaluations, and any split of each round into shards merges
    /// back to exactly the single-machine search.
    @Test func batchedBayesFindsTheOptimumAndShardsOfEachRoundMergeToTheSingleRun() throws {
        var problem = Self.braninProblem(.bayes, budget: 110)
        problem.batch = 4
        let found = try Tuner(problem).search(seed: 1, evaluate: Self.braninEvaluate)
        #expect(found.count == 110)
        #expect(Set(found.map(\.candidate)).count == 110, "no candidate proposed twice")
        let gridBest = (0..<21).flatMap { i in (0..<21).map { j in Self.branin(-5 + 0.75 * Double(i), 0.75 * Double(j)) } }.min()!
        let best = found.map { -$0.objective.mean }.min()!
        #expect(abs(best - gridBest) <= 0.01 * gridBest, "batched bayes best \(best), grid \(gridBest)")

        problem.budget = 24
        problem.batch = 5
        let tuner = Tuner(problem)
        let single = try tuner.search(seed: 1, evaluate: Self.braninEvaluate)
        #expect(tuner.plannedRounds == 1 + (24 - 5 + 4) / 5 && tuner.roundsDone(single) == tuner.plannedRounds)
        var merged: [Evaluation] = []
        var rounds = 0
        while try !tuner.nextRound(after: merged).isEmpty {
            let shards = try (0..<3).map { i in
                try tuner.searchShard(seed: 1, evaluate: Self.braninEvaluate, shard: (i, 3), after: merged)
            }
            merged = try tuner.merge(after: merged, shards.reversed())
            rounds += 1
        }
        #expect(merged == single && rounds == tuner.plannedRounds)
        #expect(throws: TuningError.self) { try tuner.merge(after: Array(single.prefix(5)), [[]]) }
    }

    @Test func constraintsSteerTheChoiceAndDifferencesArePaired() throws {
        // Maximise x subject to x² ≤ 30 on 0...10, with replication noise shared across candidates.
        let problem = TuningProblem(parameters: [TuningParameter(path: "x", min: 0, max: 10, step: 1)],
                                    objective: [ObjectiveTerm(metric: "x", weight: 1)],
                                    constraints: [TuningConstraint(metric: "square", max: 30)], method: .grid, budget: 11, replications: 5, finalists: 3)
        let evaluate: Tuner.Evaluate = { candidate, seed, replications in
            (0..<replications).map { r in
                let noise = Double((Int(seed % 7) + r) % 5) * 0.01   // same for every candidate: common random numbers
                let x = Double(candidate[0])
                return ["x": x + noise, "square": x * x]
            }
        }
        let result = try Tuner(problem).run(seed: 3, evaluate: evaluate)
        #expect(result.chosenOverrides == ["x=5"] && result.constraintsHold)
        #expect(result.differences.count == 2)
        for d in result.differences { #expect(d.difference.mean >= 1 - 1e-9 && d.difference.halfWidth95 < 1e-9) }
        #expect(result.finalists.allSatisfy { $0.seed != 3 }, "finalists run on fresh seeds")
        #expect(result.sensitivity != nil && (result.surfaceRSquared ?? 0) > 0.99)
    }

    @Test func designsAreDeterministicAndCoverTheLevels() {
        let lhs = Tuner(TuningProblem(parameters: [TuningParameter(path: "a", min: 0, max: 9, step: 1), TuningParameter(path: "b", values: ["x", "y", "z"])],
                                      objective: [ObjectiveTerm(metric: "m", weight: 1)], method: .lhs, budget: 10))
        #expect(lhs.design() == lhs.design())
        #expect(Set(lhs.design().map { $0[0] }).count == 10, "each of the 10 levels of a once")
        #expect(Designs.grid([2, 3]).count == 6 && Designs.grid([2, 3])[1] == [0, 1])
        #expect(TuningParameter(path: "p", min: 0.1, max: 0.5, step: 0.1).levels == ["0.1", "0.2", "0.3", "0.4", "0.5"])
    }

    @Test func badProblemsNameTheirKey() {
        let good = TuningProblem(parameters: [TuningParameter(path: "a", min: 0, max: 1, step: 0.1)], objective: [ObjectiveTerm(metric: "m", weight: 1)])
        #expect(throws: TuningError.invalid("tune.objective[0].metric", "expected a metric of the run (n), found \"m\"")) {
            try good.validate(metrics: ["n"])
        }
        var wide = good
        wide.parameters[0].step = 0.001
        wide.method = .grid
        #expect(throws: TuningError.self) { try wide.validate(metrics: ["m"]) }
        var noStep = good
        noStep.parameters[0].step = nil
        #expect(throws: TuningError.invalid("tune.parameters[0]", "expected values, or min, max and step")) { try noStep.validate(metrics: ["m"]) }
        var batchedGrid = good
        batchedGrid.batch = 4
        #expect(throws: TuningError.self) { try batchedGrid.validate(metrics: ["m"]) }
    }
}
