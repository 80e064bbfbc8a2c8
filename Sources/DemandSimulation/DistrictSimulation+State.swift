import SlotAllocation

extension DistrictSimulation {
    /// The district's evolving state. Day by day: deliveries, registrations, the clinic day
    /// (appointments, no-shows, walk-ins, vials), then the release of new sessions and the
    /// booking scramble (before the clinic day when sessions are released for the same day).
    struct State {
        /// A district's result has one district row; the campaign adds it into its entry's row.
        static let row = 0
        let model: DistrictSimulation
        let engine: BookingEngine
        let days: Int
        let centers: [Center]
        let cohorts: [CohortInfo]
        let profiles: [ArrivalProfile]
        let vaccines: [Vaccine]
        /// Centre numbers by area (urban, rural), and all of them.
        let centersByArea: [[Int]]
        let allCenters: [Int]
        /// First day each policy band may walk in.
        let walkInDay: [Int]
        /// Sessions by day and centre (`UInt32.max`: none); with one session shard a session's id is its number.
        var sessionOf: [UInt32]
        var sessionCenter: [Int32] = []
        var sessionDay: [Int32] = []
        var sessionCapacity: [Int32] = []
        /// Sessions known to be closed to a band for dose 1 / dose 2 in this scramble (bit per band).
        var full1: [UInt64] = []
        var full2: [UInt64] = []

        // People, per cohort.
        var neverRegistering: [Int]
        var notYetRegistered: [Int]
        var registeredSoFar: [Int]
        var eventual: [Int]
        var waiting: [[Int]]
        var waitingTotal: [Int]
        var gaveUp: [Int]
        var turnedAwayYesterday: [Int]
        var turnedAwayToday: [Int]
        var spare: [[BeneficiaryID]]
        var dose2Waiting: [[Dose2Person]]
        var dose2Due: [[Dose2Person]]
        var bookingsByDay: [[Booking]]
        var stock: [Int]
        /// Published capacity, per vaccine and day; sessions are published through this day.
        var published: [[Int]]
        var publishedThrough = -1
        /// Units the policy's fixed-count categories need in every session.
        let fixedCategoryUnits: Int

        var registration: RandomStream
        var behaviour: RandomStream
        var attendance: RandomStream
        var arrivals: RandomStream

        init(_ model: DistrictSimulation) throws(SimulationError) {
            self.model = model
            let campaign = model.campaign, policy = model.policy
            days = campaign.days
            vaccines = policy.vaccines
            do {
                engine = try BookingEngine(policy: policy, configuration: BookingEngineConfiguration(
                    horizonDays: days + campaign.booking.leadDays + 1, sessionShards: 1, beneficiaryShards: 1,
                    idempotencyEntriesPerShard: 0))
            } catch {
                throw .invalidModel("the policy: \(error)")
            }
            var centers: [Center] = []
            var profiles: [ArrivalProfile] = []
            for (g, group) in model.config.centers.enumerated() {
                let vaccine = policy.vaccines.firstIndex { $0.name.lowercased() == group.vaccine.lowercased() }!
                profiles.append(ArrivalProfile(profile: campaign.walkIns.hourProfile, open: group.slots[0].start,
                                               close: group.slots[group.slots.count - 1].end))
                for _ in 0..<group.count {
                    let index: CenterIndex
                    do {
                        index = try engine.addCenter(CenterSpec(externalID: centers.count, name: "\(model.config.name) #\(centers.count)",
                                                                district: 0))
                    } catch {
                        throw .invalidModel("a centre: \(error)")
                    }
                    centers.append(Center(engineIndex: index, vaccine: vaccine, capacity: group.capacityPerDay, minAge: group.minAge,
                                          maxAge: group.maxAge ?? ageMax, area: group.area, group: g))
                }
            }
            self.centers = centers
            self.profiles = profiles
            centersByArea = [centers.indices.filter { centers[$0].area == .urban }, centers.indices.filter { centers[$0].area == .rural }]
            allCenters = Array(centers.indices)
            walkInDay = policy.ageBands.map { band in
                policy.phases.filter { $0.ageBand == band.name }.map { $0.walkInOpenDay ?? $0.openDay }.min() ?? .max
            }
            cohorts = model.config.cohorts.map { cohort in
                let band = policy.ageBands.firstIndex { $0.name == cohort.ageBand }!
                let bounds = policy.ageBands[band]
                return CohortInfo(band: band, access: cohort.access, area: cohort.area, minAge: bounds.minAge,
                                  maxAge: bounds.maxAge ?? max(bounds.minAge, 100), wave: campaign.registration.first { $0.ageBand == cohort.ageBand })
            }
            let n = cohorts.count
            sessionOf = [UInt32](repeating: .max, count: (days + campaign.booking.leadDays + 1) * centers.count)
            registration = RandomStream(model, 1)
            behaviour = RandomStream(model, 2)
            attendance = RandomStream(model, 3)
            arrivals = RandomStream(model, 4)
            eventual = []
            neverRegistering = []
            for (c, cohort) in model.config.cohorts.enumerated() {
                let share = cohorts[c].access == .noAccess || cohorts[c].wave == nil ? 0 : cohorts[c].wave!.eventualShare[cohort.access]
                let e = registration.binomial(cohort.people, share)
                eventual.append(e)
                neverRegistering.append(cohort.people - e)
            }
            notYetRegistered = eventual
            registeredSoFar = [Int](repeating: 0, count: n)
            waiting = [[Int]](repeating: [Int](repeating: 0, count: days), count: n)
            waitingTotal = [Int](repeating: 0, count: n)
            gaveUp = [Int](repeating: 0, count: n)
            turnedAwayYesterday = [Int](repeating: 0, count: n)
            turnedAwayToday = [Int](repeating: 0, count: n)
            spare = [[BeneficiaryID]](repeating: [], count: n)
            dose2Waiting = [[Dose2Person]](repeating: [], count: n)
            dose2Due = [[Dose2Person]](repeating: [], count: days)
            bookingsByDay = [[Booking]](repeating: [], count: days + campaign.booking.leadDays + 1)
            stock = [Int](repeating: 0, count: policy.vaccines.count)
            fixedCategoryUnits = policy.categories.reduce(0) { $0 + ($1.count ?? 0) }
            published = [[Int]](repeating: [Int](repeating: 0, count: days + campaign.booking.leadDays + 1), count: policy.vaccines.count)
        }

        mutating func run(into result: inout CampaignResult) throws(SimulationError) {
            let entry = Self.row
            for (c, cohort) in model.config.cohorts.enumerated() {
                result.addPeople(cohort.people, district: entry, band: cohorts[c].band, access: cohorts[c].access)
            }
            let booking = model.campaign.booking
            for day in 0..<days {
                deliver(day, &result)
                if day == 0 { try openingSessions(&result) }
                register(day, &result)
                startDose2Windows(day, &result)
                if booking.leadDays == 0 { try releaseAndBook(day, &result) }
                try clinicDay(day, &result)
                if booking.leadDays > 0 { try releaseAndBook(day, &result) }
                endDay(day, &result)
            }
        }

        // MARK: Supply and registration

        mutating func deliver(_ day: Int, _ result: inout CampaignResult) {
            for delivery in model.config.deliveries {
                let v = vaccineIndex(delivery.vaccine)
                let doses = delivery.doses(on: day)
                stock[v] += doses
                result[day, Self.row, .dosesDelivered] += Int64(doses)
            }
        }

        func vaccineIndex(_ name: String) -> Int { vaccines.firstIndex { $0.name.lowercased() == name.lowercased() }! }

        mutating func register(_ day: Int, _ result: inout CampaignResult) {
            for c in cohorts.indices {
                guard let wave = cohorts[c].wave, notYetRegistered[c] > 0 else { continue }
                let k = day - wave.openDay
                guard k >= 0 else { continue }
                var before = 0.0
                for j in 0..<k { before += wave.weight(day: j) }
                let left = 1 - before, w = wave.weight(day: k)
                guard w > 0, left > 1e-12 else { continue }
                let n = registration.binomial(notYetRegistered[c], min(1, w / left))
                guard n > 0 else { continue }
                notYetRegistered[c] -= n
                registeredSoFar[c] += n
                waiting[c][day] += n
                waitingTotal[c] += n
                let band = cohorts[c].band, access = cohorts[c].access
                if access == .assisted {
                    result[day, Self.row, band, access, .assisted, .registrations] += Int64(n)
                } else {
                    let app = registration.binomial(n, wave.partnerAppShare)
                    result[day, Self.row, band, access, .partnerApp, .registrations] += Int64(app)
                    result[day, Self.row, band, access, .portal, .registrations] += Int64(n - app)
                }
            }
        }

        mutating func onlineChannel(_ c: Int, _ process: Process) -> CampaignChannel {
            if cohorts[c].access == .assisted { return .assisted }
            return uniform(process) < (cohorts[c].wave?.partnerAppShare ?? 0) ? .partnerApp : .portal
        }

        /// The processes that draw for people; a helper that draws names the process's stream.
        enum Process { case behaviour, attendance, arrivals }

        mutating func uniform(_ process: Process) -> Double {
            switch process {
            case .behaviour: behaviour.uniform()
            case .attendance: attendance.uniform()
            case .arrivals: arrivals.uniform()
            }
        }

        mutating func below(_ bound: Int, _ process: Process) -> Int {
            switch process {
            case .behaviour: Int(behaviour.next(upperBound: UInt64(bound)))
            case .attendance: Int(attendance.next(upperBound: UInt64(bound)))
            case .arrivals: Int(arrivals.next(upperBound: UInt64(bound)))
            }
        }

        mutating func startDose2Windows(_ day: Int, _ result: inout CampaignResult) {
            for person in dose2Due[day] { dose2Waiting[person.cohort].append(person) }
            dose2Due[day] = []
            for c in cohorts.indices {
                let before = dose2Waiting[c].count
                dose2Waiting[c].removeAll { $0.latestDay < day }
                result.addDose2WindowMissed(before - dose2Waiting[c].count)
            }
        }

        mutating func endDay(_ day: Int, _ result: inout CampaignResult) {
            // Registrants who have tried for `giveUpAfterDays` days stop trying online.
            let last = day - model.campaign.booking.giveUpAfterDays + 1
            if last >= 0 {
                for c in cohorts.indices where waiting[c][last] > 0 {
                    gaveUp[c] += waiting[c][last]
                    waitingTotal[c] -= waiting[c][last]
                    waiting[c][last] = 0
                }
            }
            turnedAwayYesterday = turnedAwayToday
            turnedAwayToday = [Int](repeating: 0, count: cohorts.count)
            for v in stock.indices { result[day, Self.row, .stockEnd] += Int64(stock[v]) }
        }

        // MARK: People as engine records

        /// An engine record for a person of cohort `c` with no live appointment and no dose.
        mutating func person(_ c: Int, _ process: Process) throws(SimulationError) -> BeneficiaryID {
            if let id = spare[c].popLast() { return id }
            let age = cohorts[c].minAge + below(cohorts[c].maxAge - cohorts[c].minAge + 1, process)
            do {
                return try engine.registerBeneficiary(BeneficiarySpec(birthYear: model.policy.ageReferenceYear - age))
            } catch {
                throw .invalidModel("registering a person: \(error)")
            }
        }

        /// Takes one waiting registrant of cohort `c` out of the pool; returns their registration day.
        mutating func takeWaiting(_ c: Int, _ process: Process) -> Int {
            var r = below(waitingTotal[c], process)
            var day = 0
            while r >= waiting[c][day] {
                r -= waiting[c][day]
                day += 1
            }
            waiting[c][day] -= 1
            waitingTotal[c] -= 1
            return day
        }
    }
}
