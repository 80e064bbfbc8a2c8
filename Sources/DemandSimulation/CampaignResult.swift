/// What is counted per day × district × age band × access group × channel.
public enum CampaignMetric: Int, Hashable, Sendable, CaseIterable, Codable {
    case registrations, bookingAttempts, failedAttempts, bookings, noShows
    case vaccinationsDose1, vaccinationsDose2, walkInsServed, walkInsTurnedAway, turnedAwayNoStock

    public var name: String {
        switch self {
        case .registrations: "registrations"
        case .bookingAttempts: "booking_attempts"
        case .failedAttempts: "failed_attempts"
        case .bookings: "bookings"
        case .noShows: "no_shows"
        case .vaccinationsDose1: "vaccinations_dose1"
        case .vaccinationsDose2: "vaccinations_dose2"
        case .walkInsServed: "walk_ins_served"
        case .walkInsTurnedAway: "walk_ins_turned_away"
        case .turnedAwayNoStock: "turned_away_no_stock"
        }
    }
}

/// What is counted per day × district (capacity and doses belong to the district).
public enum DistrictMetric: Int, Hashable, Sendable, CaseIterable, Codable {
    case capacityPublished, dosesDelivered, dosesGiven, dosesWasted, stockEnd, vialsOpened

    public var name: String {
        switch self {
        case .capacityPublished: "capacity_published"
        case .dosesDelivered: "doses_delivered"
        case .dosesGiven: "doses_given"
        case .dosesWasted: "doses_wasted"
        case .stockEnd: "stock_end"
        case .vialsOpened: "vials_opened"
        }
    }
}

/// The counts of one replication. Every count is an integer and districts are added in,
/// so the result is the same whatever order districts finish in (and on any number of threads).
public struct CampaignResult: Sendable {
    public let days: Int
    /// District entries (copies of an entry are added together).
    public let districts: [String]
    public let bands: [String]
    public let stageNames: [String]
    /// [day][district][band][access][channel][metric]
    public private(set) var cells: [Int64]
    /// [day][district][metric]
    public private(set) var districtCells: [Int64]
    /// People per [district][band][access].
    public private(set) var people: [Int64]
    /// Registered people given dose 1, by days from registration to the dose.
    public private(set) var daysToVaccination: [Int64]
    /// Engine refusals by code (booking attempts and walk-ins).
    public private(set) var refusals: [String: Int64]
    /// Clinic flow at the sampled centres: the wait before each stage, and the time inside.
    public private(set) var stageWaits: [WaitRecorder]
    public private(set) var timeInClinic: WaitRecorder
    /// Doses given to people who came back for dose 2 inside their window, and people whose window passed.
    public private(set) var dose2WindowMissed: Int64

    static let accessCount = Access.allCases.count
    static let channelCount = CampaignChannel.allCases.count
    static let metricCount = CampaignMetric.allCases.count
    static let districtMetricCount = DistrictMetric.allCases.count
    /// A replication's cells are held in memory: days × district entries × bands is bounded.
    public static let cellsMax = 30_000

    init(days: Int, districts: [String], bands: [String], stageNames: [String]) {
        self.days = days
        self.districts = districts
        self.bands = bands
        self.stageNames = stageNames
        cells = [Int64](repeating: 0, count: days * districts.count * bands.count * Self.accessCount * Self.channelCount * Self.metricCount)
        districtCells = [Int64](repeating: 0, count: days * districts.count * Self.districtMetricCount)
        people = [Int64](repeating: 0, count: districts.count * bands.count * Self.accessCount)
        daysToVaccination = [Int64](repeating: 0, count: days)
        refusals = [:]
        stageWaits = stageNames.map { _ in WaitRecorder() }
        timeInClinic = WaitRecorder()
        dose2WindowMissed = 0
    }

    @inline(__always)
    func index(day: Int, district: Int, band: Int, access: Access, channel: CampaignChannel, metric: CampaignMetric) -> Int {
        ((((day * districts.count + district) * bands.count + band) * Self.accessCount + access.index) * Self.channelCount
            + channel.index) * Self.metricCount + metric.rawValue
    }

    public subscript(day: Int, district: Int, band: Int, access: Access, channel: CampaignChannel, metric: CampaignMetric) -> Int64 {
        get { cells[index(day: day, district: district, band: band, access: access, channel: channel, metric: metric)] }
        set { cells[index(day: day, district: district, band: band, access: access, channel: channel, metric: metric)] = newValue }
    }

    public subscript(day: Int, district: Int, metric: DistrictMetric) -> Int64 {
        get { districtCells[(day * districts.count + district) * Self.districtMetricCount + metric.rawValue] }
        set { districtCells[(day * districts.count + district) * Self.districtMetricCount + metric.rawValue] = newValue }
    }

    public func people(district: Int, band: Int, access: Access) -> Int64 {
        people[(district * bands.count + band) * Self.accessCount + access.index]
    }

    mutating func addPeople(_ n: Int, district: Int, band: Int, access: Access) {
        people[(district * bands.count + band) * Self.accessCount + access.index] += Int64(n)
    }

    mutating func addDaysToVaccination(_ days: Int) { daysToVaccination[min(max(days, 0), daysToVaccination.count - 1)] += 1 }
    mutating func addRefusal(_ code: String, _ n: Int64 = 1) { refusals[code, default: 0] += n }
    mutating func addDose2WindowMissed(_ n: Int) { dose2WindowMissed += Int64(n) }
    mutating func addClinic(waits: [WaitRecorder], timeInClinic time: WaitRecorder) {
        for s in stageWaits.indices { stageWaits[s].merge(waits[s]) }
        timeInClinic.merge(time)
    }

    /// Adds `other`, a one-district result, into district row `row`.
    mutating func merge(_ other: CampaignResult, intoDistrict row: Int) {
        precondition(other.districts.count == 1 && other.days == days && other.bands.count == bands.count)
        let block = bands.count * Self.accessCount * Self.channelCount * Self.metricCount
        for day in 0..<days {
            let to = (day * districts.count + row) * block, from = day * block
            for i in 0..<block { cells[to + i] &+= other.cells[from + i] }
            for m in 0..<Self.districtMetricCount {
                districtCells[(day * districts.count + row) * Self.districtMetricCount + m] &+= other.districtCells[day * Self.districtMetricCount + m]
            }
        }
        let peopleBlock = bands.count * Self.accessCount
        for i in 0..<peopleBlock { people[row * peopleBlock + i] &+= other.people[i] }
        for i in daysToVaccination.indices { daysToVaccination[i] &+= other.daysToVaccination[i] }
        for (code, n) in other.refusals { refusals[code, default: 0] += n }
        addClinic(waits: other.stageWaits, timeInClinic: other.timeInClinic)
        dose2WindowMissed += other.dose2WindowMissed
    }

    // MARK: Totals

    /// The sum of `metric` over every day and group, optionally of one access group or channel.
    public func total(_ metric: CampaignMetric, access: Access? = nil, channel: CampaignChannel? = nil) -> Int64 {
        var sum: Int64 = 0
        for day in 0..<days {
            for d in districts.indices {
                for b in bands.indices {
                    for a in Access.allCases where access == nil || a == access {
                        for c in CampaignChannel.allCases where channel == nil || c == channel {
                            sum += self[day, d, b, a, c, metric]
                        }
                    }
                }
            }
        }
        return sum
    }

    public func total(_ metric: DistrictMetric) -> Int64 {
        (0..<days).reduce(0) { sum, day in districts.indices.reduce(sum) { $0 + self[day, $1, metric] } }
    }

    /// Stock at the end of the last day, all districts.
    public var finalStock: Int64 { districts.indices.reduce(0) { $0 + self[days - 1, $1, .stockEnd] } }

    public func people(access: Access? = nil) -> Int64 {
        var sum: Int64 = 0
        for d in districts.indices {
            for b in bands.indices {
                for a in Access.allCases where access == nil || a == access { sum += people(district: d, band: b, access: a) }
            }
        }
        return sum
    }

    /// Share of an access group's people given dose 1 by the end (nil for an empty group).
    public func coverage(_ access: Access) -> Double? {
        let n = people(access: access)
        guard n > 0 else { return nil }
        return Double(total(.vaccinationsDose1, access: access)) / Double(n)
    }

    /// The largest difference in dose-1 coverage between access groups, in percentage points.
    public var coverageGapPoints: Double {
        let values = Access.allCases.compactMap(coverage)
        guard let high = values.max(), let low = values.min() else { return 0 }
        return (high - low) * 100
    }

    /// Percentile `q` of the days from registration to dose 1 (registered people only).
    public func daysToVaccinationPercentile(_ q: Double) -> Int? {
        let count = daysToVaccination.reduce(0, +)
        guard count > 0 else { return nil }
        let target = max(1, Int64((q * Double(count)).rounded(.up)))
        var seen: Int64 = 0
        for (days, n) in daysToVaccination.enumerated() {
            seen += n
            if seen >= target { return days }
        }
        return daysToVaccination.count - 1
    }
}

extension Access {
    @inline(__always) var index: Int {
        switch self {
        case .smartphone: 0
        case .assisted: 1
        case .noAccess: 2
        }
    }
}

extension CampaignChannel {
    @inline(__always) var index: Int {
        switch self {
        case .portal: 0
        case .partnerApp: 1
        case .assisted: 2
        case .walkIn: 3
        }
    }
}
