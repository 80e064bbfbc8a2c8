/// Bad input to the library: a policy, centre or session that cannot be used.
/// Thrown with a key path (as a scenario file would spell it) and what was expected.
public enum SlotAllocationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The value at `path` is wrong; `expected` says what it must be.
    case invalid(_ path: String, _ expected: String)
    /// A limit of the library was exceeded.
    case limitExceeded(_ what: String, limit: Int)

    public var description: String {
        switch self {
        case let .invalid(path, expected): "\(path): \(expected)"
        case let .limitExceeded(what, limit): "\(what): more than the limit of \(limit)"
        }
    }
}

/// Why a booking request was refused. Every refusal has a typed reason and a
/// stable machine-readable ``code`` (for metrics, logs and HTTP error bodies).
public enum BookingRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownBeneficiary(BeneficiaryID)
    case unknownSession(SessionIndex)
    case unknownAppointment(AppointmentID)
    /// The slot number is not one of the session's windows.
    case invalidSlot(slot: Int, slotCount: Int)
    /// The session's age limits exclude this person.
    case ageNotEligible(age: Int, minAge: Int, maxAge: Int?)
    /// The person's age is in none of the policy's bands.
    case noAgeBand(age: Int)
    /// The person's band is not open yet; `openingDay` is nil when it never opens.
    case bandNotOpen(band: String, openingDay: Int?)
    /// The person's band may book online but not walk in yet.
    case walkInsNotOpen(band: String, openingDay: Int?)
    case dose1NotGiven
    case doseAlreadyGiven(Dose)
    /// Dose 2 must be the vaccine of dose 1.
    case vaccineMismatch(required: String, offered: String)
    case doseIntervalNotMet(earliestDay: Int)
    case doseIntervalExceeded(latestDay: Int)
    /// The person already holds a live appointment for this dose.
    case alreadyBooked(AppointmentID)
    /// No unit of the session is free.
    case sessionFull
    /// Units are free, but only in categories this person may not use now.
    case categoryFull
    /// In a batch: every unit this person could take went to somebody ranked higher.
    case outranked
    /// In a batch: the request listed no session.
    case noPreferences
    /// In a batch: more preferences than the allocator takes.
    case tooManyPreferences(limit: Int)
    /// In a batch: more requests than the allocator takes at once.
    case batchTooLarge(limit: Int)
    /// In a batch: the same person asked for the same dose earlier in the batch.
    case duplicateRequest
    /// Online booking for the session's day closed at `closedAt` (seconds since the epoch).
    case bookingClosed(closedAt: Int)
    /// A walk-in came on another day than the session's.
    case notSessionDay(sessionDay: Int)
    /// A walk-in came outside the session's slot windows.
    case outsideSessionHours
    case holdExpired
    /// The appointment exists but is in the wrong state for this request (e.g. confirming a booking).
    case wrongState(AppointmentState)
    /// A no-show can only be declared once the slot window has started.
    case slotWindowNotStarted(startsAt: Int)
    /// The request id was used before for a different kind of request.
    case requestIDReused
    /// `now` is beyond ±2^40 seconds from the epoch.
    case timeOutOfRange(Int)

    /// A stable code for metrics and HTTP bodies.
    public var code: String {
        switch self {
        case .unknownBeneficiary: "unknown_beneficiary"
        case .unknownSession: "unknown_session"
        case .unknownAppointment: "unknown_appointment"
        case .invalidSlot: "invalid_slot"
        case .ageNotEligible: "age_not_eligible"
        case .noAgeBand: "no_age_band"
        case .bandNotOpen: "band_not_open"
        case .walkInsNotOpen: "walk_ins_not_open"
        case .dose1NotGiven: "dose1_not_given"
        case .doseAlreadyGiven: "dose_already_given"
        case .vaccineMismatch: "vaccine_mismatch"
        case .doseIntervalNotMet: "dose_interval_not_met"
        case .doseIntervalExceeded: "dose_interval_exceeded"
        case .alreadyBooked: "already_booked"
        case .sessionFull: "session_full"
        case .categoryFull: "category_full"
        case .outranked: "outranked"
        case .noPreferences: "no_preferences"
        case .tooManyPreferences: "too_many_preferences"
        case .batchTooLarge: "batch_too_large"
        case .duplicateRequest: "duplicate_request"
        case .bookingClosed: "booking_closed"
        case .notSessionDay: "not_session_day"
        case .outsideSessionHours: "outside_session_hours"
        case .holdExpired: "hold_expired"
        case .wrongState: "wrong_state"
        case .slotWindowNotStarted: "slot_window_not_started"
        case .requestIDReused: "request_id_reused"
        case .timeOutOfRange: "time_out_of_range"
        }
    }

    public var description: String {
        switch self {
        case let .unknownBeneficiary(id): "unknown \(id)"
        case let .unknownSession(id): "unknown \(id)"
        case let .unknownAppointment(id): "unknown \(id)"
        case let .invalidSlot(slot, count): "slot \(slot) is not one of the session's \(count) windows"
        case let .ageNotEligible(age, lo, hi): "age \(age) is outside the session's limits \(lo)–\(hi.map(String.init) ?? "")"
        case let .noAgeBand(age): "age \(age) is in no age band of the policy"
        case let .bandNotOpen(band, day): "band \(band) " + (day.map { "opens on day \($0)" } ?? "is not open")
        case let .walkInsNotOpen(band, day): "walk-ins of band \(band) " + (day.map { "open on day \($0)" } ?? "are not open")
        case .dose1NotGiven: "dose 2 needs dose 1 first"
        case let .doseAlreadyGiven(dose): "\(dose) was already given"
        case let .vaccineMismatch(required, offered): "dose 2 must be \(required), the session offers \(offered)"
        case let .doseIntervalNotMet(day): "dose 2 is due from day \(day)"
        case let .doseIntervalExceeded(day): "dose 2 was due by day \(day)"
        case let .alreadyBooked(id): "already holds \(id) for this dose"
        case .sessionFull: "the session is fully booked"
        case .categoryFull: "no free unit in a category open to this person now"
        case .outranked: "every unit this person could take went to someone ranked higher"
        case .noPreferences: "no session was listed"
        case let .tooManyPreferences(limit): "more than \(limit) sessions were listed"
        case let .batchTooLarge(limit): "more than \(limit) requests in one batch"
        case .duplicateRequest: "the same person asked for this dose earlier in the batch"
        case let .bookingClosed(at): "booking for the session's day closed at \(at)"
        case let .notSessionDay(day): "the session is on day \(day)"
        case .outsideSessionHours: "outside the session's hours"
        case .holdExpired: "the hold has expired"
        case let .wrongState(state): "the appointment is \(state)"
        case let .slotWindowNotStarted(at): "the slot window starts at \(at)"
        case .requestIDReused: "the request id was used for a different request"
        case let .timeOutOfRange(now): "time \(now) is beyond ±2^40 seconds from the epoch"
        }
    }
}
