/// A dose number. CoWIN's 2021 schedule had two doses per vaccine.
public enum Dose: Int, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case one = 1
    case two = 2

    var offset: Int { rawValue - 1 }
    public var description: String { "dose \(rawValue)" }
}

/// A vaccine: vial size, how long an opened vial lasts, and when dose 2 is due.
///
/// ```swift
/// let vaccines = [Vaccine.covishield, Vaccine.covaxin]
/// vaccines[0].dose2IntervalDaysMin   // 84: dose 2 not bookable before day 84
/// ```
public struct Vaccine: Hashable, Sendable, Codable {
    public var name: String
    public var dosesPerVial: Int
    /// An opened vial must be used within this many seconds (4 h for Covishield).
    public var openVialLifetimeSeconds: Int
    /// Dose 2 may be given from this many days after dose 1 ...
    public var dose2IntervalDaysMin: Int
    /// ... up to and including this many days after dose 1.
    public var dose2IntervalDaysMax: Int

    public init(name: String, dosesPerVial: Int, openVialLifetimeSeconds: Int,
                dose2IntervalDaysMin: Int, dose2IntervalDaysMax: Int) {
        self.name = name
        self.dosesPerVial = dosesPerVial
        self.openVialLifetimeSeconds = openVialLifetimeSeconds
        self.dose2IntervalDaysMin = dose2IntervalDaysMin
        self.dose2IntervalDaysMax = dose2IntervalDaysMax
    }

    /// Covishield from 13 May 2021: 10-dose vials, 4 h once opened, dose 2 at 12–16 weeks.
    public static let covishield = Vaccine(name: "COVISHIELD", dosesPerVial: 10, openVialLifetimeSeconds: 4 * 3600,
                                           dose2IntervalDaysMin: 84, dose2IntervalDaysMax: 112)
    /// Covaxin: 20-dose vials, 4 h once opened, dose 2 at 4–6 weeks.
    public static let covaxin = Vaccine(name: "COVAXIN", dosesPerVial: 20, openVialLifetimeSeconds: 4 * 3600,
                                        dose2IntervalDaysMin: 28, dose2IntervalDaysMax: 42)

    func validate(at index: Int) throws(SlotAllocationError) {
        let path = "vaccines[\(index)]"
        guard !name.isEmpty else { throw .invalid(path + ".name", "must not be empty") }
        guard (1...100).contains(dosesPerVial) else {
            throw .invalid(path + ".dosesPerVial", "must be between 1 and 100, found \(dosesPerVial)")
        }
        guard openVialLifetimeSeconds > 0 else {
            throw .invalid(path + ".openVialLifetimeSeconds", "must be positive, found \(openVialLifetimeSeconds)")
        }
        guard dose2IntervalDaysMin >= 0, dose2IntervalDaysMax >= dose2IntervalDaysMin, dose2IntervalDaysMax <= 3650 else {
            throw .invalid(path + ".dose2IntervalDays",
                           "needs 0 <= min <= max <= 3650, found \(dose2IntervalDaysMin)...\(dose2IntervalDaysMax)")
        }
    }
}

/// A beneficiary's dose history as far as booking rules need it.
public struct DoseRecord: Hashable, Sendable, Codable {
    public var day: Int
    public var vaccine: Int
    public init(day: Int, vaccine: Int) {
        self.day = day
        self.vaccine = vaccine
    }
}
