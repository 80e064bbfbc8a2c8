import SlotAllocation

extension CampaignConfiguration {
    /// Checks every value against `policy` (bands and vaccines are named there); the error
    /// names the key path below `campaign`.
    public func validate(policy: AllocationPolicy) throws(ConfigurationError) {
        let bands = policy.ageBands.map(\.name)
        let vaccines = policy.vaccines.map { $0.name.lowercased() }
        func probability(_ path: String, _ p: Double) throws(ConfigurationError) {
            guard (0...1).contains(p) else { throw ConfigurationError(path, "expected a probability between 0 and 1, found \(p)") }
        }
        func count(_ path: String, _ value: Int, _ range: ClosedRange<Int>, _ what: String) throws(ConfigurationError) {
            guard range.contains(value) else { throw ConfigurationError(path, "expected \(what) from \(range.lowerBound) to \(range.upperBound), found \(value)") }
        }
        func band(_ path: String, _ name: String) throws(ConfigurationError) {
            guard bands.contains(name) else {
                throw ConfigurationError(path, "expected an age band of the policy (\(bands.joined(separator: ", "))), found \"\(name)\"")
            }
        }
        func vaccine(_ path: String, _ name: String) throws(ConfigurationError) {
            guard vaccines.contains(name.lowercased()) else {
                throw ConfigurationError(path, "expected a vaccine of the policy (\(policy.vaccines.map(\.name).joined(separator: ", "))), found \"\(name)\"")
            }
        }
        func day(_ path: String, _ value: Int) throws(ConfigurationError) {
            try count(path, value, 0...(days - 1), "a day of the campaign")
        }

        try count("campaign.days", days, 1...Self.daysMax, "a number of days")
        try count("campaign.districts", districts.count, 1...Self.districtsMax, "a number of district entries")
        var districtTotal = 0, centerTotal = 0, peopleTotal = 0
        var names = Set<String>()
        for (d, district) in districts.enumerated() {
            let path = "campaign.districts[\(d)]"
            guard !district.name.isEmpty else { throw ConfigurationError(path + ".name", "expected a name") }
            guard names.insert(district.name).inserted else {
                throw ConfigurationError(path + ".name", "expected a name no other district entry has, found \"\(district.name)\" twice")
            }
            try count(path + ".copies", district.copies, 1...Self.districtsMax, "a number of copies")
            districtTotal += district.copies
            guard districtTotal <= Self.districtsMax else {
                throw ConfigurationError(path + ".copies", "expected at most \(Self.districtsMax) districts in all (copies included), found \(districtTotal)")
            }
            try count(path + ".cohorts", district.cohorts.count, 1...Self.cohortsMax, "a number of cohorts")
            var seen = Set<String>()
            for (c, cohort) in district.cohorts.enumerated() {
                try band(path + ".cohorts[\(c)].ageBand", cohort.ageBand)
                guard seen.insert("\(cohort.ageBand)/\(cohort.access)/\(cohort.area)").inserted else {
                    throw ConfigurationError(path + ".cohorts[\(c)]", "expected one cohort per age band, access and area, found \(cohort.ageBand)/\(cohort.access.rawValue)/\(cohort.area.rawValue) twice")
                }
                try count(path + ".cohorts[\(c)].people", cohort.people, 0...Self.peopleMax, "a number of people")
                peopleTotal += cohort.people * district.copies
                guard peopleTotal <= Self.peopleMax else {
                    throw ConfigurationError(path + ".cohorts[\(c)].people", "expected at most \(Self.peopleMax) people in all districts, found \(peopleTotal) so far")
                }
            }
            try count(path + ".centers", district.centers.count, 1...64, "a number of centre groups")
            var districtCenters = 0
            for (g, group) in district.centers.enumerated() {
                let gp = path + ".centers[\(g)]"
                try count(gp + ".count", group.count, 1...Self.centersPerDistrictMax, "a number of centres")
                districtCenters += group.count
                try vaccine(gp + ".vaccine", group.vaccine)
                try count(gp + ".capacityPerDay", group.capacityPerDay, 0...Self.capacityPerDayMax, "doses a day")
                let fixed = policy.categories.reduce(0) { $0 + ($1.count ?? 0) }
                if group.capacityPerDay > 0, group.capacityPerDay < fixed {
                    throw ConfigurationError(gp + ".capacityPerDay", "expected at least the \(fixed) units the policy's categories with a fixed count need, found \(group.capacityPerDay)")
                }
                try count(gp + ".minAge", group.minAge, 0...ageMax, "an age")
                if let maxAge = group.maxAge { try count(gp + ".maxAge", maxAge, group.minAge...ageMax, "an age at least minAge") }
                try count(gp + ".slots", group.slots.count, 1...24, "a number of slot windows")
                var previousEnd = 0
                for (s, window) in group.slots.enumerated() {
                    guard window.start >= previousEnd, window.start < window.end, window.end <= 86_400 else {
                        throw ConfigurationError(gp + ".slots[\(s)]", "expected start < end within the day (seconds 0...86400), after the previous window, found \(window.start)...\(window.end)")
                    }
                    previousEnd = window.end
                }
            }
            guard districtCenters <= Self.centersPerDistrictMax else {
                throw ConfigurationError(path + ".centers", "expected at most \(Self.centersPerDistrictMax) centres in a district, found \(districtCenters)")
            }
            centerTotal += districtCenters * district.copies
            guard centerTotal <= Self.centersMax else {
                throw ConfigurationError(path + ".centers", "expected at most \(Self.centersMax) centres in all districts, found \(centerTotal) so far")
            }
            for (n, delivery) in district.deliveries.enumerated() {
                let dp = path + ".deliveries[\(n)]"
                try vaccine(dp + ".vaccine", delivery.vaccine)
                try count(dp + ".doses", delivery.doses, 0...100_000_000, "a number of doses")
                try day(dp + ".firstDay", delivery.firstDay)
                if let every = delivery.everyDays { try count(dp + ".everyDays", every, 1...Self.daysMax, "a number of days") }
            }
        }
        var waves = Set<String>()
        for (w, wave) in registration.enumerated() {
            let path = "campaign.registration[\(w)]"
            try band(path + ".ageBand", wave.ageBand)
            guard waves.insert(wave.ageBand).inserted else {
                throw ConfigurationError(path + ".ageBand", "expected one registration wave per age band, found \"\(wave.ageBand)\" twice")
            }
            try day(path + ".openDay", wave.openDay)
            for access in Access.allCases { try probability(path + ".eventualShare.\(access.rawValue)", wave.eventualShare[access]) }
            try probability(path + ".firstDayShare", wave.firstDayShare)
            try probability(path + ".dailyDecay", wave.dailyDecay)
            guard wave.dailyDecay < 1 else { throw ConfigurationError(path + ".dailyDecay", "expected a decay below 1, found 1") }
            try probability(path + ".partnerAppShare", wave.partnerAppShare)
            if let daily = wave.daily {
                try count(path + ".daily", daily.count, 1...Self.daysMax, "a number of daily shares")
                for (k, share) in daily.enumerated() { try probability(path + ".daily[\(k)]", share) }
                let sum = daily.reduce(0, +)
                guard sum <= 1 + 1e-9 else { throw ConfigurationError(path + ".daily", "expected shares that add up to at most 1, found \(sum)") }
            }
        }
        let b = booking
        try count("campaign.booking.releaseSecond", b.releaseSecond, 0...86_399, "a second of the day")
        try count("campaign.booking.leadDays", b.leadDays, 0...30, "a number of days")
        if b.leadDays == 0, b.releaseSecond >= policy.bookingCloseSecondOfDay {
            throw ConfigurationError("campaign.booking.releaseSecond", "expected a release before the policy's booking close (\(policy.bookingCloseSecondOfDay)) when leadDays is 0, found \(b.releaseSecond)")
        }
        for access in Access.allCases { try probability("campaign.booking.attemptProbability.\(access.rawValue)", b.attemptProbability[access]) }
        try b.reactionSeconds.validate(path: "campaign.booking.reactionSeconds")
        try b.botReactionSeconds.validate(path: "campaign.booking.botReactionSeconds")
        try probability("campaign.booking.botShare", b.botShare)
        try count("campaign.booking.retriesPerDay", b.retriesPerDay, 0...1000, "a number of retries")
        try count("campaign.booking.giveUpAfterDays", b.giveUpAfterDays, 1...Self.daysMax, "a number of days")
        try count("campaign.booking.travelCenters", b.travelCenters, 1...1000, "a number of centres")
        try count("campaign.booking.ruralTravelCenters", b.ruralTravelCenters, 1...1000, "a number of centres")
        try count("campaign.booking.batchApplicantsMax", b.batchApplicantsMax, 1...BatchAllocator.registrantsMax, "a number of applicants")
        for access in Access.allCases { try probability("campaign.walkIns.dailyProbability.\(access.rawValue)", walkIns.dailyProbability[access]) }
        guard walkIns.hourProfile.count == 24 else {
            throw ConfigurationError("campaign.walkIns.hourProfile", "expected 24 weights (one per hour), found \(walkIns.hourProfile.count)")
        }
        for (h, weight) in walkIns.hourProfile.enumerated() {
            guard weight >= 0, weight <= 1e9 else { throw ConfigurationError("campaign.walkIns.hourProfile[\(h)]", "expected a weight from 0 to 1e9, found \(weight)") }
        }
        guard walkIns.hourProfile.contains(where: { $0 > 0 }) else {
            throw ConfigurationError("campaign.walkIns.hourProfile", "expected at least one hour with a positive weight")
        }
        try probability("campaign.walkIns.returnProbability", walkIns.returnProbability)
        try probability("campaign.walkIns.dose2DailyProbability", walkIns.dose2DailyProbability)
        let a = attendance
        for access in Access.allCases { try probability("campaign.attendance.noShowProbability.\(access.rawValue)", a.noShowProbability[access]) }
        guard (-86_400...86_400).contains(a.punctualityMeanSeconds) else {
            throw ConfigurationError("campaign.attendance.punctualityMeanSeconds", "expected an offset within one day, found \(a.punctualityMeanSeconds)")
        }
        guard (0...86_400).contains(a.punctualityStandardDeviationSeconds) else {
            throw ConfigurationError("campaign.attendance.punctualityStandardDeviationSeconds", "expected a deviation from 0 to one day, found \(a.punctualityStandardDeviationSeconds)")
        }
        try probability("campaign.attendance.dose2ReturnShare", a.dose2ReturnShare)
        if let clinic {
            let check = ClinicConfiguration(stages: clinic.stages, arrivals: .poisson(perHour: 1), queueLengthMax: clinic.queueLengthMax)
            do {
                try check.validate()
            } catch {
                throw ConfigurationError("campaign." + error.path, error.expected)
            }
        }
    }
}
