/// Dense integer identifiers used on the allocator's hot paths.
///
/// Ids are plain integers rather than strings or UUIDs so that state can live
/// in struct-of-arrays indexed by them. Where the online engine shards state,
/// the low bits of an id name the shard and the high bits the index inside it,
/// so finding the owner of an id is a shift and a mask.

/// A registered beneficiary (one person), assigned by ``BookingEngine/registerBeneficiary(_:)``.
public struct BeneficiaryID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "beneficiary#\(rawValue)" }
}

/// A session (centre × day × vaccine × age limits), assigned by ``BookingEngine/addSession(_:)``.
public struct SessionIndex: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "session#\(rawValue)" }
}

/// A capacity category of the policy: its position in ``AllocationPolicy/categories``.
public struct CategoryIndex: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The category at position `value`; nil unless `value` is 0...255 (a policy has at most 16).
    public init?(_ value: Int) {
        guard let raw = UInt8(exactly: value) else { return nil }
        rawValue = raw
    }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var index: Int { Int(rawValue) }
    public var description: String { "category#\(rawValue)" }
}

/// A vaccination centre, assigned by ``BookingEngine/addCenter(_:)``.
public struct CenterIndex: Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { "center#\(rawValue)" }
}

/// An appointment or a hold: the beneficiary, the dose and a serial number.
///
/// A beneficiary has at most one live appointment per dose, so the pair
/// (beneficiary, dose) finds the live record and the serial tells a current
/// appointment from an earlier, finished one. Layout of ``rawValue``:
/// bits 32–63 beneficiary, bit 31 dose (0 = dose 1), bits 0–30 serial.
public struct AppointmentID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    init(beneficiary: BeneficiaryID, dose: Dose, serial: UInt32) {
        precondition(serial < 1 << 31, "appointment serial overflow")
        rawValue = UInt64(beneficiary.rawValue) << 32
            | UInt64(dose == .two ? 1 : 0) << 31
            | UInt64(serial)
    }

    public var beneficiary: BeneficiaryID { BeneficiaryID(rawValue: UInt32(truncatingIfNeeded: rawValue >> 32)) }
    public var dose: Dose { (rawValue >> 31) & 1 == 1 ? .two : .one }
    var serial: UInt32 { UInt32(truncatingIfNeeded: rawValue & 0x7fff_ffff) }
    public var description: String { "appointment#\(rawValue)" }
}

/// A caller-chosen request id for idempotency: a request repeated with the same id
/// returns the first outcome and changes nothing.
///
/// The contract's limits, chosen for speed (a retry is told apart in O(1) with no global table):
/// - an id is remembered per beneficiary: the same id for another beneficiary is a new request;
/// - the same id for another kind of request is refused (``BookingRefusal/requestIDReused``),
///   but for the same kind with other parameters it returns the first outcome (ids should be
///   unique per request, as a client's retry loop makes them);
/// - each beneficiary shard remembers its last
///   ``BookingEngineConfiguration/idempotencyEntriesPerShard`` ids (65,536 by default); a retry
///   that comes after so many newer requests of its shard runs as a new request.
public struct RequestID: Hashable, Sendable, Codable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}
