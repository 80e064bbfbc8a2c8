/// A configuration that cannot be simulated: the key path (as a scenario file spells it)
/// and what was expected there.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var expected: String
    public init(_ path: String, _ expected: String) {
        self.path = path
        self.expected = expected
    }
    public var description: String { "\(path): \(expected)" }
}

/// A run that hit one of the simulator's limits.
public enum SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stage's queue grew past its limit: the stage is overloaded beyond what the run can hold.
    case queueLimitExceeded(stage: String, limit: Int)
    /// More events pending than the event queue allows.
    case eventLimitExceeded(limit: Int)
    /// A batch mechanism had more applicants in a district on a day than the scenario allows.
    case batchTooLarge(district: String, day: Int, applicants: Int, limit: Int)
    /// The replications' results would not fit the memory a run may take.
    case resultsTooLarge(replications: Int, bytesEach: Int)
    /// The allocator refused the model's own set-up (a configuration the checks let through).
    case invalidModel(String)

    public var description: String {
        switch self {
        case let .queueLimitExceeded(stage, limit): "the queue at stage \"\(stage)\" passed its limit of \(limit) people"
        case let .eventLimitExceeded(limit): "more than \(limit) events were pending"
        case let .batchTooLarge(district, day, applicants, limit):
            "district \(district), day \(day): \(applicants) applicants for the batch, more than campaign.booking.batchApplicantsMax (\(limit))"
        case let .resultsTooLarge(replications, bytes):
            "\(replications) replications of \(bytes / 1_048_576) MiB of results each are more than 4 GiB: run fewer replications, fewer days or fewer district entries"
        case let .invalidModel(what): "the allocator refused \(what)"
        }
    }
}
