/// Counters of one category of one session.
public struct CategoryCounts: Hashable, Sendable, Codable {
    public var name: String
    public var capacity: Int
    /// Live and fulfilled online bookings (a vaccinated booking still uses its unit).
    public var booked: Int
    public var held: Int
    public var walkIns: Int
    public var noShows: Int
    /// Units freed by no-shows and kept for walk-ins.
    public var noShowFreed: Int
    public var vaccinated: Int
    /// Units nobody uses yet (excluding ``noShowFreed``).
    public var free: Int
}

/// What a session has left at a moment, as CoWIN's `findByDistrict` showed it, plus every
/// category's counters for audits.
public struct SessionAvailability: Hashable, Sendable {
    public var session: SessionIndex
    public var day: Int
    public var vaccine: String
    public var minAgeLimit: Int
    public var maxAgeLimit: Int?
    public var slots: [SlotWindow]
    public var capacity: Int
    /// Units an online booking could take now (any dose, any band the session admits).
    public var availableCapacity: Int
    public var availableCapacityDose1: Int
    public var availableCapacityDose2: Int
    /// Units a walk-in could take now (including those freed by no-shows).
    public var availableWalkIn: Int
    public var categories: [CategoryCounts]

    init(_ index: SessionIndex, inventory: borrowing SessionInventory, local s: Int, policy: CompiledPolicy, now: Int) {
        let base = s * inventory.categoryCount
        let record = inventory.sessions[s]
        let day = Int(record.day)
        let second = now - day * CompiledPolicy.secondsPerDay
        session = index
        self.day = day
        vaccine = policy.policy.vaccines[Int(record.vaccine)].name
        minAgeLimit = Int(record.minAge)
        maxAgeLimit = Int(record.maxAge) >= ageMax ? nil : Int(record.maxAge)
        slots = inventory.slots(s).map { SlotWindow(startSecondOfDay: Int(inventory.slotStart[$0]), endSecondOfDay: Int(inventory.slotEnd[$0])) }
        var counts: [CategoryCounts] = []
        var online = 0, dose1 = 0, dose2 = 0, walkIn = 0
        let bookingOpen = second < policy.closeSecond
        for c in 0..<inventory.categoryCount {
            let counters = inventory.counters[base + c]
            let free = Int(counters.free)
            counts.append(CategoryCounts(
                name: policy.policy.categories[c].name, capacity: Int(counters.capacity), booked: Int(counters.booked),
                held: Int(counters.held), walkIns: Int(counters.walkIns), noShows: Int(counters.noShows),
                noShowFreed: Int(counters.noShowFreed), vaccinated: Int(counters.vaccinated), free: free))
            let filled = second >= policy.fillSecond
            let onlineOpen = filled || policy.channelMask[c] & Channel.online.bit != 0 || second >= policy.releaseToOnlineSecond[c]
            if onlineOpen && bookingOpen {
                online += free
                if filled || policy.doseMask[c] & 1 != 0 { dose1 += free }
                if filled || policy.doseMask[c] & 2 != 0 { dose2 += free }
            }
            walkIn += Int(counters.noShowFreed)
            if filled || policy.channelMask[c] & Channel.walkIn.bit != 0 { walkIn += free }
        }
        capacity = counts.reduce(0) { $0 + $1.capacity }
        availableCapacity = online
        availableCapacityDose1 = dose1
        availableCapacityDose2 = dose2
        availableWalkIn = walkIn
        categories = counts
    }
}
