import SlotAllocation
import Testing

/// Thousands of random operation sequences against the engine, with every invariant
/// checked after every step and the engine's view of each person compared with a model.
@Suite struct EnginePropertyTests {
    enum Op: CaseIterable { case book, hold, confirm, cancel, reschedule, walkIn, noShow, vaccinate, sweep }

    @Test(arguments: 0..<40)
    func randomSequencesKeepEveryInvariant(batch: Int) throws {
        for run in 0..<50 {
            var random = SeededGenerator(seed: UInt64(batch * 1000 + run))
            try runSequence(&random, steps: 80)
        }
    }

    func runSequence(_ random: inout SeededGenerator, steps: Int) throws {
        let policy = AllocationPolicy.standard(walkInShare: 0.3, dose2Share: 0.3, walkInReleaseSecondOfDay: 12 * hour)
        let engine = try BookingEngine(policy: policy, configuration: .init(horizonDays: 200, sessionShards: 2, beneficiaryShards: 2))
        var sessions: [SessionIndex] = []
        for district in 0..<3 {
            let center = try engine.addCenter(CenterSpec(externalID: district, name: "c\(district)", district: district))
            sessions.append(try engine.addSession(SessionSpec(center: center, day: 1, vaccine: district % 2, minAge: district == 2 ? 45 : 18,
                                                              capacity: Int.random(in: 0...6, using: &random))))
        }
        var people: [(BeneficiaryID, Dose)] = []
        for _ in 0..<12 {
            let dueDose2 = Bool.random(using: &random)
            let dose1 = dueDose2 ? DoseRecord(day: -Int.random(in: 20...100, using: &random), vaccine: Int.random(in: 0...1, using: &random)) : nil
            people.append((try engine.registerBeneficiary(BeneficiarySpec(birthYear: Int.random(in: 1940...2003, using: &random), dose1: dose1)),
                           dueDose2 ? .two : .one))
        }
        var model: [BeneficiaryID: Appointment] = [:]
        var now = 12 * hour
        for _ in 0..<steps {
            now += Int.random(in: 0...(40 * 60), using: &random)
            let (who, dose) = people.randomElement(using: &random)!
            let session = sessions.randomElement(using: &random)!
            let slot = Int.random(in: -1...4, using: &random)
            // Lapsed holds are gone for their owner.
            if let held = model[who], held.state == .held, held.holdExpiresAt! <= now { model[who] = nil }
            let mine = model[who]
            let outcome: Result<Appointment, BookingRefusal>
            switch Op.allCases.randomElement(using: &random)! {
            case .book: outcome = engine.book(who, session: session, slot: slot, dose: dose, now: now)
            case .hold: outcome = engine.hold(who, session: session, slot: slot, dose: dose, now: now)
            case .confirm: outcome = mine.map { engine.confirm($0.id, now: now) } ?? .failure(.holdExpired)
            case .cancel: outcome = mine.map { engine.cancel($0.id, now: now) } ?? .failure(.holdExpired)
            case .reschedule: outcome = mine.map { engine.reschedule($0.id, to: session, slot: slot, now: now) } ?? .failure(.holdExpired)
            case .walkIn: outcome = engine.checkInWalkIn(who, session: session, dose: dose, now: now)
            case .noShow: outcome = mine.map { engine.markNoShow($0.id, now: now) } ?? .failure(.holdExpired)
            case .vaccinate: outcome = mine.map { engine.recordVaccination($0.id, now: now) } ?? .failure(.holdExpired)
            case .sweep:
                engine.releaseExpiredHolds(now: now)
                outcome = .failure(.holdExpired)
            }
            if case .success(let appointment) = outcome {
                switch appointment.state {
                case .held, .booked, .walkIn: model[who] = appointment
                case .cancelled, .noShow, .vaccinated: model[who] = nil
                }
                if appointment.state == .vaccinated { people.removeAll { $0.0 == who } ; if people.isEmpty { return } }
            }
            if case .failure(.sessionFull) = outcome {
                let free = engine.availability(session, now: now)!.categories.reduce(0) { $0 + $1.free }
                #expect(free == 0, "sessionFull refused while \(free) units were free")
            }
            let violations = engine.invariantViolations()
            #expect(violations.isEmpty, "\(violations)")
            #expect(engine.liveAppointment(of: who, dose: dose, now: now)?.id == model[who]?.id)
            if !violations.isEmpty { return }
        }
    }
}
