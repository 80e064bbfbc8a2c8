/// What the engine needs to know about a person when registering them.
public struct BeneficiarySpec: Hashable, Sendable, Codable {
    public var birthYear: Int
    /// 0...63; categories may be restricted to groups (e.g. health workers = 1).
    public var priorityGroup: Int
    /// Dose 1 given before the person was registered here, if any.
    public var dose1: DoseRecord?
    /// The day dose 2 was given before the person was registered here, if it was (it needs
    /// `dose1`, and comes after it; the vaccine is dose 1's). Such a person books nothing more.
    public var dose2Day: Int?

    public init(birthYear: Int, priorityGroup: Int = 0, dose1: DoseRecord? = nil, dose2Day: Int? = nil) {
        self.birthYear = birthYear
        self.priorityGroup = priorityGroup
        self.dose1 = dose1
        self.dose2Day = dose2Day
    }
}

/// Where an appointment stands.
public enum AppointmentState: String, Hashable, Sendable, Codable {
    case held, booked, walkIn, vaccinated, cancelled, noShow
}

/// The beneficiaries of one shard and their live appointments.
///
/// Back of the envelope: 1.33 crore registrations on the first day; per person one
/// 64-byte record (facts and both doses' live appointments), ≈ 850 MB for the day's
/// registrants. A request reads and writes one record: one cache line, one miss.
///
/// Person `b` is `records[b]`; their live appointment for dose `d` is addressed as
/// `live` slot `b * 2 + d.offset`.
struct BeneficiaryRegistry: ~Copyable, Sendable {
    static let noDay = Int32.min

    struct Person: Sendable, BitwiseCopyable {
        /// `Int16.min` marks an id that was handed out but whose registration has not landed yet.
        var birthYear: Int16 = Int16.min
        var group: UInt8 = 0
        var dose1Vaccine: UInt8 = 0
        var dose1Day: Int32 = BeneficiaryRegistry.noDay
        var dose2Day: Int32 = BeneficiaryRegistry.noDay
    }

    enum LiveState: UInt8, Sendable, BitwiseCopyable {
        case none, held, booked, walkIn

        var bit: UInt8 { 1 << rawValue }
        /// The public state of a live record (callers check `!= .none` first).
        var appointmentState: AppointmentState {
            switch self {
            case .held: .held
            case .walkIn: .walkIn
            case .booked: .booked
            case .none: .cancelled
            }
        }
    }

    struct Live: Sendable, BitwiseCopyable {
        var expiresAt: Int = 0
        var session: UInt32 = 0
        var serial: UInt32 = 0
        var state: LiveState = .none
        var category: UInt8 = 0
        var slot: UInt8 = 0
        /// A walk-in admitted on a unit freed by a no-show (it goes back there if cancelled).
        var fromNoShowUnit = false
    }

    /// 16 + 2 × 24 = 64 bytes: exactly one cache line in an ``AlignedArray``.
    struct Record: Sendable, BitwiseCopyable {
        var person = Person()
        var dose1 = Live()
        var dose2 = Live()
    }

    private var records = AlignedArray<Record>()
    var requests: IdempotencyCache

    init(idempotencyCapacity: Int) {
        requests = IdempotencyCache(capacity: idempotencyCapacity)
    }

    func isRegistered(_ b: Int) -> Bool { b < records.count && records[b].person.birthYear != Int16.min }

    subscript(person b: Int) -> Person {
        @inline(__always) get { records.pointer(b).pointee.person }
        @inline(__always) set { records.pointer(b).pointee.person = newValue }
    }

    /// The live appointment in slot `i` (= person × 2 + dose offset).
    subscript(live i: Int) -> Live {
        @inline(__always) get {
            let record = records.pointer(i >> 1)
            return i & 1 == 0 ? record.pointee.dose1 : record.pointee.dose2
        }
        @inline(__always) set {
            let record = records.pointer(i >> 1)
            if i & 1 == 0 { record.pointee.dose1 = newValue } else { record.pointee.dose2 = newValue }
        }
    }

    /// Stores person `b`, growing the records if registrations arrived out of order.
    mutating func store(_ b: Int, _ spec: BeneficiarySpec) {
        while records.count <= b { records.append(Record()) }
        self[person: b] = Person(birthYear: Int16(spec.birthYear), group: UInt8(spec.priorityGroup),
                                 dose1Vaccine: UInt8(spec.dose1?.vaccine ?? 0),
                                 dose1Day: spec.dose1.map { Int32($0.day) } ?? Self.noDay,
                                 dose2Day: spec.dose2Day.map { Int32($0) } ?? Self.noDay)
    }

    func applicant(_ b: Int, dose: Dose, policy: CompiledPolicy) -> Applicant {
        let person = self[person: b]
        let given = person.dose1Day == Self.noDay ? nil : DoseRecord(day: Int(person.dose1Day), vaccine: Int(person.dose1Vaccine))
        return policy.applicant(birthYear: Int(person.birthYear), group: Int(person.group), dose: dose,
                                dose1: given, dose2Given: person.dose2Day != Self.noDay)
    }

    /// The people's records as raw bytes (for a snapshot).
    func withRecordBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try records.withRawBytes(body)
    }

    /// Replaces every record by `records` (a restored snapshot's).
    mutating func replaceRecords(_ restored: consuming AlignedArray<Record>) {
        records = restored
    }

    /// Every live appointment, for the invariant checks.
    func forEachLive(_ body: (Live) -> Void) {
        for b in records.indices {
            body(records[b].dose1)
            body(records[b].dose2)
        }
    }
}

/// Remembers the outcome of the most recent requests that carried a ``RequestID``, per
/// beneficiary shard, so a retried request gets the first answer and changes nothing.
/// Bounded: when full, the oldest entry is forgotten (a retry older than `capacity`
/// requests of the same shard is treated as new).
struct IdempotencyCache: Sendable {
    struct Key: Hashable, Sendable {
        var request: UInt64
        var beneficiary: UInt32
    }

    enum Kind: UInt8, Sendable { case book, hold, confirm, cancel, reschedule, walkIn, vaccinate, noShow }

    private var outcomes: [Key: (Kind, Result<Appointment, BookingRefusal>)] = [:]
    private var ring: [Key] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func lookup(_ key: Key, _ kind: Kind) -> Result<Appointment, BookingRefusal>? {
        guard let (storedKind, outcome) = outcomes[key] else { return nil }
        return storedKind == kind ? outcome : .failure(.requestIDReused)
    }

    /// The remembered requests, oldest first (for a snapshot).
    var entries: [(key: Key, kind: Kind, outcome: Result<Appointment, BookingRefusal>)] {
        let order = ring.count < capacity ? ring : Array(ring[next...] + ring[..<next])
        return order.map { key in (key, outcomes[key]!.0, outcomes[key]!.1) }
    }

    mutating func store(_ key: Key, _ kind: Kind, _ outcome: Result<Appointment, BookingRefusal>) {
        guard capacity > 0 else { return }
        if ring.count < capacity {
            ring.append(key)
        } else {
            outcomes[ring[next]] = nil
            ring[next] = key
            next = (next + 1) % capacity
        }
        outcomes[key] = (kind, outcome)
    }
}
