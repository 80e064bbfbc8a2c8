@testable import DemandSimulation
import SlotAllocation
import Testing

/// The campaign model on a small district: conservation, capacity, determinism, channels.
@Suite struct CampaignTests {
    static let policy: AllocationPolicy = {
        var policy = AllocationPolicy.standard(walkInShare: 0.3, dose2Share: 0.1)
        policy.phases = [EligibilityPhase(ageBand: "18-44", openDay: 0, walkInOpenDay: 3), EligibilityPhase(ageBand: "45-59", openDay: 0),
                         EligibilityPhase(ageBand: "60+", openDay: 0)]
        return policy
    }()

    static func campaign(days: Int = 40, mechanism: CampaignMechanism = .firstComeFirstServed, copies: Int = 2) -> CampaignConfiguration {
        var booking = BookingBehaviour(botShare: 0.05)
        booking.mechanism = mechanism
        return CampaignConfiguration(
            days: days,
            districts: [
                DistrictConfiguration(name: "town", copies: copies, cohorts: [
                    Cohort(ageBand: "18-44", access: .smartphone, area: .urban, people: 30_000),
                    Cohort(ageBand: "18-44", access: .assisted, area: .urban, people: 8_000),
                    Cohort(ageBand: "18-44", access: .noAccess, area: .rural, people: 6_000),
                    Cohort(ageBand: "45-59", access: .smartphone, area: .urban, people: 10_000),
                ], centers: [
                    CenterGroup(count: 5, vaccine: "COVISHIELD", capacityPerDay: 100, minAge: 18, maxAge: 44),
                    CenterGroup(count: 3, vaccine: "COVAXIN", capacityPerDay: 80, minAge: 18, area: .rural),
                ], deliveries: [
                    Delivery(vaccine: "COVISHIELD", doses: 2_500, firstDay: 0, everyDays: 5),
                    Delivery(vaccine: "COVAXIN", doses: 1_000, firstDay: 0, everyDays: 4),
                ]),
            ],
            registration: [RegistrationWave(ageBand: "18-44"), RegistrationWave(ageBand: "45-59", openDay: 2)],
            booking: booking,
            clinic: CampaignClinic(stages: [ClinicStage(name: "vaccination", staff: 2, service: .exponential(mean: 120))]))
    }

    @Test func dosesAreConservedPerDistrictAndDay() throws {
        let results = try CampaignSimulation(campaign: Self.campaign(), policy: Self.policy).run(seed: 5, replications: 2, threads: 2)
        for result in results {
            for d in result.districts.indices {
                var delivered: Int64 = 0, given: Int64 = 0, wasted: Int64 = 0
                for day in 0..<result.days {
                    delivered += result[day, d, .dosesDelivered]
                    given += result[day, d, .dosesGiven]
                    wasted += result[day, d, .dosesWasted]
                    #expect(delivered == given + wasted + result[day, d, .stockEnd], "day \(day)")
                    #expect(result[day, d, .dosesGiven] <= result[day, d, .capacityPublished], "day \(day): no more doses than published capacity")
                }
            }
            let doses = result.total(.vaccinationsDose1) + result.total(.vaccinationsDose2)
            #expect(doses == result.total(.dosesGiven) && doses > 1_000)
            #expect(result.total(.vaccinationsDose2) > 0, "Covaxin's dose 2 falls inside 40 days")
            #expect(result.total(.walkInsServed) > 0 && result.total(.bookings) > 0 && result.total(.noShows) > 0)
        }
    }

    @Test func peopleWithoutAPhoneOnlyWalkIn() throws {
        let result = try CampaignSimulation(campaign: Self.campaign(days: 20), policy: Self.policy).run(seed: 1, replications: 1, threads: 1)[0]
        for channel in [CampaignChannel.portal, .partnerApp, .assisted] {
            #expect(result.total(.vaccinationsDose1, access: .noAccess, channel: channel) == 0)
            #expect(result.total(.registrations, access: .noAccess, channel: channel) == 0)
        }
        #expect(result.total(.vaccinationsDose1, access: .noAccess, channel: .walkIn) > 0)
        // 18-44 may walk in only from day 3.
        for day in 0..<3 { #expect(result[day, 0, 0, .noAccess, .walkIn, .vaccinationsDose1] == 0) }
        #expect(result.total(.vaccinationsDose1, access: .smartphone, channel: .assisted) == 0)
    }

    @Test func resultsDoNotDependOnThreads() throws {
        let simulation = try CampaignSimulation(campaign: Self.campaign(days: 15, copies: 3), policy: Self.policy)
        let one = try simulation.run(seed: 9, replications: 3, threads: 1)
        let two = try simulation.run(seed: 9, replications: 3, threads: 2)
        for r in 0..<3 {
            #expect(one[r].cells == two[r].cells && one[r].districtCells == two[r].districtCells)
            #expect(one[r].refusals == two[r].refusals && one[r].daysToVaccination == two[r].daysToVaccination)
            #expect(one[r].timeInClinic.summary == two[r].timeInClinic.summary)
        }
        #expect(one[0].cells != one[1].cells, "replications differ")
        let other = try simulation.run(seed: 10, replications: 1, threads: 2)
        #expect(other[0].cells != one[0].cells, "seeds differ")
    }

    /// Every day of a district, the engine's own invariants hold: no (session, category) over
    /// capacity, one live appointment per person and dose.
    @Test(arguments: [CampaignMechanism.firstComeFirstServed, .deferredAcceptance, .lottery])
    func theEngineNeverOversells(_ mechanism: CampaignMechanism) throws {
        let campaign = Self.campaign(days: 12, mechanism: mechanism, copies: 1)
        let model = DistrictSimulation(campaign: campaign, policy: Self.policy, entry: 0, number: 0, seed: 3, replication: 0, clinic: nil)
        var state = try DistrictSimulation.State(model)
        var result = CampaignResult(days: 12, districts: ["town"], bands: Self.policy.ageBands.map(\.name), stageNames: [])
        for day in 0..<12 {
            state.deliver(day, &result)
            if day == 0 { try state.openingSessions(&result) }
            state.register(day, &result)
            state.startDose2Windows(day, &result)
            try state.clinicDay(day, &result)
            try state.releaseAndBook(day, &result)
            state.endDay(day, &result)
            #expect(state.engine.invariantViolations().isEmpty, "day \(day): \(state.engine.invariantViolations())")
        }
        #expect(result.total(.bookings) > 0)
        #expect(result.total(.bookings) <= result.total(.capacityPublished))
    }

    @Test func batchBeyondItsLimitStopsWithAClearError() throws {
        var campaign = Self.campaign(days: 5, mechanism: .priority, copies: 1)
        campaign.booking.batchApplicantsMax = 10
        #expect(throws: SimulationError.self) {
            try CampaignSimulation(campaign: campaign, policy: Self.policy).run(seed: 1, replications: 1, threads: 1)
        }
    }

    @Test func badConfigurationsNameTheirKey() {
        var campaign = Self.campaign()
        campaign.districts[0].cohorts[0].ageBand = "18-40"
        #expect(throws: ConfigurationError("campaign.districts[0].cohorts[0].ageBand", "expected an age band of the policy (18-44, 45-59, 60+), found \"18-40\"")) {
            try campaign.validate(policy: Self.policy)
        }
        campaign = Self.campaign()
        campaign.districts[0].deliveries[1].firstDay = 40
        #expect(throws: ConfigurationError("campaign.districts[0].deliveries[1].firstDay", "expected a day of the campaign from 0 to 39, found 40")) {
            try campaign.validate(policy: Self.policy)
        }
        campaign = Self.campaign()
        campaign.walkIns.hourProfile = [1]
        #expect(throws: ConfigurationError("campaign.walkIns.hourProfile", "expected 24 weights (one per hour), found 1")) {
            try campaign.validate(policy: Self.policy)
        }
    }
}

/// The samplers the campaign draws cohorts with.
@Suite struct SamplingTests {
    @Test func binomialHasTheRightMeanAndSpread() {
        var stream = RandomStream(seed: 1, replication: 0, stream: .behaviour)
        for (n, p) in [(40, 0.3), (1_000, 0.02), (100_000_000, 0.4), (10, 0.9)] {
            let draws = (0..<20_000).map { _ in Double(stream.binomial(n, p)) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)
            let expected = Double(n) * p, spread = Double(n) * p * (1 - p)
            #expect(abs(mean - expected) < 5 * (spread / Double(draws.count)).squareRoot() + 1e-9, "n \(n) p \(p): mean \(mean)")
            #expect(abs(variance / spread - 1) < 0.05, "n \(n) p \(p): variance \(variance) vs \(spread)")
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= Double(n) })
        }
        #expect(stream.binomial(0, 0.5) == 0 && stream.binomial(7, 1) == 7 && stream.binomial(7, 0) == 0)
    }

    @Test func sortedUniformsAreSortedAndUniform() {
        var stream = RandomStream(seed: 2, replication: 0, stream: .arrivals)
        var sorted = SortedUniforms(count: 100_000)
        var values: [Double] = []
        while let u = sorted.next(&stream) { values.append(u) }
        #expect(values.count == 100_000 && values == values.sorted())
        #expect(abs(values[49_999] - 0.5) < 0.01 && abs(values[89_999] - 0.9) < 0.01)
    }

    @Test func quantilesInvertTheDistributions() {
        #expect(abs(standardNormalQuantile(0.975) - 1.959963985) < 1e-8)
        #expect(abs(standardNormalQuantile(0.001) + 3.090232306) < 1e-8)
        #expect(abs(Distribution.exponential(mean: 10).quantile(0.5) - 10 * 0.6931471806) < 1e-8)
        let lognormal = Distribution.lognormal(mean: 300, standardDeviation: 600)
        var stream = RandomStream(seed: 3, replication: 0, stream: .service)
        let below = (0..<50_000).filter { _ in lognormal.sample(&stream) <= lognormal.quantile(0.3) }.count
        #expect(abs(Double(below) / 50_000 - 0.3) < 0.01)
    }
}
