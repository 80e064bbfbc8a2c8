import SlotAllocation

extension DistrictSimulation.State {
    enum CenterEvent: Sendable {
        case appointment(Int32)
        case noShow(Int32)
        case walkIn(source: Int32)
    }

    /// Walk-ins of one cohort at one centre (dose 1, drawn from the cohort's counts) and the
    /// dose-2 people of that cohort who walk in there, arriving in time order.
    struct WalkInSource {
        var center: Int
        var cohort: Int
        var uniforms: SortedUniforms
        var dose2People: [Dose2Person]
    }

    /// A centre's day: its session, open vial, and when walk-ins of a (band, dose) are refused
    /// without asking the engine (nothing can change its answer before then).
    struct CenterDay {
        var session: UInt32
        var midnight: Int
        var open: Int
        var close: Int
        var vialLeft = 0
        var vialExpiresAt = 0
        var pendingNoShows = 0
        var closedUntil: [Int]
        var closedCode: [String]
        var noStock = false
        var arrivals: [Int] = []
    }

    /// The district's clinic day: every centre's appointments arrive (or do not), walk-ins come
    /// by the hour profile, the engine admits or refuses each, and a dose is given only from
    /// an open vial or the district's stock — all centres on one agenda, in time order, so
    /// that stock runs out for whoever comes late, not for whichever centre is numbered last.
    mutating func clinicDay(_ day: Int, _ result: inout CampaignResult) throws(SimulationError) {
        let midnight = day * 86_400
        let bands = model.policy.ageBands.count
        var dayOf: [Int: Int] = [:]  // centre → index into `centerDays`
        var centerDays: [CenterDay] = []
        for i in centers.indices where sessionOf[day * centers.count + i] != .max {
            let group = model.config.centers[centers[i].group]
            dayOf[i] = centerDays.count
            centerDays.append(CenterDay(session: sessionOf[day * centers.count + i], midnight: midnight, open: group.slots[0].start,
                                        close: group.slots[group.slots.count - 1].end,
                                        closedUntil: [Int](repeating: 0, count: 2 * bands), closedCode: [String](repeating: "", count: 2 * bands)))
        }
        var agenda = EventQueue<CenterEvent>()
        // Appointments, all scheduled up front (the sessions' capacities bound them).
        let bookings = bookingsByDay[day]
        bookingsByDay[day] = []
        let rules = model.campaign.attendance
        for (k, booking) in bookings.enumerated() {
            let i = Int(sessionCenter[Int(booking.session)])
            guard let d = dayOf[i], centerDays[d].session == booking.session else {
                throw .invalidModel("a booking for a session that is not today's")
            }
            let window = model.config.centers[centers[i].group].slots[booking.slot]
            if attendance.chance(rules.noShowProbability[cohorts[booking.cohort].access]) {
                agenda.schedule(.noShow(Int32(k)), at: midnight + window.end - 1)
                centerDays[d].pendingNoShows += 1
            } else {
                let offset = rules.punctualityMeanSeconds + rules.punctualityStandardDeviationSeconds * attendance.standardNormal()
                let at = min(max(window.start + Int(offset.rounded()), centerDays[d].open), centerDays[d].close - 1)
                agenda.schedule(.appointment(Int32(k)), at: midnight + at)
            }
        }
        // Walk-ins, generated lazily: one pending arrival per (centre, cohort) source.
        var sources = walkInSources(day, &result)
        for k in sources.indices {
            if let u = sources[k].uniforms.next(&arrivals) {
                agenda.schedule(.walkIn(source: Int32(k)), at: midnight + profiles[centers[sources[k].center].group].second(u))
            }
        }
        let fillAt = model.policy.endOfDayFillSecondOfDay.map { midnight + $0 } ?? .max
        while let (now, event) = agenda.next() {
            switch event {
            case let .appointment(k):
                let booking = bookings[Int(k)]
                let i = Int(sessionCenter[Int(booking.session)]), d = dayOf[i]!
                guard takeDose(&centerDays[d], vaccine: centers[i].vaccine, now, day, &result) else {
                    _ = engine.cancel(booking.appointment, now: now)
                    backToPool(booking, day, &result, metric: .turnedAwayNoStock)
                    continue
                }
                guard case .success = engine.recordVaccination(booking.appointment, now: now) else {
                    throw .invalidModel("recording a booked vaccination")
                }
                if model.clinic != nil, i == 0 { centerDays[d].arrivals.append(now - midnight) }
                vaccinated(booking.cohort, dose2: booking.dose2, channel: booking.channel, registered: booking.registrationDay,
                           id: booking.appointment.beneficiary, vaccine: centers[i].vaccine, day, &result)
            case let .noShow(k):
                let booking = bookings[Int(k)]
                let d = dayOf[Int(sessionCenter[Int(booking.session)])]!
                centerDays[d].pendingNoShows -= 1
                guard case .success = engine.markNoShow(booking.appointment, now: now) else { throw .invalidModel("marking a no-show") }
                backToPool(booking, day, &result, metric: .noShows)
                // A freed unit may take a walk-in again.
                for j in centerDays[d].closedUntil.indices { centerDays[d].closedUntil[j] = 0 }
            case let .walkIn(k):
                try walkIn(Int(k), &sources, &centerDays[dayOf[sources[Int(k)].center]!], now: now, fillAt: fillAt, day, &result)
                guard let u = sources[Int(k)].uniforms.next(&arrivals) else { continue }
                agenda.schedule(.walkIn(source: k), at: max(now, midnight + profiles[centers[sources[Int(k)].center].group].second(u)))
            }
        }
        for (i, d) in dayOf.sorted(by: { $0.key < $1.key }) {
            // What is left in an opened vial at closing is wasted.
            result[day, Self.row, .dosesWasted] += Int64(centerDays[d].vialLeft)
            centerDays[d].vialLeft = 0
            if let clinic = model.clinic, i == 0, !centerDays[d].arrivals.isEmpty {
                let key = (model.replication << 32) | (model.number << 12) | day
                let (waits, time) = try clinic.runDay(arrivalSeconds: centerDays[d].arrivals, seed: model.seed, replication: key)
                result.addClinic(waits: waits, timeInClinic: time)
            }
        }
    }

    /// The day's walk-in sources: per cohort, how many walk in (a binomial of the people
    /// without a dose or an appointment, plus some turned away yesterday), spread evenly over
    /// the centres of their area with a session for their ages; and the people due for dose 2
    /// who walk in, each to a centre with their dose-1 vaccine.
    mutating func walkInSources(_ day: Int, _ walkInResult: inout CampaignResult) -> [WalkInSource] {
        let w = model.campaign.walkIns
        var sources: [WalkInSource] = []
        for c in cohorts.indices {
            let info = cohorts[c]
            let targets = centersToday(day, for: info)
            var byCenter: [Int: (count: Int, dose2: [Dose2Person])] = [:]
            if walkInDay[info.band] <= day {
                let pool = neverRegistering[c] + notYetRegistered[c] + waitingTotal[c] + gaveUp[c]
                var count = arrivals.binomial(pool, w.dailyProbability[info.access])
                count = min(pool, count + arrivals.binomial(min(turnedAwayYesterday[c], pool), w.returnProbability))
                if targets.isEmpty {
                    // No centre holds a session for them today: they find it closed.
                    turnAway(day, c, Int64(count), code: "no_session_today", &walkInResult)
                } else {
                    for (k, n) in arrivals.multinomial(count, [Double](repeating: 1, count: targets.count)).enumerated() where n > 0 {
                        byCenter[targets[k], default: (0, [])].count += n
                    }
                }
            }
            if walkInDay[info.band] <= day, !dose2Waiting[c].isEmpty {
                var kept: [Dose2Person] = []
                for person in dose2Waiting[c] {
                    let own = targets.filter { centers[$0].vaccine == person.vaccine }
                    guard !own.isEmpty, arrivals.chance(w.dose2DailyProbability) else {
                        kept.append(person)
                        continue
                    }
                    byCenter[own[below(own.count, .arrivals)], default: (0, [])].dose2.append(person)
                }
                dose2Waiting[c] = kept
            }
            for (i, entry) in byCenter.sorted(by: { $0.key < $1.key }) {
                sources.append(WalkInSource(center: i, cohort: c, uniforms: SortedUniforms(count: entry.count + entry.dose2.count),
                                            dose2People: entry.dose2))
            }
        }
        return sources
    }

    func centersToday(_ day: Int, for info: DistrictSimulation.CohortInfo) -> [Int] {
        let local = centersByArea[info.area == .urban ? 0 : 1]
        let fits = { (i: Int) in self.sessionOf[day * self.centers.count + i] != .max
            && info.minAge <= self.centers[i].maxAge && info.maxAge >= self.centers[i].minAge }
        let near = local.filter(fits)
        return near.isEmpty ? allCenters.filter(fits) : near
    }

    /// Gives a dose at the centre if its open vial or the district's stock has one (opening a vial,
    /// and wasting the old one's rest, when needed).
    mutating func takeDose(_ center: inout CenterDay, vaccine v: Int, _ now: Int, _ day: Int, _ result: inout CampaignResult) -> Bool {
        if center.vialLeft == 0 || now >= center.vialExpiresAt {
            guard stock[v] > 0 else { return false }
            result[day, Self.row, .dosesWasted] += Int64(center.vialLeft)
            let n = min(vaccines[v].dosesPerVial, stock[v])
            stock[v] -= n
            result[day, Self.row, .vialsOpened] += 1
            center.vialLeft = n
            center.vialExpiresAt = now + vaccines[v].openVialLifetimeSeconds
        }
        center.vialLeft -= 1
        result[day, Self.row, .dosesGiven] += 1
        return true
    }

    func hasDose(_ center: CenterDay, vaccine v: Int, _ now: Int) -> Bool {
        (center.vialLeft > 0 && now < center.vialExpiresAt) || stock[v] > 0
    }

    /// One walk-in arrives. A source's last arrivals are its dose-2 people (arrival times are
    /// exchangeable, so any order is as good).
    mutating func walkIn(_ k: Int, _ sources: inout [WalkInSource], _ center: inout CenterDay, now: Int, fillAt: Int, _ day: Int,
                         _ result: inout CampaignResult) throws(SimulationError) {
        let c = sources[k].cohort, info = cohorts[c]
        let v = centers[sources[k].center].vaccine
        let isDose2 = sources[k].uniforms.remaining < sources[k].dose2People.count
        let key = 2 * info.band + (isDose2 ? 1 : 0)
        if !hasDose(center, vaccine: v, now) {
            // No dose left in the district today: the rest of this source is sent home at once.
            let rest = sources[k].uniforms.remaining + 1
            let dose2 = sources[k].dose2People
            turnAway(day, c, Int64(rest - dose2.count), code: "no_stock", &result)
            if !dose2.isEmpty {
                dose2Waiting[c] += dose2
                result[day, Self.row, info.band, info.access, .walkIn, .turnedAwayNoStock] += Int64(dose2.count)
                result.addRefusal("no_stock", Int64(dose2.count))
            }
            sources[k].dose2People = []
            sources[k].uniforms = SortedUniforms(count: 0)
            return
        }
        if now < center.closedUntil[key] {
            // Refused without asking: the engine refused this (band, dose) and nothing has changed since.
            if center.closedUntil[key] == .max {
                let rest = sources[k].uniforms.remaining + 1, dose2 = sources[k].dose2People
                turnAway(day, c, Int64(rest - dose2.count), code: center.closedCode[key], &result)
                if !dose2.isEmpty {
                    dose2Waiting[c] += dose2
                    result[day, Self.row, info.band, info.access, .walkIn, .walkInsTurnedAway] += Int64(dose2.count)
                    result.addRefusal(center.closedCode[key], Int64(dose2.count))
                }
                sources[k].dose2People = []
                sources[k].uniforms = SortedUniforms(count: 0)
            } else if isDose2 {
                dose2Waiting[c].append(sources[k].dose2People.removeLast())
                result[day, Self.row, info.band, info.access, .walkIn, .walkInsTurnedAway] += 1
                result.addRefusal(center.closedCode[key])
            } else {
                turnAway(day, c, 1, code: center.closedCode[key], &result)
            }
            return
        }
        let dose2Person = isDose2 ? sources[k].dose2People.removeLast() : nil
        let id: BeneficiaryID
        if let dose2Person { id = dose2Person.id } else { id = try person(c, .arrivals) }
        switch engine.checkInWalkIn(id, session: SessionIndex(rawValue: center.session), dose: isDose2 ? .two : .one, now: now) {
        case .success(let appointment):
            guard takeDose(&center, vaccine: v, now, day, &result) else { throw .invalidModel("a dose promised by the stock check was not there") }
            guard case .success = engine.recordVaccination(appointment.id, now: now) else {
                throw .invalidModel("recording a walk-in's vaccination")
            }
            if model.clinic != nil, sources[k].center == 0 { center.arrivals.append(now - center.midnight) }
            result[day, Self.row, info.band, info.access, .walkIn, .walkInsServed] += 1
            let registered = dose2Person == nil ? walkInFromPool(c) : -1
            vaccinated(c, dose2: dose2Person, channel: .walkIn, registered: registered, id: id, vaccine: v, day, &result)
        case .failure(let refusal):
            if let dose2Person {
                dose2Waiting[c].append(dose2Person)
                result[day, Self.row, info.band, info.access, .walkIn, .walkInsTurnedAway] += 1
                result.addRefusal(refusal.code)
            } else {
                spare[c].append(id)
                turnAway(day, c, 1, code: refusal.code, &result)
            }
            // "Full" holds for everybody of this band and dose (sessionFull: for everybody) until a
            // no-show frees a unit, or the end-of-day fill opens every unit.
            if center.pendingNoShows == 0, refusal == .categoryFull || refusal == .sessionFull {
                let until = now < fillAt ? fillAt : Int.max
                for j in center.closedUntil.indices where refusal == .sessionFull || j == key {
                    center.closedUntil[j] = until
                    center.closedCode[j] = refusal.code
                }
            }
        }
    }

    mutating func turnAway(_ day: Int, _ c: Int, _ n: Int64, code: String, _ result: inout CampaignResult) {
        guard n > 0 else { return }
        let info = cohorts[c]
        result[day, Self.row, info.band, info.access, .walkIn, code == "no_stock" ? .turnedAwayNoStock : .walkInsTurnedAway] += n
        result.addRefusal(code, n)
        turnedAwayToday[c] += Int(n)
    }

    /// A dose-1 walk-in given a dose leaves one of the cohort's counts; returns the registration day, or -1.
    mutating func walkInFromPool(_ c: Int) -> Int {
        let counts = [neverRegistering[c], notYetRegistered[c], waitingTotal[c], gaveUp[c]]
        let total = counts.reduce(0, +)
        guard total > 0 else { return -1 }
        switch arrivals.weightedIndex(counts, total: total) {
        case 0: neverRegistering[c] -= 1
        case 1: notYetRegistered[c] -= 1
        case 2: return takeWaiting(c, .arrivals)
        default: gaveUp[c] -= 1
        }
        return -1
    }

    mutating func vaccinated(_ c: Int, dose2: Dose2Person?, channel: CampaignChannel, registered: Int, id: BeneficiaryID, vaccine: Int,
                             _ day: Int, _ result: inout CampaignResult) {
        let info = cohorts[c]
        if dose2 != nil {
            result[day, Self.row, info.band, info.access, channel, .vaccinationsDose2] += 1
            return
        }
        result[day, Self.row, info.band, info.access, channel, .vaccinationsDose1] += 1
        if registered >= 0 { result.addDaysToVaccination(day - registered) }
        guard attendance.chance(model.campaign.attendance.dose2ReturnShare) else { return }
        let v = vaccines[vaccine]
        // Due at the earliest the next day (today's dose-2 people have already been let in).
        let due = day + max(1, v.dose2IntervalDaysMin)
        guard due < days else { return }
        let next: CampaignChannel = info.access == .noAccess ? .walkIn : (channel == .walkIn ? onlineChannel(c, .attendance) : channel)
        dose2Due[due].append(Dose2Person(id: id, cohort: c, channel: next, vaccine: vaccine, latestDay: day + v.dose2IntervalDaysMax))
    }

    /// A booked person not vaccinated (absent, or no stock) goes back to waiting — or gives up
    /// online if they registered longer ago than `giveUpAfterDays`.
    mutating func backToPool(_ booking: Booking, _ day: Int, _ result: inout CampaignResult, metric: CampaignMetric) {
        let c = booking.cohort, info = cohorts[c]
        result[day, Self.row, info.band, info.access, booking.channel, metric] += 1
        if let person = booking.dose2 {
            dose2Waiting[c].append(person)
            return
        }
        spare[c].append(booking.appointment.beneficiary)
        if booking.registrationDay < day - model.campaign.booking.giveUpAfterDays + 1 {
            gaveUp[c] += 1
        } else {
            waiting[c][booking.registrationDay] += 1
            waitingTotal[c] += 1
        }
    }
}
