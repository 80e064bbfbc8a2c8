import Foundation

/// One policy or scenario value to tune: a key path and its candidate values, either a
/// numeric range with a step (`min`, `max`, `step`) or a list of values (numbers or words).
public struct TuningParameter: Hashable, Sendable, Codable {
    public var path: String
    public var min: Double?
    public var max: Double?
    public var step: Double?
    public var values: [String]?

    public init(path: String, min: Double, max: Double, step: Double) {
        self.path = path
        self.min = min
        self.max = max
        self.step = step
        values = nil
    }

    public init(path: String, values: [String]) {
        self.path = path
        self.values = values
    }

    /// The candidate values as text (as `--set path=value` takes them), in order.
    public var levels: [String] {
        if let values { return values }
        guard let min, let max, let step else { return [] }
        let count = Int(((max - min) / step + 1e-9).rounded(.down)) + 1
        return (0..<count).map { TuningParameter.text(min + Double($0) * step) }
    }

    /// The levels as numbers: their values if numeric, else their positions (for the surrogate and the response surface).
    public var coordinates: [Double] {
        let texts = levels
        let numbers = texts.compactMap(Double.init)
        return numbers.count == texts.count ? numbers : texts.indices.map(Double.init)
    }

    /// A number as the shortest text that reads back the same, without a needless ".0".
    static func text(_ x: Double) -> String {
        // Round away the binary noise of min + k·step (0.1 + 2·0.1 = 0.30000000000000004).
        let rounded = (x * 1e9).rounded() / 1e9
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(rounded)
    }
}

/// One term of the objective: `weight × metric` (metrics are the run's figures, e.g.
/// `vaccinations_dose1`, `doses_wasted`, `coverage_gap_points`).
public struct ObjectiveTerm: Hashable, Sendable, Codable {
    public var metric: String
    public var weight: Double
    public init(metric: String, weight: Double) {
        self.metric = metric
        self.weight = weight
    }
}

/// A bound on a metric's mean: `max`, `min` or both.
public struct TuningConstraint: Hashable, Sendable, Codable {
    public var metric: String
    public var max: Double?
    public var min: Double?
    public init(metric: String, max: Double? = nil, min: Double? = nil) {
        self.metric = metric
        self.max = max
        self.min = min
    }

    public func holds(_ value: Double) -> Bool { value <= (max ?? .infinity) && value >= (min ?? -.infinity) }
}

public enum TuningMethod: String, Hashable, Sendable, Codable, CaseIterable {
    /// Every combination of levels.
    case grid
    /// A Latin hypercube over the levels: `budget` candidates, each parameter's levels evenly covered.
    case lhs
    /// Bayesian optimisation: a Gaussian-process surrogate and expected improvement (times the probability of feasibility).
    case bayes
}

/// What to tune and how: parameters, an objective to maximise (a weighted sum of metrics),
/// constraints on metric means, and the search.
public struct TuningProblem: Hashable, Sendable, Codable {
    public static let gridMax = 100_000
    public static let budgetMax = 10_000

    public var parameters: [TuningParameter]
    public var objective: [ObjectiveTerm]
    public var constraints: [TuningConstraint]
    public var method: TuningMethod
    /// Candidates evaluated in the search (grid: at most this many, else an error).
    public var budget: Int
    /// Replications per candidate; every candidate sees the same seeds (common random numbers).
    public var replications: Int
    /// The best candidates of the search rerun on fresh seeds to choose from.
    public var finalists: Int
    /// Seed of the designs and the surrogate's search (the simulation has its own seed).
    public var designSeed: UInt64
    /// Bayesian optimisation only: candidates proposed per round after the initial design
    /// (1 is sequential); a round's candidates can be evaluated on different machines.
    public var batch: Int

    public init(parameters: [TuningParameter], objective: [ObjectiveTerm], constraints: [TuningConstraint] = [],
                method: TuningMethod = .grid, budget: Int = 100, replications: Int = 10, finalists: Int = 3, designSeed: UInt64 = 1,
                batch: Int = 1) {
        self.parameters = parameters
        self.objective = objective
        self.constraints = constraints
        self.method = method
        self.budget = budget
        self.replications = replications
        self.finalists = finalists
        self.designSeed = designSeed
        self.batch = batch
    }

    private enum CodingKeys: String, CodingKey { case parameters, objective, constraints, method, budget, replications, finalists, designSeed, batch }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(parameters: try c.decode([TuningParameter].self, forKey: .parameters),
                  objective: try c.decode([ObjectiveTerm].self, forKey: .objective),
                  constraints: try c.decodeIfPresent([TuningConstraint].self, forKey: .constraints) ?? [],
                  method: try c.decodeIfPresent(TuningMethod.self, forKey: .method) ?? .grid,
                  budget: try c.decodeIfPresent(Int.self, forKey: .budget) ?? 100,
                  replications: try c.decodeIfPresent(Int.self, forKey: .replications) ?? 10,
                  finalists: try c.decodeIfPresent(Int.self, forKey: .finalists) ?? 3,
                  designSeed: try c.decodeIfPresent(UInt64.self, forKey: .designSeed) ?? 1,
                  batch: try c.decodeIfPresent(Int.self, forKey: .batch) ?? 1)
    }

    /// Number of combinations of levels.
    public var gridSize: Int {
        parameters.reduce(1) { size, p in size.multipliedReportingOverflow(by: max(1, p.levels.count)).overflow ? .max : size * max(1, p.levels.count) }
    }

    /// Checks the problem; `metrics` are the names a run reports. Errors name the key below `tune`.
    public func validate(metrics: [String]) throws(TuningError) {
        guard (1...8).contains(parameters.count) else { throw .invalid("tune.parameters", "expected 1 to 8 parameters, found \(parameters.count)") }
        var paths = Set<String>()
        for (i, p) in parameters.enumerated() {
            let path = "tune.parameters[\(i)]"
            guard !p.path.isEmpty else { throw .invalid(path + ".path", "expected a key path such as policy.categories[0].share") }
            guard paths.insert(p.path).inserted else { throw .invalid(path + ".path", "expected each key path once, found \(p.path) twice") }
            if let values = p.values {
                guard p.min == nil, p.max == nil, p.step == nil else {
                    throw .invalid(path, "expected either values or min, max and step, found both")
                }
                guard (1...10_000).contains(values.count) else { throw .invalid(path + ".values", "expected 1 to 10000 values, found \(values.count)") }
                guard Set(values).count == values.count else { throw .invalid(path + ".values", "expected distinct values") }
            } else {
                guard let min = p.min, let max = p.max, let step = p.step else {
                    throw .invalid(path, "expected values, or min, max and step")
                }
                guard min.isFinite, max.isFinite, min <= max else { throw .invalid(path + ".max", "expected min <= max, found \(min)...\(max)") }
                guard step.isFinite, step > 0 else { throw .invalid(path + ".step", "expected a positive step, found \(step)") }
                guard (max - min) / step <= 9_999 else {
                    throw .invalid(path + ".step", "expected at most 10000 levels, found \(Int((max - min) / step) + 1)")
                }
            }
        }
        guard !objective.isEmpty, objective.count <= 32 else { throw .invalid("tune.objective", "expected 1 to 32 terms, found \(objective.count)") }
        for (i, term) in objective.enumerated() {
            guard metrics.contains(term.metric) else {
                throw .invalid("tune.objective[\(i)].metric", "expected a metric of the run (\(metrics.joined(separator: ", "))), found \"\(term.metric)\"")
            }
            guard term.weight.isFinite else { throw .invalid("tune.objective[\(i)].weight", "expected a finite weight") }
        }
        for (i, constraint) in constraints.enumerated() {
            guard metrics.contains(constraint.metric) else {
                throw .invalid("tune.constraints[\(i)].metric", "expected a metric of the run (\(metrics.joined(separator: ", "))), found \"\(constraint.metric)\"")
            }
            guard constraint.max != nil || constraint.min != nil else { throw .invalid("tune.constraints[\(i)]", "expected max, min or both") }
        }
        guard (1...Self.budgetMax).contains(budget) else { throw .invalid("tune.budget", "expected 1 to \(Self.budgetMax) candidates, found \(budget)") }
        guard (2...10_000).contains(replications) else {
            throw .invalid("tune.replications", "expected 2 to 10000 (confidence intervals need two), found \(replications)")
        }
        guard (1...20).contains(finalists) else { throw .invalid("tune.finalists", "expected 1 to 20, found \(finalists)") }
        guard (1...256).contains(batch) else { throw .invalid("tune.batch", "expected 1 to 256 candidates per round, found \(batch)") }
        guard batch == 1 || method == .bayes else {
            throw .invalid("tune.batch", "a batch size applies to bayes only (grid and lhs evaluate their whole design in one round), found \(batch) with \(method.rawValue)")
        }
        let size = gridSize
        switch method {
        case .grid:
            guard size <= budget else {
                throw .invalid("tune.budget", "the grid has \(size) candidates, more than the budget of \(budget): raise the budget, coarsen a step, or use lhs or bayes")
            }
        case .lhs, .bayes:
            guard size <= Self.gridMax else {
                throw .invalid("tune.parameters", "expected at most \(Self.gridMax) combinations of levels, found \(size == .max ? "more" : String(size)): coarsen a step")
            }
        }
    }
}

/// A tuning problem or run that cannot go on: the key path and what was expected, or a failed evaluation.
public enum TuningError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid(_ path: String, _ expected: String)
    case evaluationFailed(candidate: String, reason: String)
    case noFeasibleCandidate(String)

    public var description: String {
        switch self {
        case let .invalid(path, expected): "\(path): \(expected)"
        case let .evaluationFailed(candidate, reason): "evaluating \(candidate): \(reason)"
        case let .noFeasibleCandidate(why): "no candidate meets the constraints: \(why)"
        }
    }
}
