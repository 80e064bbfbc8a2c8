import SlotAllocation

/// What the server publishes: districts with their centres, and a session a day at each
/// centre for `days` days from the start date. Built by `slotsim serve` from a scenario's
/// campaign section, so a planner's file is served as it is.
public struct ServiceTopology: Sendable {
    public struct District: Sendable {
        public var name: String
        public var centers: [Center]
        public init(name: String, centers: [Center]) {
            self.name = name
            self.centers = centers
        }
    }

    public struct Center: Sendable {
        public var name: String
        public var vaccine: Int
        public var capacityPerDay: Int
        public var minAge: Int
        public var maxAge: Int?
        public var slots: [SlotWindow]
        public var feeRupees: Int
        public init(name: String, vaccine: Int, capacityPerDay: Int, minAge: Int, maxAge: Int?, slots: [SlotWindow], feeRupees: Int = 0) {
            self.name = name
            self.vaccine = vaccine
            self.capacityPerDay = capacityPerDay
            self.minAge = minAge
            self.maxAge = maxAge
            self.slots = slots
            self.feeRupees = feeRupees
        }
    }

    public var stateName: String
    public var districts: [District]
    public var days: Int
    public var policy: AllocationPolicy

    public init(stateName: String, districts: [District], days: Int, policy: AllocationPolicy) {
        self.stateName = stateName
        self.districts = districts
        self.days = days
        self.policy = policy
    }
}

/// A published session as the API names it.
struct PublishedSession: Sendable {
    var index: SessionIndex
    var id: String
    var district: Int
    var center: Int
    var day: Int
}

/// A centre as the API lists it.
struct PublishedCenter: Sendable {
    var id: Int
    var district: Int
    var name: String
    var pincode: Int
    var spec: ServiceTopology.Center
}

extension ServiceTopology {
    /// A session id: a UUID-shaped text derived from centre and day, stable across restarts.
    static func sessionID(center: Int, day: Int) -> String {
        var x = UInt64(truncatingIfNeeded: center) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: day) &* 0xBF58_476D_1CE4_E5B9
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let a = next(), b = next()
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s.suffix(digits)
        }
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xffff, 4))-4\(hex(a & 0xfff, 3))-a\(hex((b >> 48) & 0xfff, 3))-\(hex(b & 0xffff_ffff_ffff, 12))"
    }
}

/// The topology as published in the engine: centres and sessions with their API ids.
struct Published: Sendable {
    var stateName: String
    var districtNames: [String]
    var centers: [PublishedCenter]
    /// Centres by district.
    var centersOf: [[Int]]
    var sessions: [String: PublishedSession]
    /// The same sessions by centre × day, for availability queries.
    var byCenterDay: [PublishedSession?]
    /// The same sessions by the engine's index.
    var byIndex: [SessionIndex: PublishedSession]
    var days: Int
    var vaccines: [Vaccine]
    /// Centres by pincode, in the order they are listed.
    var centersOfPincode: [Int: [Int]]

    /// Districts a server publishes at most: their pincodes (``pincode(district:center:)``) stay 6 digits.
    static let districtsMax = 10_000

    init(_ topology: ServiceTopology, engine: BookingEngine) throws(SlotAllocationError) {
        guard topology.districts.count <= Self.districtsMax else { throw .limitExceeded("districts", limit: Self.districtsMax) }
        stateName = topology.stateName
        districtNames = topology.districts.map(\.name)
        days = topology.days
        vaccines = topology.policy.vaccines
        centers = []
        centersOf = []
        sessions = [:]
        byCenterDay = []
        byIndex = [:]
        centersOfPincode = [:]
        for (d, district) in topology.districts.enumerated() {
            var list: [Int] = []
            for spec in district.centers {
                let number = centers.count
                let index = try engine.addCenter(CenterSpec(externalID: 500_000 + number, name: spec.name, district: d,
                                                            ownership: spec.feeRupees > 0 ? .private : .government, feeRupees: spec.feeRupees))
                for day in 0..<topology.days where spec.capacityPerDay > 0 {
                    let session = try engine.addSession(SessionSpec(center: index, day: day, vaccine: spec.vaccine, minAge: spec.minAge,
                                                                    maxAge: spec.maxAge, slots: spec.slots, capacity: spec.capacityPerDay))
                    let id = ServiceTopology.sessionID(center: number, day: day)
                    sessions[id] = PublishedSession(index: session, id: id, district: d, center: number, day: day)
                    byIndex[session] = sessions[id]
                }
                byCenterDay += (0..<topology.days).map { day in sessions[ServiceTopology.sessionID(center: number, day: day)] }
                centers.append(PublishedCenter(id: 500_000 + number, district: d, name: spec.name, pincode: Self.pincode(district: d, center: list.count),
                                               spec: spec))
                list.append(number)
                centersOfPincode[centers[number].pincode, default: []].append(number)
            }
            centersOf.append(list)
        }
    }

    /// A centre's 6-digit pincode: 110001 + district × 88 + its place in the district mod 88
    /// (0-based), so each district has pincodes of its own, 10,000 districts fit below 990,001,
    /// and a large district's centres share them (as real pincodes do).
    static func pincode(district d: Int, center k: Int) -> Int { 110_001 + d * 88 + k % 88 }

    func session(center: Int, day: Int) -> PublishedSession? {
        guard (0..<days).contains(day), centers.indices.contains(center) else { return nil }
        return byCenterDay[center * days + day]
    }
}
