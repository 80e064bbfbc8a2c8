/// How a person asks for a dose: booked online (portal or partner app) or at the centre.
public enum Channel: String, Hashable, Sendable, Codable, CaseIterable {
    case online
    case walkIn

    var bit: UInt8 { self == .online ? 1 : 2 }
}

/// One key of a priority order. Earlier keys dominate; ties fall to later keys, then to the lower id.
public enum PriorityKey: String, Hashable, Sendable, Codable, CaseIterable {
    /// Earlier request first (first come, first served).
    case requestTime
    /// Older first.
    case ageDescending
    /// Earlier registration first.
    case registrationTime
    /// A seeded lottery number per registrant.
    case lottery
}

/// A share of every session's capacity with its own eligibility rule and priority order.
///
/// Capacity per session is split as: `count` if given, else `floor(share × capacity)`
/// if given, else the category takes what remains (exactly one category must). The product
/// is a binary `Double`, so a share that has no exact binary form can fall just short of a
/// whole number: 0.29 × 100 gives 28 units, not 29. Give `count` where exact units matter.
///
/// ```swift
/// let walkIns = CapacityCategory(name: "walk-in", share: 0.2, channels: [.walkIn],
///                                releaseToOnlineAtSecondOfDay: 13 * 3600)
/// ```
public struct CapacityCategory: Hashable, Sendable, Codable {
    public var name: String
    public var count: Int?
    public var share: Double?
    /// Who may use this category's units: online bookings, walk-ins, or both.
    public var channels: [Channel]
    /// Names of the age bands allowed; `nil` allows every band the session allows.
    public var ageBands: [String]?
    /// Doses allowed; `nil` allows both.
    public var doses: [Dose]?
    /// Priority groups (0...63) allowed, e.g. health workers; `nil` allows everybody.
    public var priorityGroups: [Int]?
    /// How the batch allocator ranks applicants for this category.
    public var priorityOrder: [PriorityKey]
    /// From this second of the session's day, unused units are open to online booking too
    /// (a walk-in reserve released to online at a cut-off).
    public var releaseToOnlineAtSecondOfDay: Int?

    public init(name: String, count: Int? = nil, share: Double? = nil, channels: [Channel] = [.online],
                ageBands: [String]? = nil, doses: [Dose]? = nil, priorityGroups: [Int]? = nil,
                priorityOrder: [PriorityKey] = [.requestTime], releaseToOnlineAtSecondOfDay: Int? = nil) {
        self.name = name
        self.count = count
        self.share = share
        self.channels = channels
        self.ageBands = ageBands
        self.doses = doses
        self.priorityGroups = priorityGroups
        self.priorityOrder = priorityOrder
        self.releaseToOnlineAtSecondOfDay = releaseToOnlineAtSecondOfDay
    }
}

/// From `openDay` on, people in the age band may book online, and from `walkInOpenDay`
/// (`openDay` if not given) they may walk in (CoWIN: 18–44 booked online from 1 May 2021,
/// walked in at government centres from 24 May).
public struct EligibilityPhase: Hashable, Sendable, Codable {
    public var ageBand: String
    public var openDay: Int
    public var walkInOpenDay: Int?
    public init(ageBand: String, openDay: Int, walkInOpenDay: Int? = nil) {
        self.ageBand = ageBand
        self.openDay = openDay
        self.walkInOpenDay = walkInOpenDay
    }
}

/// The whole allocation policy: bands, vaccines, phases, categories and their
/// processing order, booking and release rules.
///
/// The processing order of categories is explicit because it changes who is served.
/// Pathak, Sönmez, Ünver and Yenmez ("Fair Allocation of Vaccines, Ventilators and
/// Antiviral Treatments", Management Science 2024) show it with one open and one reserve
/// unit and priority b1 > n1 > b2, where b1 and b2 are reserve-eligible: processing the
/// reserve first ("minimum guarantee") serves b1 and n1; processing the open unit first
/// ("over and above") serves b1 and b2.
///
/// ```swift
/// var policy = AllocationPolicy.standard(walkInShare: 0.2, dose2Share: 0.6)
/// policy.processingOrder = ["walk-in", "dose-2", "open"]
/// let engine = try BookingEngine(policy: policy)
/// ```
public struct AllocationPolicy: Hashable, Sendable, Codable {
    /// Age is `ageReferenceYear - birthYear` (CoWIN counted by year of birth).
    public var ageReferenceYear: Int
    public var ageBands: [AgeBand]
    public var vaccines: [Vaccine]
    /// Bands without a phase never open.
    public var phases: [EligibilityPhase]
    public var categories: [CapacityCategory]
    /// Category names in the order in which units are filled (a permutation of all categories).
    public var processingOrder: [String]
    /// Online booking for a day closes at this second of that day (CoWIN: 15:00).
    public var bookingCloseSecondOfDay: Int
    /// A hold counts against capacity and lapses after this many seconds unless confirmed,
    /// or at the session's booking close if that comes first.
    public var holdTimeoutSeconds: Int
    /// Units freed by online no-shows go to walk-ins once the slot window has started.
    public var noShowCapacityToWalkIns: Bool
    /// From this second of the session's day every unit is open to anybody the session admits.
    public var endOfDayFillSecondOfDay: Int?
    /// The order of the batch allocator's `priority` mechanism (serial dictatorship).
    public var batchPriorityOrder: [PriorityKey]

    public init(ageReferenceYear: Int = 2021, ageBands: [AgeBand] = AgeBand.india2021,
                vaccines: [Vaccine] = [.covishield, .covaxin], phases: [EligibilityPhase]? = nil,
                categories: [CapacityCategory], processingOrder: [String]? = nil,
                bookingCloseSecondOfDay: Int = 15 * 3600, holdTimeoutSeconds: Int = 600,
                noShowCapacityToWalkIns: Bool = true, endOfDayFillSecondOfDay: Int? = nil,
                batchPriorityOrder: [PriorityKey] = [.ageDescending, .registrationTime]) {
        self.ageReferenceYear = ageReferenceYear
        self.ageBands = ageBands
        self.vaccines = vaccines
        self.phases = phases ?? ageBands.map { EligibilityPhase(ageBand: $0.name, openDay: 0) }
        self.categories = categories
        self.processingOrder = processingOrder ?? categories.map(\.name)
        self.bookingCloseSecondOfDay = bookingCloseSecondOfDay
        self.holdTimeoutSeconds = holdTimeoutSeconds
        self.noShowCapacityToWalkIns = noShowCapacityToWalkIns
        self.endOfDayFillSecondOfDay = endOfDayFillSecondOfDay
        self.batchPriorityOrder = batchPriorityOrder
    }

    /// A CoWIN-like split: a walk-in reserve released to online at `walkInReleaseSecondOfDay`,
    /// an online dose-2 share, and online dose-1-or-2 for the rest; reserve first.
    public static func standard(walkInShare: Double = 0.2, dose2Share: Double = 0.4,
                                walkInReleaseSecondOfDay: Int? = 13 * 3600,
                                ageBands: [AgeBand] = AgeBand.india2021) -> AllocationPolicy {
        AllocationPolicy(
            ageBands: ageBands,
            categories: [
                CapacityCategory(name: "walk-in", share: walkInShare, channels: [.walkIn],
                                 releaseToOnlineAtSecondOfDay: walkInReleaseSecondOfDay),
                CapacityCategory(name: "dose-2", share: dose2Share, doses: [.two]),
                CapacityCategory(name: "open", channels: [.online, .walkIn]),
            ],
            endOfDayFillSecondOfDay: 16 * 3600)
    }

    /// One category that takes everything, online and walk-in, first come first served.
    public static func singleCategory(ageBands: [AgeBand] = AgeBand.india2021) -> AllocationPolicy {
        AllocationPolicy(ageBands: ageBands, categories: [CapacityCategory(name: "open", channels: [.online, .walkIn])])
    }
}

extension AllocationPolicy {
    private enum CodingKeys: String, CodingKey {
        case ageReferenceYear, ageBands, vaccines, phases, categories, processingOrder, bookingCloseSecondOfDay,
             holdTimeoutSeconds, noShowCapacityToWalkIns, endOfDayFillSecondOfDay, batchPriorityOrder
    }

    /// Decodes a policy; every key but `categories` may be left out and takes its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let bands = try c.decodeIfPresent([AgeBand].self, forKey: .ageBands) ?? AgeBand.india2021
        self.init(
            ageReferenceYear: try c.decodeIfPresent(Int.self, forKey: .ageReferenceYear) ?? 2021,
            ageBands: bands,
            vaccines: try c.decodeIfPresent([Vaccine].self, forKey: .vaccines) ?? [.covishield, .covaxin],
            phases: try c.decodeIfPresent([EligibilityPhase].self, forKey: .phases),
            categories: try c.decode([CapacityCategory].self, forKey: .categories),
            processingOrder: try c.decodeIfPresent([String].self, forKey: .processingOrder),
            bookingCloseSecondOfDay: try c.decodeIfPresent(Int.self, forKey: .bookingCloseSecondOfDay) ?? 15 * 3600,
            holdTimeoutSeconds: try c.decodeIfPresent(Int.self, forKey: .holdTimeoutSeconds) ?? 600,
            noShowCapacityToWalkIns: try c.decodeIfPresent(Bool.self, forKey: .noShowCapacityToWalkIns) ?? true,
            endOfDayFillSecondOfDay: try c.decodeIfPresent(Int.self, forKey: .endOfDayFillSecondOfDay),
            batchPriorityOrder: try c.decodeIfPresent([PriorityKey].self, forKey: .batchPriorityOrder)
                ?? [.ageDescending, .registrationTime])
    }
}

extension CapacityCategory {
    private enum CodingKeys: String, CodingKey {
        case name, count, share, channels, ageBands, doses, priorityGroups, priorityOrder, releaseToOnlineAtSecondOfDay
    }

    /// Decodes a category; only `name` is required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            count: try c.decodeIfPresent(Int.self, forKey: .count),
            share: try c.decodeIfPresent(Double.self, forKey: .share),
            channels: try c.decodeIfPresent([Channel].self, forKey: .channels) ?? [.online],
            ageBands: try c.decodeIfPresent([String].self, forKey: .ageBands),
            doses: try c.decodeIfPresent([Dose].self, forKey: .doses),
            priorityGroups: try c.decodeIfPresent([Int].self, forKey: .priorityGroups),
            priorityOrder: try c.decodeIfPresent([PriorityKey].self, forKey: .priorityOrder) ?? [.requestTime],
            releaseToOnlineAtSecondOfDay: try c.decodeIfPresent(Int.self, forKey: .releaseToOnlineAtSecondOfDay))
    }
}
