/// A vaccination centre. Sessions belong to a centre; the online engine shards its
/// state by the centre's district, so requests for different districts rarely contend.
public struct CenterSpec: Hashable, Sendable, Codable {
    public enum Ownership: String, Hashable, Sendable, Codable { case government, `private` }

    /// The caller's own id for the centre (CoWIN's `center_id`).
    public var externalID: Int
    public var name: String
    /// A dense district number chosen by the caller (0, 1, 2, ...).
    public var district: Int
    public var ownership: Ownership
    public var feeRupees: Int

    public init(externalID: Int, name: String, district: Int, ownership: Ownership = .government, feeRupees: Int = 0) {
        self.externalID = externalID
        self.name = name
        self.district = district
        self.ownership = ownership
        self.feeRupees = feeRupees
    }
}

/// A slot window inside a session's day, in seconds after the day's midnight (e.g. 09:00–11:00).
public struct SlotWindow: Hashable, Sendable, Codable, CustomStringConvertible {
    public var startSecondOfDay: Int
    public var endSecondOfDay: Int
    public init(startSecondOfDay: Int, endSecondOfDay: Int) {
        self.startSecondOfDay = startSecondOfDay
        self.endSecondOfDay = endSecondOfDay
    }
    /// A window from whole hours, e.g. `SlotWindow(hours: 9, 11)`. Hours far out of range
    /// saturate (never trap), and ``BookingEngine/addSession(_:)`` refuses the window.
    public init(hours start: Int, _ end: Int) {
        func seconds(_ hours: Int) -> Int {
            let (product, overflow) = hours.multipliedReportingOverflow(by: 3600)
            return overflow ? (hours < 0 ? .min : .max) : product
        }
        self.init(startSecondOfDay: seconds(start), endSecondOfDay: seconds(end))
    }
    /// CoWIN's four two-hour windows, 09:00–17:00.
    public static let cowinDay: [SlotWindow] = [.init(hours: 9, 11), .init(hours: 11, 13), .init(hours: 13, 15), .init(hours: 15, 17)]

    public var description: String {
        func hhmm(_ s: Int) -> String {
            let h = s / 3600, m = s % 3600 / 60
            return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
        }
        return hhmm(startSecondOfDay) + "-" + hhmm(endSecondOfDay)
    }
}

/// A session to publish: one centre, one day, one vaccine, age limits, slot windows
/// and a capacity that the policy splits into categories.
public struct SessionSpec: Hashable, Sendable, Codable {
    public var center: CenterIndex
    /// Day number since the engine's epoch (day `d` spans seconds `d*86400 ..< (d+1)*86400`).
    public var day: Int
    /// Index into ``AllocationPolicy/vaccines``.
    public var vaccine: Int
    public var minAge: Int
    public var maxAge: Int?
    public var slots: [SlotWindow]
    public var capacity: Int
    /// Per-category capacities that override the policy's split (one per category), or `nil`.
    public var categoryCapacities: [Int]?

    public init(center: CenterIndex, day: Int, vaccine: Int, minAge: Int, maxAge: Int? = nil,
                slots: [SlotWindow] = SlotWindow.cowinDay, capacity: Int, categoryCapacities: [Int]? = nil) {
        self.center = center
        self.day = day
        self.vaccine = vaccine
        self.minAge = minAge
        self.maxAge = maxAge
        self.slots = slots
        self.capacity = capacity
        self.categoryCapacities = categoryCapacities
    }
}
