import Foundation

/// Who can use online booking: people with their own smartphone and internet, people
/// who need help (a relative, a kiosk, an assisted-registration desk), and people with
/// neither, who can only walk in.
/// (Spelt `none` in files; in Swift `.noAccess`, so that it is never mistaken for `Optional.none`.)
public enum Access: String, Hashable, Sendable, Codable, CaseIterable {
    case smartphone, assisted
    case noAccess = "none"
}

/// Urban or rural: it sets how many nearby centres a person will travel to.
public enum Area: String, Hashable, Sendable, Codable, CaseIterable {
    case urban, rural
}

/// How a person reached their dose: registered and booked on the portal, on a partner
/// app, through assisted registration, or walked in.
public enum CampaignChannel: String, Hashable, Sendable, Codable, CaseIterable {
    case portal, partnerApp, assisted, walkIn
}

/// A value for each access group.
public struct ByAccess<Value: Hashable & Sendable & Codable>: Hashable, Sendable, Codable {
    public var smartphone: Value
    public var assisted: Value
    public var none: Value
    public init(smartphone: Value, assisted: Value, none: Value) {
        self.smartphone = smartphone
        self.assisted = assisted
        self.none = none
    }
    public subscript(access: Access) -> Value {
        switch access {
        case .smartphone: smartphone
        case .assisted: assisted
        case .noAccess: none
        }
    }
}

/// People alike enough to be drawn in aggregate: one age band, access group and area.
public struct Cohort: Hashable, Sendable, Codable {
    public var ageBand: String
    public var access: Access
    public var area: Area
    public var people: Int
    public init(ageBand: String, access: Access, area: Area = .urban, people: Int) {
        self.ageBand = ageBand
        self.access = access
        self.area = area
        self.people = people
    }

    private enum CodingKeys: String, CodingKey { case ageBand, access, area, people }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(ageBand: try c.decode(String.self, forKey: .ageBand), access: try c.decode(Access.self, forKey: .access),
                  area: try c.decodeIfPresent(Area.self, forKey: .area) ?? .urban, people: try c.decode(Int.self, forKey: .people))
    }
}

/// `count` alike centres, each with one session a day.
public struct CenterGroup: Hashable, Sendable, Codable {
    public var count: Int
    /// A vaccine of the policy, by name (case-insensitive).
    public var vaccine: String
    /// Doses a centre can give a day (the session's capacity when stock allows).
    public var capacityPerDay: Int
    public var minAge: Int
    public var maxAge: Int?
    public var area: Area
    /// Slot windows of every session; walk-ins come during these hours.
    public var slots: [SlotWindowSeconds]

    public static let defaultSlots = [9, 11, 13, 15].map { SlotWindowSeconds(start: $0 * 3600, end: ($0 + 2) * 3600) }

    public init(count: Int, vaccine: String, capacityPerDay: Int, minAge: Int = 18, maxAge: Int? = nil,
                area: Area = .urban, slots: [SlotWindowSeconds] = CenterGroup.defaultSlots) {
        self.count = count
        self.vaccine = vaccine
        self.capacityPerDay = capacityPerDay
        self.minAge = minAge
        self.maxAge = maxAge
        self.area = area
        self.slots = slots
    }

    private enum CodingKeys: String, CodingKey { case count, vaccine, capacityPerDay, minAge, maxAge, area, slots }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(count: try c.decode(Int.self, forKey: .count), vaccine: try c.decode(String.self, forKey: .vaccine),
                  capacityPerDay: try c.decode(Int.self, forKey: .capacityPerDay),
                  minAge: try c.decodeIfPresent(Int.self, forKey: .minAge) ?? 18, maxAge: try c.decodeIfPresent(Int.self, forKey: .maxAge),
                  area: try c.decodeIfPresent(Area.self, forKey: .area) ?? .urban,
                  slots: try c.decodeIfPresent([SlotWindowSeconds].self, forKey: .slots) ?? Self.defaultSlots)
    }
}

/// A slot window in seconds of the day (09:00–11:00 is `{start: 32400, end: 39600}`).
public struct SlotWindowSeconds: Hashable, Sendable, Codable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}

/// Doses of one vaccine arriving in a district: on `firstDay`, then every `everyDays` days (if given).
public struct Delivery: Hashable, Sendable, Codable {
    public var vaccine: String
    public var doses: Int
    public var firstDay: Int
    public var everyDays: Int?
    public init(vaccine: String, doses: Int, firstDay: Int = 0, everyDays: Int? = nil) {
        self.vaccine = vaccine
        self.doses = doses
        self.firstDay = firstDay
        self.everyDays = everyDays
    }

    private enum CodingKeys: String, CodingKey { case vaccine, doses, firstDay, everyDays }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vaccine: try c.decode(String.self, forKey: .vaccine), doses: try c.decode(Int.self, forKey: .doses),
                  firstDay: try c.decodeIfPresent(Int.self, forKey: .firstDay) ?? 0, everyDays: try c.decodeIfPresent(Int.self, forKey: .everyDays))
    }

    /// Doses arriving on `day`.
    func doses(on day: Int) -> Int {
        guard day >= firstDay else { return 0 }
        if day == firstDay { return doses }
        guard let everyDays else { return 0 }
        return (day - firstDay) % everyDays == 0 ? doses : 0
    }
}

/// One district (or `copies` alike districts, simulated one by one and reported together under `name`).
public struct DistrictConfiguration: Hashable, Sendable, Codable {
    public var name: String
    public var copies: Int
    public var cohorts: [Cohort]
    public var centers: [CenterGroup]
    /// Deliveries (a delivery on day 0 is the opening stock).
    public var deliveries: [Delivery]

    public init(name: String, copies: Int = 1, cohorts: [Cohort], centers: [CenterGroup], deliveries: [Delivery]) {
        self.name = name
        self.copies = copies
        self.cohorts = cohorts
        self.centers = centers
        self.deliveries = deliveries
    }

    private enum CodingKeys: String, CodingKey { case name, copies, cohorts, centers, deliveries }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), copies: try c.decodeIfPresent(Int.self, forKey: .copies) ?? 1,
                  cohorts: try c.decode([Cohort].self, forKey: .cohorts), centers: try c.decode([CenterGroup].self, forKey: .centers),
                  deliveries: try c.decodeIfPresent([Delivery].self, forKey: .deliveries) ?? [])
    }
}

/// When and how an age band registers online.
///
/// Of the people in a cohort, `eventualShare[access]` register in the end. Of those,
/// `firstDayShare` register on `openDay`, and the rest over the following days on a
/// geometric decay: day k ≥ 1 takes `(1 − firstDayShare) × (1 − dailyDecay) × dailyDecay^(k−1)`.
/// An explicit `daily` series (shares of the eventual registrants, one per day from
/// `openDay`) replaces both.
public struct RegistrationWave: Hashable, Sendable, Codable {
    public var ageBand: String
    public var openDay: Int
    public var eventualShare: ByAccess<Double>
    public var firstDayShare: Double
    public var dailyDecay: Double
    public var daily: [Double]?
    /// Of smartphone registrants, the share who use a partner app rather than the portal.
    public var partnerAppShare: Double

    public init(ageBand: String, openDay: Int = 0,
                eventualShare: ByAccess<Double> = .init(smartphone: 0.9, assisted: 0.6, none: 0),
                firstDayShare: Double = 0.2, dailyDecay: Double = 0.85, daily: [Double]? = nil, partnerAppShare: Double = 0.1) {
        self.ageBand = ageBand
        self.openDay = openDay
        self.eventualShare = eventualShare
        self.firstDayShare = firstDayShare
        self.dailyDecay = dailyDecay
        self.daily = daily
        self.partnerAppShare = partnerAppShare
    }

    private enum CodingKeys: String, CodingKey { case ageBand, openDay, eventualShare, firstDayShare, dailyDecay, daily, partnerAppShare }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RegistrationWave(ageBand: "")
        self.init(ageBand: try c.decode(String.self, forKey: .ageBand), openDay: try c.decodeIfPresent(Int.self, forKey: .openDay) ?? 0,
                  eventualShare: try c.decodeIfPresent(ByAccess<Double>.self, forKey: .eventualShare) ?? d.eventualShare,
                  firstDayShare: try c.decodeIfPresent(Double.self, forKey: .firstDayShare) ?? d.firstDayShare,
                  dailyDecay: try c.decodeIfPresent(Double.self, forKey: .dailyDecay) ?? d.dailyDecay,
                  daily: try c.decodeIfPresent([Double].self, forKey: .daily),
                  partnerAppShare: try c.decodeIfPresent(Double.self, forKey: .partnerAppShare) ?? d.partnerAppShare)
    }

    /// Expected share of the eventual registrants registering on day `k` after opening.
    func weight(day k: Int) -> Double {
        guard k >= 0 else { return 0 }
        if let daily { return k < daily.count ? daily[k] : 0 }
        if k == 0 { return firstDayShare }
        return (1 - firstDayShare) * (1 - dailyDecay) * pow(dailyDecay, Double(k - 1))
    }
}

/// How the batch face books at release, if not first come, first served.
public enum CampaignMechanism: String, Hashable, Sendable, Codable, CaseIterable {
    case firstComeFirstServed, priority, lottery, deferredAcceptance
}

/// The booking scramble at slot release.
public struct BookingBehaviour: Hashable, Sendable, Codable {
    /// Sessions of day `d + leadDays` are published at `releaseSecond` of day `d`.
    public var releaseSecond: Int
    public var leadDays: Int
    /// Chance that a registrant still waiting for a slot tries on a given day (`none` is unused).
    public var attemptProbability: ByAccess<Double>
    /// Seconds from release to a person's first attempt.
    public var reactionSeconds: Distribution
    /// Share of smartphone registrants whose attempts a bot makes, and the bots' reaction.
    public var botShare: Double
    public var botReactionSeconds: Distribution
    /// Attempts a person makes on a day before giving up for that day.
    public var retriesPerDay: Int
    /// A registrant tries online for this many days after registering, then only walks in.
    public var giveUpAfterDays: Int
    /// How many of the nearest centres a person will book at, by area.
    public var travelCenters: Int
    public var ruralTravelCenters: Int
    /// First come, first served books each attempt through the engine as it arrives; the
    /// batch mechanisms collect the day's applicants and allocate once, at release.
    public var mechanism: CampaignMechanism
    /// Applicants per district and day for a batch mechanism: a run beyond it stops with an error.
    public var batchApplicantsMax: Int

    public init(releaseSecond: Int = 16 * 3600, leadDays: Int = 1,
                attemptProbability: ByAccess<Double> = .init(smartphone: 0.8, assisted: 0.4, none: 0),
                reactionSeconds: Distribution = .lognormal(mean: 600, standardDeviation: 1200), botShare: Double = 0,
                botReactionSeconds: Distribution = .exponential(mean: 2), retriesPerDay: Int = 3, giveUpAfterDays: Int = 30,
                travelCenters: Int = 8, ruralTravelCenters: Int = 3, mechanism: CampaignMechanism = .firstComeFirstServed,
                batchApplicantsMax: Int = 500_000) {
        self.releaseSecond = releaseSecond
        self.leadDays = leadDays
        self.attemptProbability = attemptProbability
        self.reactionSeconds = reactionSeconds
        self.botShare = botShare
        self.botReactionSeconds = botReactionSeconds
        self.retriesPerDay = retriesPerDay
        self.giveUpAfterDays = giveUpAfterDays
        self.travelCenters = travelCenters
        self.ruralTravelCenters = ruralTravelCenters
        self.mechanism = mechanism
        self.batchApplicantsMax = batchApplicantsMax
    }

    private enum CodingKeys: String, CodingKey {
        case releaseSecond, leadDays, attemptProbability, reactionSeconds, botShare, botReactionSeconds, retriesPerDay,
             giveUpAfterDays, travelCenters, ruralTravelCenters, mechanism, batchApplicantsMax
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BookingBehaviour()
        self.init(releaseSecond: try c.decodeIfPresent(Int.self, forKey: .releaseSecond) ?? d.releaseSecond,
                  leadDays: try c.decodeIfPresent(Int.self, forKey: .leadDays) ?? d.leadDays,
                  attemptProbability: try c.decodeIfPresent(ByAccess<Double>.self, forKey: .attemptProbability) ?? d.attemptProbability,
                  reactionSeconds: try c.decodeIfPresent(Distribution.self, forKey: .reactionSeconds) ?? d.reactionSeconds,
                  botShare: try c.decodeIfPresent(Double.self, forKey: .botShare) ?? d.botShare,
                  botReactionSeconds: try c.decodeIfPresent(Distribution.self, forKey: .botReactionSeconds) ?? d.botReactionSeconds,
                  retriesPerDay: try c.decodeIfPresent(Int.self, forKey: .retriesPerDay) ?? d.retriesPerDay,
                  giveUpAfterDays: try c.decodeIfPresent(Int.self, forKey: .giveUpAfterDays) ?? d.giveUpAfterDays,
                  travelCenters: try c.decodeIfPresent(Int.self, forKey: .travelCenters) ?? d.travelCenters,
                  ruralTravelCenters: try c.decodeIfPresent(Int.self, forKey: .ruralTravelCenters) ?? d.ruralTravelCenters,
                  mechanism: try c.decodeIfPresent(CampaignMechanism.self, forKey: .mechanism) ?? d.mechanism,
                  batchApplicantsMax: try c.decodeIfPresent(Int.self, forKey: .batchApplicantsMax) ?? d.batchApplicantsMax)
    }
}

/// People who come to a centre without an appointment.
public struct WalkInBehaviour: Hashable, Sendable, Codable {
    /// Chance per day that an unvaccinated person without an appointment walks in (once their band may).
    public var dailyProbability: ByAccess<Double>
    /// 24 weights: the hour of the day walk-ins arrive (only hours the centre is open count).
    public var hourProfile: [Double]
    /// Chance that a person turned away comes back the next day.
    public var returnProbability: Double
    /// Chance per day that a person due for dose 2 and without an appointment walks in.
    public var dose2DailyProbability: Double

    public static let defaultHourProfile: [Double] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]

    public init(dailyProbability: ByAccess<Double> = .init(smartphone: 0.002, assisted: 0.004, none: 0.006),
                hourProfile: [Double] = WalkInBehaviour.defaultHourProfile, returnProbability: Double = 0.5,
                dose2DailyProbability: Double = 0.2) {
        self.dailyProbability = dailyProbability
        self.hourProfile = hourProfile
        self.returnProbability = returnProbability
        self.dose2DailyProbability = dose2DailyProbability
    }

    private enum CodingKeys: String, CodingKey { case dailyProbability, hourProfile, returnProbability, dose2DailyProbability }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WalkInBehaviour()
        self.init(dailyProbability: try c.decodeIfPresent(ByAccess<Double>.self, forKey: .dailyProbability) ?? d.dailyProbability,
                  hourProfile: try c.decodeIfPresent([Double].self, forKey: .hourProfile) ?? d.hourProfile,
                  returnProbability: try c.decodeIfPresent(Double.self, forKey: .returnProbability) ?? d.returnProbability,
                  dose2DailyProbability: try c.decodeIfPresent(Double.self, forKey: .dose2DailyProbability) ?? d.dose2DailyProbability)
    }
}

/// Whether and when people with appointments come.
public struct AttendanceBehaviour: Hashable, Sendable, Codable {
    /// No-show chance by access group of the booked person (smartphone, assisted; `none` is unused).
    public var noShowProbability: ByAccess<Double>
    /// Arrival offset from the slot window's start (normal).
    public var punctualityMeanSeconds: Double
    public var punctualityStandardDeviationSeconds: Double
    /// Share of people given dose 1 who come back for dose 2 in its window.
    public var dose2ReturnShare: Double

    public init(noShowProbability: ByAccess<Double> = .init(smartphone: 0.1, assisted: 0.05, none: 0),
                punctualityMeanSeconds: Double = 600, punctualityStandardDeviationSeconds: Double = 1200, dose2ReturnShare: Double = 0.9) {
        self.noShowProbability = noShowProbability
        self.punctualityMeanSeconds = punctualityMeanSeconds
        self.punctualityStandardDeviationSeconds = punctualityStandardDeviationSeconds
        self.dose2ReturnShare = dose2ReturnShare
    }

    private enum CodingKeys: String, CodingKey { case noShowProbability, punctualityMeanSeconds, punctualityStandardDeviationSeconds, dose2ReturnShare }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AttendanceBehaviour()
        self.init(noShowProbability: try c.decodeIfPresent(ByAccess<Double>.self, forKey: .noShowProbability) ?? d.noShowProbability,
                  punctualityMeanSeconds: try c.decodeIfPresent(Double.self, forKey: .punctualityMeanSeconds) ?? d.punctualityMeanSeconds,
                  punctualityStandardDeviationSeconds: try c.decodeIfPresent(Double.self, forKey: .punctualityStandardDeviationSeconds)
                      ?? d.punctualityStandardDeviationSeconds,
                  dose2ReturnShare: try c.decodeIfPresent(Double.self, forKey: .dose2ReturnShare) ?? d.dose2ReturnShare)
    }
}

/// A vaccination campaign: districts with their people, centres and deliveries, and how
/// people register, book, walk in and attend. Day 0 is the first simulated day; time is
/// seconds from its midnight. The allocation policy (bands, vaccines, phases, categories)
/// is the ``SlotAllocation`` policy given next to it.
public struct CampaignConfiguration: Hashable, Sendable, Codable {
    public static let daysMax = 366
    public static let districtsMax = 10_000
    public static let cohortsMax = 64
    public static let centersPerDistrictMax = 20_000
    public static let centersMax = 2_000_000
    public static let peopleMax = 2_000_000_000
    public static let capacityPerDayMax = 100_000

    public var days: Int
    public var districts: [DistrictConfiguration]
    public var registration: [RegistrationWave]
    public var booking: BookingBehaviour
    public var walkIns: WalkInBehaviour
    public var attendance: AttendanceBehaviour
    /// Clinic flow (queue network) simulated on the first centre of every district, each day:
    /// appointments and walk-ins arrive as the campaign sends them.
    public var clinic: CampaignClinic?

    public init(days: Int, districts: [DistrictConfiguration], registration: [RegistrationWave],
                booking: BookingBehaviour = .init(), walkIns: WalkInBehaviour = .init(), attendance: AttendanceBehaviour = .init(),
                clinic: CampaignClinic? = nil) {
        self.days = days
        self.districts = districts
        self.registration = registration
        self.booking = booking
        self.walkIns = walkIns
        self.attendance = attendance
        self.clinic = clinic
    }

    private enum CodingKeys: String, CodingKey { case days, districts, registration, booking, walkIns, attendance, clinic }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(days: try c.decode(Int.self, forKey: .days), districts: try c.decode([DistrictConfiguration].self, forKey: .districts),
                  registration: try c.decodeIfPresent([RegistrationWave].self, forKey: .registration) ?? [],
                  booking: try c.decodeIfPresent(BookingBehaviour.self, forKey: .booking) ?? .init(),
                  walkIns: try c.decodeIfPresent(WalkInBehaviour.self, forKey: .walkIns) ?? .init(),
                  attendance: try c.decodeIfPresent(AttendanceBehaviour.self, forKey: .attendance) ?? .init(),
                  clinic: try c.decodeIfPresent(CampaignClinic.self, forKey: .clinic))
    }
}

/// The clinic stages of the sampled centres (see ``CampaignConfiguration/clinic``).
public struct CampaignClinic: Hashable, Sendable, Codable {
    public var stages: [ClinicStage]
    public var queueLengthMax: Int
    public init(stages: [ClinicStage], queueLengthMax: Int = 100_000) {
        self.stages = stages
        self.queueLengthMax = queueLengthMax
    }

    private enum CodingKeys: String, CodingKey { case stages, queueLengthMax }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stages: try c.decode([ClinicStage].self, forKey: .stages),
                  queueLengthMax: try c.decodeIfPresent(Int.self, forKey: .queueLengthMax) ?? 100_000)
    }
}
