import SlotAllocation

extension DistrictSimulation.State {
    enum CenterEvent: Sendable {
        case appointment(Int32)
        case noShow(Int32)
        case walkIn(source: Int32)
    }

    /// Walk-ins of one cohort at one centre (dose 1, drawn from the cohort's counts) or the
    /// dose-2 people of a cohort who walk in there, arriving in time order.
    struct WalkInSource {
        var cohort: Int
        var uniforms: SortedUniforms
        var dose2People: [Dose2Person]
    }

    /// The open vial of a centre.
    struct Vial {
        var left = 0
        var expiresAt = 0
    }

    /// Every centre's day: appointments arrive (or do not), walk-ins come by the hour profile,
    /// the engine admits or refuses each, and a dose is given only from an open vial or stock.
    mutating func clinicDay(_ day: Int, _ result: inout CampaignResult) throws(SimulationError) {
        // Walk-ins of the day, per cohort, spread over the centres that can take them.
        var walkIns = [[(cohort: Int, count: Int, dose2: [Dose2Person])]](repeating: [], count: centers.count)
        let w = model.campaign.walkIns
        for c in cohorts.indices {
            let info = cohorts[c]
            guard walkInDay[info.band] <= day else { continue }
            let targets = centersToday(day, for: info)
            guard !targets.isEmpty else { continue }
            let pool = neverRegistering[c] + notYetRegistered[c] + waitingTotal[c] + gaveUp[c]
            var count = arrivals.binomial(pool, w.dailyProbability[info.access])
            count = min(pool, count + arrivals.binomial(min(turnedAwayYesterday[c], pool), w.returnProbability))
            var dose2: [Dose2Person] = []
            var kept: [Dose2Person] = []
            for person in dose2Waiting[c] {
                if arrivals.chance(w.dose2DailyProbability) { dose2.append(person) } else { kept.append(person) }
            }
            dose2Waiting[c] = kept
            let counts = arrivals.multinomial(count, [Double](repeating: 1, count: targets.count))
            var dose2By = [[Dose2Person]](repeating: [], count: targets.count)
            for person in dose2 { dose2By[Int(arrivals.next(upperBound: UInt64(targets.count)))].append(person) }
            for (k, i) in targets.enumerated() where counts[k] > 0 || !dose2By[k].isEmpty {
                walkIns[i].append((c, counts[k], dose2By[k]))
            }
        }
        var bookings = bookingsByDay[day]
        bookingsByDay[day] = []
        bookings.sort { $0.session < $1.session }
        var next = 0
        for i in centers.indices {
            let s = sessionOf[day * centers.count + i]
            guard s != .max else {
                // No session today: the centre's walk-ins find it closed.
                for source in walkIns[i] {
                    turnAway(day, source.cohort, Int64(source.count), code: "no_session_today", &result)
                    dose2Waiting[source.cohort] += source.dose2
                }
                continue
            }
            var end = next
            while end < bookings.count, bookings[end].session == s { end += 1 }
            try centerDay(day, center: i, session: s, bookings: bookings[next..<end], walkIns: walkIns[i], &result)
            next = end
        }
        precondition(next == bookings.count, "every booking of the day belongs to a session of the day")
    }

    func centersToday(_ day: Int, for info: DistrictSimulation.CohortInfo) -> [Int] {
        let local = centersByArea[info.area == .urban ? 0 : 1]
        let fits = { (i: Int) in self.sessionOf[day * self.centers.count + i] != .max
            && info.minAge <= self.centers[i].maxAge && info.maxAge >= self.centers[i].minAge }
        let near = local.filter(fits)
        return near.isEmpty ? allCenters.filter(fits) : near
    }

    mutating func turnAway(_ day: Int, _ c: Int, _ n: Int64, code: String, _ result: inout CampaignResult) {
        guard n > 0 else { return }
        let info = cohorts[c]
        result[day, Self.row, info.band, info.access, .walkIn, code == "no_stock" ? .turnedAwayNoStock : .walkInsTurnedAway] += n
        result.addRefusal(code, n)
        turnedAwayToday[c] += Int(n)
    }

    mutating func centerDay(_ day: Int, center i: Int, session s: UInt32, bookings: ArraySlice<Booking>,
                            walkIns: [(cohort: Int, count: Int, dose2: [Dose2Person])], _ result: inout CampaignResult) throws(SimulationError) {
        let center = centers[i]
        let group = model.config.centers[center.group]
        let midnight = day * 86_400
        let open = group.slots[0].start, close = group.slots[group.slots.count - 1].end
        let attendanceRules = model.campaign.attendance
        let bookings = Array(bookings)
        var agenda = EventQueue<CenterEvent>()
        var pendingNoShows = 0
        for (k, booking) in bookings.enumerated() {
            let window = group.slots[booking.slot]
            if attendance.chance(attendanceRules.noShowProbability[cohorts[booking.cohort].access]) {
                agenda.schedule(.noShow(Int32(k)), at: midnight + window.end - 1)
                pendingNoShows += 1
            } else {
                let offset = attendanceRules.punctualityMeanSeconds + attendanceRules.punctualityStandardDeviationSeconds * attendance.standardNormal()
                let at = min(max(window.start + Int(offset.rounded()), open), close - 1)
                agenda.schedule(.appointment(Int32(k)), at: midnight + at)
            }
        }
        // Appointments are all scheduled up front (a session's capacity bounds them); walk-ins lazily.
        let profile = profiles[center.group]
        var sources = walkIns.map { WalkInSource(cohort: $0.cohort, uniforms: SortedUniforms(count: $0.count + $0.dose2.count), dose2People: $0.dose2) }
        for k in sources.indices {
            if let u = sources[k].uniforms.next(&arrivals) { agenda.schedule(.walkIn(source: Int32(k)), at: midnight + profile.second(u)) }
        }
        var vial = Vial()
        let vaccine = vaccines[center.vaccine]
        var given = 0, wasted = 0, vials = 0
        var arrivalsInClinic: [Int] = []
        let sampled = model.clinic != nil && i == 0
        // Walk-ins are refused without asking the engine while nothing can change its answer:
        // until a no-show frees a unit, or the policy's end-of-day fill opens every unit.
        var closedUntil = 0, closedCode = ""
        let fillAt = model.policy.endOfDayFillSecondOfDay.map { midnight + $0 } ?? Int.max
        let session = SessionIndex(rawValue: s)

        func hasDose(_ now: Int, _ vial: Vial, _ stock: Int) -> Bool { (vial.left > 0 && now < vial.expiresAt) || stock > 0 }
        func takeDose(_ now: Int, _ vial: inout Vial, _ stock: inout Int) {
            if vial.left == 0 || now >= vial.expiresAt {
                wasted += vial.left
                let n = min(vaccine.dosesPerVial, stock)
                stock -= n
                vials += 1
                vial = Vial(left: n, expiresAt: now + vaccine.openVialLifetimeSeconds)
            }
            vial.left -= 1
            given += 1
        }

        while let (now, event) = agenda.next() {
            switch event {
            case let .appointment(k):
                let booking = bookings[Int(k)]
                guard hasDose(now, vial, stock[center.vaccine]) else {
                    _ = engine.cancel(booking.appointment, now: now)
                    backToPool(booking, day, &result, metric: .turnedAwayNoStock)
                    continue
                }
                switch engine.recordVaccination(booking.appointment, now: now) {
                case .success:
                    takeDose(now, &vial, &stock[center.vaccine])
                    if sampled { arrivalsInClinic.append(now - midnight) }
                    vaccinated(booking.cohort, dose2: booking.dose2, channel: booking.channel, registered: booking.registrationDay,
                               id: booking.appointment.beneficiary, vaccine: center.vaccine, day, &result)
                case .failure(let refusal):
                    throw .invalidModel("recording a booked vaccination: \(refusal)")
                }
            case let .noShow(k):
                pendingNoShows -= 1
                let booking = bookings[Int(k)]
                switch engine.markNoShow(booking.appointment, now: now) {
                case .success: backToPool(booking, day, &result, metric: .noShows)
                case .failure(let refusal): throw .invalidModel("marking a no-show: \(refusal)")
                }
                if closedCode != "no_stock" { closedUntil = 0 }
            case let .walkIn(k):
                let c = sources[Int(k)].cohort
                let isDose2 = sources[Int(k)].uniforms.remaining < sources[Int(k)].dose2People.count
                // A source's last arrivals are its dose-2 people (any order is as good: arrival times are exchangeable).
                if closedUntil <= now, !hasDose(now, vial, stock[center.vaccine]) { (closedUntil, closedCode) = (.max, "no_stock") }
                if now < closedUntil, closedUntil != .max {
                    // Refused one by one until the fill time (no engine call: the answer cannot change before).
                    if isDose2 {
                        let person = sources[Int(k)].dose2People.removeLast()
                        dose2Waiting[c].append(person)
                        result[day, Self.row, cohorts[c].band, cohorts[c].access, .walkIn, .walkInsTurnedAway] += 1
                        result.addRefusal(closedCode)
                    } else {
                        turnAway(day, c, 1, code: closedCode, &result)
                    }
                } else if now < closedUntil {
                    let closed = closedCode
                    // The rest of the day's walk-ins of this source meet the same answer.
                    let rest = sources[Int(k)].uniforms.remaining + 1
                    let dose2Rest = min(rest, sources[Int(k)].dose2People.count)
                    turnAway(day, c, Int64(rest - dose2Rest), code: closed, &result)
                    let people = sources[Int(k)].dose2People
                    dose2Waiting[c] += people.prefix(dose2Rest)
                    if dose2Rest > 0 {
                        result[day, Self.row, cohorts[c].band, cohorts[c].access, .walkIn,
                               closed == "no_stock" ? .turnedAwayNoStock : .walkInsTurnedAway] += Int64(dose2Rest)
                    }
                    sources[Int(k)].dose2People.removeFirst(dose2Rest)
                    continue
                }
                let id: BeneficiaryID
                var dose2Person: Dose2Person? = nil
                if isDose2 {
                    dose2Person = sources[Int(k)].dose2People.removeLast()
                    id = dose2Person!.id
                } else {
                    id = try person(c, .arrivals)
                }
                switch engine.checkInWalkIn(id, session: session, dose: isDose2 ? .two : .one, now: now) {
                case .success(let appointment):
                    guard case .success = engine.recordVaccination(appointment.id, now: now) else {
                        throw .invalidModel("recording a walk-in's vaccination")
                    }
                    takeDose(now, &vial, &stock[center.vaccine])
                    if sampled { arrivalsInClinic.append(now - midnight) }
                    let info = cohorts[c]
                    result[day, Self.row, info.band, info.access, .walkIn, .walkInsServed] += 1
                    if let dose2Person {
                        vaccinated(c, dose2: dose2Person, channel: .walkIn, registered: -1, id: id, vaccine: center.vaccine, day, &result)
                    } else {
                        let registered = walkInFromPool(c)
                        vaccinated(c, dose2: nil, channel: .walkIn, registered: registered, id: id, vaccine: center.vaccine, day, &result)
                    }
                case .failure(let refusal):
                    if let dose2Person {
                        dose2Waiting[c].append(dose2Person)
                        let info = cohorts[c]
                        result[day, Self.row, info.band, info.access, .walkIn, .walkInsTurnedAway] += 1
                        result.addRefusal(refusal.code)
                    } else {
                        spare[c].append(id)
                        turnAway(day, c, 1, code: refusal.code, &result)
                    }
                    if pendingNoShows == 0, refusal == .categoryFull || refusal == .sessionFull {
                        (closedUntil, closedCode) = (now < fillAt ? fillAt : .max, refusal.code)
                    }
                }
            }
            if case let .walkIn(k) = event, let u = sources[Int(k)].uniforms.next(&arrivals) {
                agenda.schedule(.walkIn(source: k), at: max(now, midnight + profile.second(u)))
            }
        }
        wasted += vial.left
        result[day, Self.row, .dosesGiven] += Int64(given)
        result[day, Self.row, .dosesWasted] += Int64(wasted)
        result[day, Self.row, .vialsOpened] += Int64(vials)
        if sampled, let clinic = model.clinic, !arrivalsInClinic.isEmpty {
            let key = (model.replication << 32) | (model.number << 12) | day
            let (waits, time) = try clinic.runDay(arrivalSeconds: arrivalsInClinic, seed: model.seed, replication: key)
            result.addClinic(waits: waits, timeInClinic: time)
        }
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
        let due = day + v.dose2IntervalDaysMin
        guard due < days else { return }
        let next: CampaignChannel = info.access == .noAccess ? .walkIn : (channel == .walkIn ? onlineChannel(c, .attendance) : channel)
        dose2Due[due].append(Dose2Person(id: id, cohort: c, channel: next, vaccine: vaccine, latestDay: day + v.dose2IntervalDaysMax))
    }

    /// A booked person not vaccinated (absent, or no stock) goes back to waiting.
    mutating func backToPool(_ booking: Booking, _ day: Int, _ result: inout CampaignResult, metric: CampaignMetric) {
        let c = booking.cohort, info = cohorts[c]
        result[day, Self.row, info.band, info.access, booking.channel, metric] += 1
        if let person = booking.dose2 {
            dose2Waiting[c].append(person)
        } else {
            waiting[c][booking.registrationDay] += 1
            waitingTotal[c] += 1
            spare[c].append(booking.appointment.beneficiary)
        }
    }
}
