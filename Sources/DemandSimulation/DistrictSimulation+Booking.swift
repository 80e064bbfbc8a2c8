import SlotAllocation

extension DistrictSimulation.State {
    typealias Booking = DistrictSimulation.Booking
    typealias Dose2Person = DistrictSimulation.Dose2Person

    /// Publishes the sessions up to day `today + leadDays` at today's release, as far as stock
    /// allows, then lets the waiting registrants scramble for every session still open to
    /// booking: with `leadDays` 0 today's (the scramble comes before the clinic day), else
    /// those of the next `leadDays` days (it comes after).
    mutating func releaseAndBook(_ today: Int, _ result: inout CampaignResult) throws(SimulationError) {
        let booking = model.campaign.booking
        let last = min(today + booking.leadDays, days - 1)
        while publishedThrough < last {
            try publish(max(today, publishedThrough + 1), today: today, &result)
            publishedThrough = max(today, publishedThrough + 1)
        }
        let first = booking.leadDays == 0 ? today : today + 1
        guard first <= last else { return }
        try scramble(first...last, at: today * 86_400 + booking.releaseSecond, &result)
    }

    /// Day 0's sessions when they are released the day before (leadDays ≥ 1): published at the
    /// start, open to walk-ins only, since no release came before the campaign.
    mutating func openingSessions(_ result: inout CampaignResult) throws(SimulationError) {
        guard model.campaign.booking.leadDays > 0, publishedThrough < 0 else { return }
        try publish(0, today: 0, &result)
        publishedThrough = 0
    }

    /// Capacity per vaccine is what the centres can give, cut down to the stock expected by
    /// the session's day (stock now, plus deliveries until then, minus capacity already published).
    mutating func publish(_ target: Int, today: Int, _ result: inout CampaignResult) throws(SimulationError) {
        for v in vaccines.indices {
            let full = centers.reduce(0) { $0 + ($1.vaccine == v ? $1.capacity : 0) }
            guard full > 0 else { continue }
            var expected = stock[v]
            if target > today {
                for day in (today + 1)...target {
                    for delivery in model.config.deliveries where vaccineIndex(delivery.vaccine) == v { expected += delivery.doses(on: day) }
                }
                for day in (today + 1)..<target { expected -= published[v][day] }
            }
            let scale = min(1, Double(max(0, expected)) / Double(full))
            var total = 0
            for (i, center) in centers.enumerated() where center.vaccine == v {
                let capacity = Int(Double(center.capacity) * scale)
                // A session smaller than the policy's fixed category counts cannot be split: not held.
                guard capacity > 0, capacity >= fixedCategoryUnits else { continue }
                let group = model.config.centers[center.group]
                let session: SessionIndex
                do {
                    session = try engine.addSession(SessionSpec(
                        center: center.engineIndex, day: target, vaccine: v, minAge: center.minAge, maxAge: group.maxAge,
                        slots: group.slots.map { SlotWindow(startSecondOfDay: $0.start, endSecondOfDay: $0.end) }, capacity: capacity))
                } catch {
                    throw .invalidModel("a session: \(error)")
                }
                precondition(Int(session.rawValue) == sessionCenter.count, "one session shard numbers sessions densely")
                sessionOf[target * centers.count + i] = session.rawValue
                sessionCenter.append(Int32(i))
                sessionDay.append(Int32(target))
                sessionCapacity.append(Int32(capacity))
                full1.append(0)
                full2.append(0)
                total += capacity
            }
            published[v][target] += total
            result[target, Self.row, .capacityPublished] += Int64(total)
        }
    }

    /// One class of people who try at the same release: a cohort, dose 1 or 2, human or bot.
    struct AttemptClass {
        var cohort: Int
        var dose2: Bool
        var bot: Bool
        var uniforms: SortedUniforms
    }

    mutating func scramble(_ bookable: ClosedRange<Int>, at release: Int, _ result: inout CampaignResult) throws(SimulationError) {
        let b = model.campaign.booking
        var open: [UInt32] = []
        for day in bookable {
            for i in centers.indices where sessionOf[day * centers.count + i] != .max { open.append(sessionOf[day * centers.count + i]) }
        }
        // Which sessions a band can use at all (age limits); the rest start marked full.
        var openCount = OpenCounts(bands: model.policy.ageBands.count, vaccines: vaccines.count)
        // One cohort per band carries the band's ages.
        var bandAges: [Int: (min: Int, max: Int)] = [:]
        for info in cohorts where bandAges[info.band] == nil { bandAges[info.band] = (info.minAge, info.maxAge) }
        for s in open {
            full1[Int(s)] = 0
            full2[Int(s)] = 0
            let center = centers[Int(sessionCenter[Int(s)])]
            for (band, ages) in bandAges {
                if ages.min <= center.maxAge && ages.max >= center.minAge {
                    openCount.add(1, band: band, area: center.area, vaccine: center.vaccine, dose2: false)
                    openCount.add(1, band: band, area: center.area, vaccine: center.vaccine, dose2: true)
                } else {
                    full1[Int(s)] |= 1 << UInt64(band)
                    full2[Int(s)] |= 1 << UInt64(band)
                }
            }
        }
        var classes: [AttemptClass] = []
        for c in cohorts.indices where cohorts[c].access != .noAccess {
            let p = b.attemptProbability[cohorts[c].access]
            let attempters = behaviour.binomial(waitingTotal[c], p)
            let bots = cohorts[c].access == .smartphone ? behaviour.binomial(attempters, b.botShare) : 0
            if attempters - bots > 0 { classes.append(AttemptClass(cohort: c, dose2: false, bot: false, uniforms: SortedUniforms(count: attempters - bots))) }
            if bots > 0 { classes.append(AttemptClass(cohort: c, dose2: false, bot: true, uniforms: SortedUniforms(count: bots))) }
            let again = behaviour.binomial(dose2Waiting[c].count, p)
            if again > 0 { classes.append(AttemptClass(cohort: c, dose2: true, bot: false, uniforms: SortedUniforms(count: again))) }
        }
        guard !classes.isEmpty else { return }
        let tries = Int64(1 + b.retriesPerDay)
        guard !open.isEmpty else {
            // Nothing published that could be booked: every attempt fails.
            for cls in classes {
                let n = Int64(cls.uniforms.remaining) * (b.mechanism == .firstComeFirstServed ? tries : 1)
                countAttempts(release / 86_400, cls.cohort, n, failed: n, &result)
                result.addRefusal("nothing_left_to_book", n)
            }
            return
        }
        let human = Quantiles(b.reactionSeconds), bot = Quantiles(b.botReactionSeconds)
        if b.mechanism != .firstComeFirstServed {
            try batch(classes, open: open, openCount: openCount, release: release, human: human, bot: bot, &result)
            return
        }
        var agenda = EventQueue<Int32>()
        for k in classes.indices {
            let u = classes[k].uniforms.next(&behaviour)!
            agenda.schedule(Int32(k), at: release + Int((classes[k].bot ? bot : human)(u)))
        }
        while let (now, k) = agenda.next() {
            let cls = classes[Int(k)]
            let c = cls.cohort, info = cohorts[c]
            let day = now / 86_400
            if openCount.none(band: info.band, area: areaKey(c), vaccine: nil, dose2: cls.dose2) {
                // Nothing left this person's band could book: the rest of the class tries in vain.
                let rest = Int64(cls.uniforms.remaining + 1) * tries
                countAttempts(day, c, rest, failed: rest, &result)
                result.addRefusal("nothing_left_to_book", rest)
                continue
            }
            if cls.dose2 {
                try attemptDose2(c, open: open, at: now, &openCount, &result)
            } else {
                try attemptDose1(c, at: now, bookable: bookable, &openCount, &result)
            }
            if let u = classes[Int(k)].uniforms.next(&behaviour) {
                agenda.schedule(k, at: max(now, release + Int((cls.bot ? bot : human)(u))))
            }
        }
    }

    /// Counts attempts of cohort `c` on `day`: smartphone attempts split between the portal and
    /// partner apps by the cohort's share, or all on `channel` when it is known (dose 2).
    mutating func countAttempts(_ day: Int, _ c: Int, _ attempts: Int64, failed: Int64, channel: CampaignChannel? = nil,
                                _ result: inout CampaignResult) {
        let info = cohorts[c]
        let d = min(day, days - 1)
        var split: [(CampaignChannel, Int64, Int64)]
        if let channel {
            split = [(channel, attempts, failed)]
        } else if info.access == .assisted {
            split = [(.assisted, attempts, failed)]
        } else {
            let share = info.wave?.partnerAppShare ?? 0
            let appAttempts = Int64(behaviour.binomial(Int(attempts), share))
            let appFailed = min(failed, Int64(behaviour.binomial(Int(failed), share)))
            split = [(.portal, attempts - appAttempts, failed - appFailed), (.partnerApp, appAttempts, appFailed)]
        }
        for (channel, a, f) in split {
            result[d, Self.row, info.band, info.access, channel, .bookingAttempts] += a
            result[d, Self.row, info.band, info.access, channel, .failedAttempts] += f
        }
    }

    /// Where cohort `c` books: its own area's centres, or every centre if its area has none.
    func areaKey(_ c: Int) -> Area? {
        centersByArea[cohorts[c].area == .urban ? 0 : 1].isEmpty ? nil : cohorts[c].area
    }

    /// The sessions a person of cohort `c` would take, most preferred first: the earliest day,
    /// then the nearest centre (centres of their area, in order, around a random home centre).
    mutating func preferences(_ c: Int, days bookable: ClosedRange<Int>, vaccine: Int?, dose2: Bool, limit: Int) -> [UInt32] {
        let info = cohorts[c]
        let b = model.campaign.booking
        let local = centersByArea[info.area == .urban ? 0 : 1].isEmpty ? allCenters : centersByArea[info.area == .urban ? 0 : 1]
        let reach = min(local.count, info.area == .urban ? b.travelCenters : b.ruralTravelCenters)
        let home = Int(behaviour.next(upperBound: UInt64(local.count)))
        var list: [UInt32] = []
        let bit: UInt64 = 1 << UInt64(info.band)
        for day in bookable {
            for j in 0..<reach {
                let step = (j + 1) / 2
                let offset = j % 2 == 1 ? step : -step
                let i = local[((home + offset) % local.count + local.count) % local.count]
                let s = sessionOf[day * centers.count + i]
                guard s != .max, (dose2 ? full2 : full1)[Int(s)] & bit == 0 else { continue }
                if let vaccine, centers[i].vaccine != vaccine { continue }
                list.append(s)
                if list.count == limit { return list }
            }
        }
        return list
    }

    /// Marks session `s` closed to `band` for `dose` in this scramble (refusals that hold for everybody in the band).
    mutating func markFull(_ s: UInt32, band: Int, dose2: Bool, _ openCount: inout OpenCounts) {
        let bit: UInt64 = 1 << UInt64(band)
        if dose2 {
            guard full2[Int(s)] & bit == 0 else { return }
            full2[Int(s)] |= bit
        } else {
            guard full1[Int(s)] & bit == 0 else { return }
            full1[Int(s)] |= bit
        }
        let center = centers[Int(sessionCenter[Int(s)])]
        openCount.add(-1, band: band, area: center.area, vaccine: center.vaccine, dose2: dose2)
    }

    static func closesSession(_ refusal: BookingRefusal) -> Bool {
        switch refusal {
        case .categoryFull, .sessionFull, .bookingClosed, .bandNotOpen: true
        default: false
        }
    }

    mutating func attemptDose1(_ c: Int, at now: Int, bookable: ClosedRange<Int>, _ openCount: inout OpenCounts,
                               _ result: inout CampaignResult) throws(SimulationError) {
        let info = cohorts[c]
        let day = now / 86_400
        let registered = takeWaiting(c, .behaviour)
        let id = try person(c, .behaviour)
        var asked = false  // whether any session within reach was tried
        for s in preferences(c, days: bookable, vaccine: nil, dose2: false, limit: .max) {
            if (full1[Int(s)] >> UInt64(info.band)) & 1 == 1 { continue }
            asked = true
            let slot = randomSlot(s)
            switch engine.book(id, session: SessionIndex(rawValue: s), slot: slot, dose: .one, now: now) {
            case .success(let appointment):
                let channel = onlineChannel(c, .behaviour)
                let d = min(day, days - 1)
                result[d, Self.row, info.band, info.access, channel, .bookingAttempts] += 1
                result[d, Self.row, info.band, info.access, channel, .bookings] += 1
                bookingsByDay[Int(sessionDay[Int(s)])].append(Booking(
                    appointment: appointment.id, session: s, slot: slot, cohort: c, channel: channel, registrationDay: registered, dose2: nil))
                return
            case .failure(let refusal):
                result.addRefusal(refusal.code)
                if Self.closesSession(refusal) { markFull(s, band: info.band, dose2: false, &openCount) }
            }
        }
        waiting[c][registered] += 1
        waitingTotal[c] += 1
        spare[c].append(id)
        let tries = Int64(1 + model.campaign.booking.retriesPerDay)
        if !asked { result.addRefusal("nothing_within_reach", tries) }
        countAttempts(day, c, tries, failed: tries, &result)
    }

    mutating func attemptDose2(_ c: Int, open: [UInt32], at now: Int, _ openCount: inout OpenCounts, _ result: inout CampaignResult) throws(SimulationError) {
        let info = cohorts[c]
        let day = now / 86_400
        let n = Int(behaviour.next(upperBound: UInt64(dose2Waiting[c].count)))
        let p = dose2Waiting[c][n]
        let bookable = Int(sessionDay[Int(open[0])])...Int(sessionDay[Int(open[open.count - 1])])
        let reachable = !openCount.none(band: info.band, area: areaKey(c), vaccine: p.vaccine, dose2: true)
        for s in reachable ? preferences(c, days: bookable, vaccine: p.vaccine, dose2: true, limit: .max) : [] {
            if (full2[Int(s)] >> UInt64(info.band)) & 1 == 1 { continue }
            let slot = randomSlot(s)
            switch engine.book(p.id, session: SessionIndex(rawValue: s), slot: slot, dose: .two, now: now) {
            case .success(let appointment):
                let d = min(day, days - 1)
                result[d, Self.row, info.band, info.access, p.channel, .bookingAttempts] += 1
                result[d, Self.row, info.band, info.access, p.channel, .bookings] += 1
                bookingsByDay[Int(sessionDay[Int(s)])].append(Booking(
                    appointment: appointment.id, session: s, slot: slot, cohort: c, channel: p.channel, registrationDay: -1, dose2: p))
                dose2Waiting[c].swapAt(n, dose2Waiting[c].count - 1)
                dose2Waiting[c].removeLast()
                return
            case .failure(let refusal):
                result.addRefusal(refusal.code)
                if Self.closesSession(refusal) { markFull(s, band: info.band, dose2: true, &openCount) }
            }
        }
        let tries = Int64(1 + model.campaign.booking.retriesPerDay)
        countAttempts(day, c, tries, failed: tries, channel: p.channel, &result)
    }

    /// A random slot window that every one of `sessions` has (a batch request names one window for all).
    mutating func commonSlot(_ sessions: [UInt32]) -> Int {
        let windows = sessions.map { model.config.centers[centers[Int(sessionCenter[Int($0)])].group].slots.count }.min() ?? 1
        return below(windows, .behaviour)
    }

    mutating func randomSlot(_ s: UInt32) -> Int {
        let group = model.config.centers[centers[Int(sessionCenter[Int(s)])].group]
        return Int(behaviour.next(upperBound: UInt64(group.slots.count)))
    }

    /// A batch mechanism: every attempter applies with their ranked sessions; the engine
    /// allocates once, at release.
    mutating func batch(_ classes: [AttemptClass], open: [UInt32], openCount: OpenCounts, release: Int, human: Quantiles, bot: Quantiles,
                        _ result: inout CampaignResult) throws(SimulationError) {
        let b = model.campaign.booking
        let applicants = classes.reduce(0) { $0 + $1.uniforms.remaining }
        guard applicants <= b.batchApplicantsMax else {
            throw .batchTooLarge(district: model.config.name, day: release / 86_400, applicants: applicants, limit: b.batchApplicantsMax)
        }
        let bookable = Int(sessionDay[Int(open[0])])...Int(sessionDay[Int(open[open.count - 1])])
        var requests: [BatchBookingRequest] = []
        requests.reserveCapacity(applicants)
        // Who each request is: cohort, registration day (dose 1) or the dose-2 person's index.
        var who: [(cohort: Int, registered: Int, dose2Index: Int)] = []
        var chosen = [Int](repeating: 0, count: cohorts.count)  // dose-2 people drawn so far per cohort (a prefix after swaps)
        for var cls in classes {
            let c = cls.cohort
            while let u = cls.uniforms.next(&behaviour) {
                let time = release + Int((cls.bot ? bot : human)(u))
                if cls.dose2 {
                    let k = chosen[c] + Int(behaviour.next(upperBound: UInt64(dose2Waiting[c].count - chosen[c])))
                    dose2Waiting[c].swapAt(chosen[c], k)
                    let p = dose2Waiting[c][chosen[c]]
                    let ranked = preferences(c, days: bookable, vaccine: p.vaccine, dose2: true, limit: 32)
                    requests.append(BatchBookingRequest(beneficiary: p.id, dose: .two, preferences: ranked.map(SessionIndex.init),
                                                        slot: commonSlot(ranked), requestTime: time))
                    who.append((c, -1, chosen[c]))
                    chosen[c] += 1
                } else {
                    let registered = takeWaiting(c, .behaviour)
                    let id = try person(c, .behaviour)
                    let ranked = preferences(c, days: bookable, vaccine: nil, dose2: false, limit: 32)
                    requests.append(BatchBookingRequest(beneficiary: id, dose: .one, preferences: ranked.map(SessionIndex.init),
                                                        slot: commonSlot(ranked), requestTime: time, registrationTime: registered * 86_400))
                    who.append((c, registered, -1))
                }
            }
        }
        let mechanism: BatchMechanism = switch b.mechanism {
        case .firstComeFirstServed: .firstComeFirstServed
        case .priority: .priority
        case .lottery: .lottery(seed: behaviour.next())
        case .deferredAcceptance: .deferredAcceptance(lotterySeed: behaviour.next())
        }
        let outcomes = engine.allocateBatch(requests, mechanism: mechanism, now: release)
        let day = min(release / 86_400, days - 1)
        var booked2 = [[Int]](repeating: [], count: cohorts.count)
        for (r, outcome) in outcomes.enumerated() {
            let (c, registered, index) = who[r]
            let info = cohorts[c]
            switch outcome {
            case .success(let appointment):
                let s = appointment.session.rawValue
                let channel = index >= 0 ? dose2Waiting[c][index].channel : onlineChannel(c, .behaviour)
                result[day, Self.row, info.band, info.access, channel, .bookingAttempts] += 1
                result[day, Self.row, info.band, info.access, channel, .bookings] += 1
                bookingsByDay[Int(sessionDay[Int(s)])].append(Booking(
                    appointment: appointment.id, session: s, slot: appointment.slot, cohort: c, channel: channel, registrationDay: registered,
                    dose2: index >= 0 ? dose2Waiting[c][index] : nil))
                if index >= 0 { booked2[c].append(index) }
            case .failure(let refusal):
                result.addRefusal(refusal.code)
                countAttempts(day, c, 1, failed: 1, channel: index >= 0 ? dose2Waiting[c][index].channel : nil, &result)
                if index < 0 {
                    waiting[c][registered] += 1
                    waitingTotal[c] += 1
                    spare[c].append(requests[r].beneficiary)
                }
            }
        }
        for c in cohorts.indices {
            for index in booked2[c].sorted(by: >) {
                dose2Waiting[c].swapAt(index, dose2Waiting[c].count - 1)
                dose2Waiting[c].removeLast()
            }
        }
    }
}

/// A distribution's inverse, with an empirical sample sorted once.
struct Quantiles {
    let distribution: Distribution
    let sorted: [Double]

    init(_ distribution: Distribution) {
        self.distribution = distribution
        if case let .empirical(values) = distribution { sorted = values.sorted() } else { sorted = [] }
    }

    func callAsFunction(_ p: Double) -> Double {
        if !sorted.isEmpty { return sorted[min(Int(p * Double(sorted.count)), sorted.count - 1)] }
        return distribution.quantile(p)
    }
}

/// Sessions still open in a scramble, per dose, band, area (urban, rural, or any) and vaccine
/// (or any): when none is left for a class of attempters, the rest of the class fails in
/// aggregate instead of one by one.
struct OpenCounts {
    let bands: Int
    let vaccines: Int
    var counts: [Int]

    init(bands: Int, vaccines: Int) {
        self.bands = bands
        self.vaccines = vaccines
        counts = [Int](repeating: 0, count: 2 * bands * 3 * (vaccines + 1))
    }

    func index(_ dose2: Bool, _ band: Int, _ area: Int, _ vaccine: Int) -> Int {
        (((dose2 ? 1 : 0) * bands + band) * 3 + area) * (vaccines + 1) + vaccine
    }

    /// A session at a centre of `area` with `vaccine` opens (1) or closes (−1) for (band, dose).
    mutating func add(_ n: Int, band: Int, area: Area, vaccine: Int, dose2: Bool) {
        for a in [area == .urban ? 0 : 1, 2] {
            counts[index(dose2, band, a, vaccines)] += n
            if dose2 { counts[index(dose2, band, a, vaccine)] += n }
        }
    }

    /// Whether nothing is open for (band, dose) in `area` (nil: any area) with `vaccine` (nil: any).
    func none(band: Int, area: Area?, vaccine: Int?, dose2: Bool) -> Bool {
        let a = area.map { $0 == .urban ? 0 : 1 } ?? 2
        return counts[index(dose2, band, a, dose2 ? (vaccine ?? vaccines) : vaccines)] <= 0
    }
}
