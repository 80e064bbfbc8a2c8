import SlotAllocation

/// SplitMix64: a seeded generator so random tests are reproducible (the seed is in each test).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let hour = 3600
let day = 86_400

/// An engine with one centre in district 0 and `sessions` sessions on day 1.
func makeEngine(policy: AllocationPolicy = .singleCategory(), capacity: Int = 2, sessions: Int = 1,
                configuration: BookingEngineConfiguration = .init(horizonDays: 400, sessionShards: 4, beneficiaryShards: 4))
    throws -> (BookingEngine, [SessionIndex]) {
    let engine = try BookingEngine(policy: policy, configuration: configuration)
    let center = try engine.addCenter(CenterSpec(externalID: 1, name: "PHC", district: 0))
    let indices = try (0..<sessions).map { _ in
        try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: capacity))
    }
    return (engine, indices)
}

func person(_ engine: BookingEngine, born birthYear: Int = 1990, group: Int = 0, dose1: DoseRecord? = nil) throws -> BeneficiaryID {
    try engine.registerBeneficiary(BeneficiarySpec(birthYear: birthYear, priorityGroup: group, dose1: dose1))
}

extension Result {
    var value: Success? { if case .success(let v) = self { v } else { nil } }
    var refusal: Failure? { if case .failure(let e) = self { e } else { nil } }
}
