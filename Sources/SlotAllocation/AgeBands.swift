/// An age band such as 18–44. Age is counted by year of birth, as CoWIN did:
/// `age = policy.ageReferenceYear - birthYear`.
public struct AgeBand: Hashable, Sendable, Codable {
    public var name: String
    public var minAge: Int
    /// Inclusive upper bound; `nil` means no upper bound (e.g. 60+).
    public var maxAge: Int?

    public init(name: String, minAge: Int, maxAge: Int?) {
        self.name = name
        self.minAge = minAge
        self.maxAge = maxAge
    }

    public func contains(age: Int) -> Bool {
        age >= minAge && (maxAge.map { age <= $0 } ?? true)
    }

    /// The bands of India's 2021 campaign: 18–44, 45–59 and 60+.
    public static let india2021: [AgeBand] = [
        AgeBand(name: "18-44", minAge: 18, maxAge: 44),
        AgeBand(name: "45-59", minAge: 45, maxAge: 59),
        AgeBand(name: "60+", minAge: 60, maxAge: nil),
    ]
}

/// At most 64 bands, so a set of bands is one `UInt64` mask on the hot path.
let ageBandCountMax = 64
/// The oldest age the rules know. Ages are stored in a byte; 0...150 covers every real person.
public let ageMax = 150

/// Band of each age 0...ageMax (-1 = in no band), precomputed so the hot path does a table lookup.
func bandTable(_ bands: [AgeBand]) throws(SlotAllocationError) -> [Int8] {
    guard !bands.isEmpty, bands.count <= ageBandCountMax else {
        throw .invalid("ageBands", "needs 1 to \(ageBandCountMax) bands, found \(bands.count)")
    }
    var table = [Int8](repeating: -1, count: ageMax + 1)
    for (index, band) in bands.enumerated() {
        let path = "ageBands[\(index)]"
        guard !band.name.isEmpty else { throw .invalid(path + ".name", "must not be empty") }
        // Phases and categories name bands: two of one name would make one of them unreachable.
        guard bands.firstIndex(where: { $0.name == band.name }) == index else {
            throw .invalid(path + ".name", "must be unique, \"\(band.name)\" is used twice")
        }
        guard (0...ageMax).contains(band.minAge) else {
            throw .invalid(path + ".minAge", "must be between 0 and \(ageMax), found \(band.minAge)")
        }
        let upper = band.maxAge ?? ageMax
        guard upper >= band.minAge, upper <= ageMax else {
            throw .invalid(path + ".maxAge", "must be between minAge (\(band.minAge)) and \(ageMax), found \(upper)")
        }
        for age in band.minAge...upper {
            guard table[age] == -1 else {
                throw .invalid(path, "overlaps band \(table[age]) at age \(age)")
            }
            table[age] = Int8(index)
        }
    }
    return table
}
