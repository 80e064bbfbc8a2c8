/// One stage of a clinic (entrance, registration, vaccination, observation, ...).
public struct ClinicStage: Hashable, Sendable, Codable {
    public var name: String
    public var staff: Int
    public var service: Distribution
    /// Walking time from the previous stage (or the door) to this one; nil for none.
    public var walk: Distribution?

    public init(name: String, staff: Int, service: Distribution, walk: Distribution? = nil) {
        self.name = name
        self.staff = staff
        self.service = service
        self.walk = walk
    }
}

/// How people reach the clinic.
public enum ClinicArrivals: Hashable, Sendable, Codable {
    /// Poisson arrivals (walk-ins) at `perHour` while the clinic is open.
    case poisson(perHour: Double)
    /// Appointments: `perBlock` people booked at each block's start (seconds of the day),
    /// arriving early or late by a normal offset (punctuality).
    case blocks(startSeconds: [Int], perBlock: Int, offsetMeanSeconds: Double, offsetStandardDeviationSeconds: Double)
}

/// A clinic as a queue network: stages in series, each with its own staff and service times.
///
/// ```swift
/// let clinic = ClinicConfiguration(stages: [
///     ClinicStage(name: "registration", staff: 2, service: .exponential(mean: 240)),
///     ClinicStage(name: "vaccination", staff: 4, service: .shiftedExponential(minimum: 120, mean: 300)),
/// ], arrivals: .poisson(perHour: 40), openSecond: 9 * 3600, closeSecond: 17 * 3600)
/// ```
public struct ClinicConfiguration: Hashable, Sendable, Codable {
    public static let stagesMax = 32
    public static let staffMax = 10_000
    /// Appointments of one day (drawn up front, so bounded).
    public static let appointmentsMax = 10_000_000

    public var stages: [ClinicStage]
    public var arrivals: ClinicArrivals
    /// Arrivals come from this second of the day ...
    public var openSecond: Int
    /// ... until this one; people inside at closing are still served.
    public var closeSecond: Int
    /// Stop admitting after this many arrivals (validation and benchmark runs use it).
    public var arrivalsMax: Int?
    /// The longest queue a stage may build before the run stops with an error.
    public var queueLengthMax: Int

    public init(stages: [ClinicStage], arrivals: ClinicArrivals, openSecond: Int = 9 * 3600, closeSecond: Int = 17 * 3600,
                arrivalsMax: Int? = nil, queueLengthMax: Int = 100_000) {
        self.stages = stages
        self.arrivals = arrivals
        self.openSecond = openSecond
        self.closeSecond = closeSecond
        self.arrivalsMax = arrivalsMax
        self.queueLengthMax = queueLengthMax
    }

    private enum CodingKeys: String, CodingKey { case stages, arrivals, openSecond, closeSecond, arrivalsMax, queueLengthMax }

    /// `stages` and `arrivals` are required; the rest take the defaults of ``init(stages:arrivals:openSecond:closeSecond:arrivalsMax:queueLengthMax:)``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stages: try c.decode([ClinicStage].self, forKey: .stages), arrivals: try c.decode(ClinicArrivals.self, forKey: .arrivals),
                  openSecond: try c.decodeIfPresent(Int.self, forKey: .openSecond) ?? 9 * 3600,
                  closeSecond: try c.decodeIfPresent(Int.self, forKey: .closeSecond) ?? 17 * 3600,
                  arrivalsMax: try c.decodeIfPresent(Int.self, forKey: .arrivalsMax),
                  queueLengthMax: try c.decodeIfPresent(Int.self, forKey: .queueLengthMax) ?? 100_000)
    }

    /// Checks every value; the error names its key path.
    public func validate() throws(ConfigurationError) {
        guard (1...Self.stagesMax).contains(stages.count) else {
            throw ConfigurationError("clinic.stages", "expected 1 to \(Self.stagesMax) stages, found \(stages.count)")
        }
        for (n, stage) in stages.enumerated() {
            let path = "clinic.stages[\(n)]"
            guard !stage.name.isEmpty else { throw ConfigurationError(path + ".name", "expected a name") }
            guard (1...Self.staffMax).contains(stage.staff) else {
                throw ConfigurationError(path + ".staff", "expected 1 to \(Self.staffMax) people, found \(stage.staff)")
            }
            try stage.service.validate(path: path + ".service")
            try stage.walk?.validate(path: path + ".walk")
        }
        guard openSecond >= 0, closeSecond > openSecond, closeSecond <= 366 * 86_400 else {
            throw ConfigurationError("clinic.closeSecond", "expected 0 <= openSecond < closeSecond <= one year, found \(openSecond)...\(closeSecond)")
        }
        switch arrivals {
        case let .poisson(perHour):
            guard perHour > 0, perHour <= 3_600_000 else {
                throw ConfigurationError("clinic.arrivals.poisson.perHour", "expected a rate above 0 and at most 1000 per second, found \(perHour)")
            }
            let expected = perHour * Double(closeSecond - openSecond) / 3600
            guard expected <= Double(Self.appointmentsMax * 10) || (arrivalsMax ?? .max) <= Self.appointmentsMax * 10 else {
                throw ConfigurationError("clinic.arrivals.poisson.perHour", "expected at most 100000000 arrivals in the opening hours (or an arrivalsMax), found about \(Int(expected))")
            }
        case let .blocks(starts, perBlock, offsetMean, offsetSD):
            let path = "clinic.arrivals.blocks"
            guard (1...10_000).contains(starts.count) else {
                throw ConfigurationError(path + ".startSeconds", "expected 1 to 10000 block starts, found \(starts.count)")
            }
            if let wrong = starts.firstIndex(where: { !(openSecond...closeSecond).contains($0) }) {
                throw ConfigurationError(path + ".startSeconds[\(wrong)]", "expected a second between opening and closing, found \(starts[wrong])")
            }
            // Appointments are drawn when the day starts; bound how many.
            guard perBlock >= 0, perBlock <= Self.appointmentsMax / starts.count else {
                throw ConfigurationError(path + ".perBlock", "expected at most \(Self.appointmentsMax) appointments in all, found \(perBlock) × \(starts.count) blocks")
            }
            guard (-86_400...86_400).contains(offsetMean) else {
                throw ConfigurationError(path + ".offsetMeanSeconds", "expected a finite offset within one day, found \(offsetMean)")
            }
            guard (0...86_400).contains(offsetSD) else {
                throw ConfigurationError(path + ".offsetStandardDeviationSeconds", "expected a finite deviation between 0 and one day, found \(offsetSD)")
            }
        }
        if let arrivalsMax, arrivalsMax < 0 { throw ConfigurationError("clinic.arrivalsMax", "expected a non-negative count, found \(arrivalsMax)") }
        guard (1...10_000_000).contains(queueLengthMax) else {
            throw ConfigurationError("clinic.queueLengthMax", "expected 1 to 10000000, found \(queueLengthMax)")
        }
    }
}

/// What a clinic run measured.
public struct ClinicResult: Hashable, Sendable, Codable {
    public var arrivals: Int
    /// Appointments whose arrival (start plus punctuality offset) fell at or after closing: not admitted.
    public var arrivedAfterClosing: Int
    public var served: Int
    /// The wait before service at each stage, in stage order.
    public var waits: [WaitStatistics]
    /// From arriving at the door to leaving the last stage.
    public var timeInClinic: WaitStatistics
    /// When the last person left (seconds of the day).
    public var lastDepartureSecond: Int
}
