import SlotAllocation

/// One district of a campaign in one replication: its own engine, people, centres and
/// stock. People book only in their own district, so districts are independent and run
/// on any thread; each draws from streams named by (process, district), so a district's
/// outcome depends only on (seed, replication, district).
///
/// People are counted, not stored, while they behave alike: per cohort, how many have not
/// registered, how many wait for a slot (by registration day), how many gave up. A person
/// becomes an engine record only to ask the engine for something — a booking, a walk-in
/// check-in — and records of people who leave empty-handed are reused, so memory follows
/// doses given, not population. Every capacity decision is the engine's.
struct DistrictSimulation {
    let campaign: CampaignConfiguration
    let policy: AllocationPolicy
    let config: DistrictConfiguration
    /// The district entry (metrics row) and the district's number among all copies (streams).
    let entry: Int
    let number: Int
    let seed: UInt64
    let replication: Int
    let clinic: ClinicSimulation?

    init(campaign: CampaignConfiguration, policy: AllocationPolicy, entry: Int, number: Int, seed: UInt64, replication: Int,
         clinic: ClinicSimulation?) {
        self.campaign = campaign
        self.policy = policy
        self.config = campaign.districts[entry]
        self.entry = entry
        self.number = number
        self.seed = seed
        self.replication = replication
        self.clinic = clinic
    }

    func run(into result: inout CampaignResult) throws(SimulationError) {
        var state = try State(self)
        try state.run(into: &result)
    }
}

/// Stream names of the campaign's processes; the district number is mixed in.
extension RandomStream {
    init(_ s: DistrictSimulation, _ process: UInt64) {
        self.init(seed: s.seed, replication: s.replication, stream: Name(process << 32 | UInt64(s.number)))
    }
}

extension DistrictSimulation {
    struct Center {
        var engineIndex: CenterIndex
        var vaccine: Int
        var capacity: Int
        var minAge: Int
        var maxAge: Int
        var area: Area
        var group: Int
    }

    struct CohortInfo {
        var band: Int
        var access: Access
        var area: Area
        var minAge: Int
        var maxAge: Int
        var wave: RegistrationWave?
    }

    struct Booking {
        var appointment: AppointmentID
        var session: UInt32
        var slot: Int
        var cohort: Int
        var channel: CampaignChannel
        /// Registration day for dose 1; the person for dose 2.
        var registrationDay: Int
        var dose2: Dose2Person?
    }

    struct Dose2Person {
        var id: BeneficiaryID
        var cohort: Int
        var channel: CampaignChannel
        var vaccine: Int
        var latestDay: Int
    }

    /// Arrival times over a centre's hours, by the walk-in hour profile.
    struct ArrivalProfile {
        var starts: [Double] = []
        var lengths: [Double] = []
        var cumulative: [Double] = []

        init(profile: [Double], open: Int, close: Int) {
            var total = 0.0
            for h in 0..<24 {
                let a = max(h * 3600, open), b = min((h + 1) * 3600, close)
                guard b > a, profile[h] > 0 else { continue }
                total += profile[h] * Double(b - a) / 3600
                starts.append(Double(a))
                lengths.append(Double(b - a))
                cumulative.append(total)
            }
            if starts.isEmpty {  // no weight in opening hours: uniform
                starts = [Double(open)]
                lengths = [Double(close - open)]
                cumulative = [1]
            }
        }

        func second(_ u: Double) -> Int {
            let x = u * cumulative[cumulative.count - 1]
            var i = 0
            while i < cumulative.count - 1, cumulative[i] < x { i += 1 }
            let before = i == 0 ? 0 : cumulative[i - 1]
            let within = (x - before) / max(cumulative[i] - before, 1e-300)
            return Int(starts[i] + within * lengths[i])
        }
    }
}
