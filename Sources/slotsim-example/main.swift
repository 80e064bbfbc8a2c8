// A district's vaccination day booked through the SlotAllocation library: the 16:00
// release scramble for tomorrow's slots, cancellations, arrivals and no-shows, and
// walk-ins through the day. Prints what was used and every refusal by reason.
//
// The numbers follow a district example from Gurugram (Aug 2021, see
// scenarios/README.md): about 20 % of government doses for online booking, of that
// 60 % dose 2; online 10:00–14:00 windows, walk-ins until 16:00. This executable is
// the demo until the simulator's `slotsim run` replaces it.
import Foundation
import SlotAllocation

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, so every run prints the same.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let hour = 3600, day = 86_400
var random = SplitMix64(state: 2021)

var policy = AllocationPolicy.standard(walkInShare: 0.8, dose2Share: 0.12, walkInReleaseSecondOfDay: nil)
policy.endOfDayFillSecondOfDay = 15 * hour
let engine = try BookingEngine(policy: policy, configuration: .init(horizonDays: 30))

// 24 government centres in one district, each with one Covishield session tomorrow (day 1).
var sessions: [SessionIndex] = []
for number in 0..<24 {
    let center = try engine.addCenter(CenterSpec(externalID: 600_000 + number, name: "UPHC \(number + 1)", district: 0))
    let capacity = [100, 150, 200, 300][number % 4]
    sessions.append(try engine.addSession(SessionSpec(
        center: center, day: 1, vaccine: 0, minAge: 18,
        slots: [.init(hours: 9, 11), .init(hours: 11, 13), .init(hours: 13, 15), .init(hours: 15, 16)],
        capacity: capacity)))
}
let capacityTotal = sessions.reduce(0) { $0 + engine.availability($1, now: 0)!.capacity }

// 9,000 people try to book online at the 16:00 release; 35 % of them are due for dose 2.
var online: [(BeneficiaryID, Dose)] = []
for _ in 0..<9_000 {
    let birthYear = Int.random(in: 1950...2003, using: &random)
    let dueForDose2 = Double.random(in: 0..<1, using: &random) < 0.35
    let dose1 = dueForDose2 ? DoseRecord(day: -Int.random(in: 84...100, using: &random), vaccine: 0) : nil
    online.append((try engine.registerBeneficiary(BeneficiarySpec(birthYear: birthYear, dose1: dose1)), dueForDose2 ? .two : .one))
}

var refusals: [String: [String: Int]] = [:]
@MainActor func count(_ channel: String, _ refusal: BookingRefusal) { refusals[channel, default: [:]][refusal.code, default: 0] += 1 }

// The scramble: each person tries up to three random centres within the first minutes.
var bookings: [Appointment] = []
for (person, dose) in online {
    let now = 16 * hour + Int.random(in: 0..<600, using: &random)
    for _ in 0..<3 {
        let session = sessions.randomElement(using: &random)!
        switch engine.book(person, session: session, slot: Int.random(in: 0..<3, using: &random), dose: dose, now: now) {
        case .success(let appointment): bookings.append(appointment)
        case .failure(let refusal):
            count("online", refusal)
            continue
        }
        break
    }
}

// Before the day starts, 4 % cancel.
var kept: [Appointment] = []
for appointment in bookings {
    if Double.random(in: 0..<1, using: &random) < 0.04 {
        _ = engine.cancel(appointment.id, now: day + 7 * hour)
    } else {
        kept.append(appointment)
    }
}

// Day 1: 12 % of the booked do not come; their units go to walk-ins once their window starts.
var vaccinated = 0, noShows = 0
for appointment in kept {
    let windowStart = engine.session(appointment.session)!.slots[appointment.slot].startSecondOfDay
    if Double.random(in: 0..<1, using: &random) < 0.12 {
        if case .success = engine.markNoShow(appointment.id, now: day + windowStart + 30 * 60) { noShows += 1 }
    } else if case .success = engine.recordVaccination(appointment.id, now: day + windowStart + 10 * 60) {
        vaccinated += 1
    }
}

// Walk-ins from 09:00 to 16:00, in time order; 4,500 people, most of them without a smartphone.
var walkInsServed = 0
let arrivals = (0..<4_500).map { _ in day + 9 * hour + Int.random(in: 0..<(7 * hour), using: &random) }.sorted()
for now in arrivals {
    let person = try engine.registerBeneficiary(BeneficiarySpec(birthYear: Int.random(in: 1950...2003, using: &random)))
    switch engine.checkInWalkIn(person, session: sessions.randomElement(using: &random)!, dose: .one, now: now) {
    case .success(let appointment):
        if case .success = engine.recordVaccination(appointment.id, now: now + 15 * 60) { walkInsServed += 1 }
    case .failure(let refusal): count("walk-in", refusal)
    }
}

let violations = engine.invariantViolations()
let unused = sessions.reduce(0) { total, session in
    total + engine.availability(session, now: day + 16 * hour)!.categories.reduce(0) { $0 + $1.free + $1.noShowFreed }
}
func padded(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

print("slotsim example: one district, 24 centres, day 1 (policy: 80 % walk-in reserve, 12 % online dose 2, rest open; fill at 15:00)")
print("")
print("capacity \(capacityTotal), online requests \(online.count), bookings \(bookings.count), cancelled \(bookings.count - kept.count)")
print("vaccinated by appointment \(vaccinated), no-shows \(noShows), walk-ins vaccinated \(walkInsServed), units unused \(unused)")
print("")
print("centre      capacity  booked  walk-in  no-show  free")
for (number, session) in sessions.prefix(6).enumerated() {
    let a = engine.availability(session, now: day + 16 * hour)!
    let booked = a.categories.reduce(0) { $0 + $1.booked }, walkIn = a.categories.reduce(0) { $0 + $1.walkIns }
    let noShow = a.categories.reduce(0) { $0 + $1.noShows }, free = a.categories.reduce(0) { $0 + $1.free + $1.noShowFreed }
    print("UPHC \(padded(String(number + 1), 2))  " + [a.capacity, booked, walkIn, noShow, free].map { padded(String($0), 8) }.joined())
}
print("(\(sessions.count - 6) more centres)")
print("")
print("refusals by reason:")
for (channel, reasons) in refusals.sorted(by: { $0.key > $1.key }) {
    for (code, n) in reasons.sorted(by: { $0.value > $1.value }) { print("  \(padded(channel, 7))  \(padded(String(n), 6))  \(code)") }
}
print("")
print(violations.isEmpty ? "invariants: all hold" : "INVARIANT VIOLATIONS:\n" + violations.joined(separator: "\n"))
if !violations.isEmpty { exit(1) }
