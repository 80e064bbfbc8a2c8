import Foundation
import Hummingbird
import SlotAllocation

/// Centre staff (a partner key with scope `checkin`, limited to its centres) and
/// administrators (scope `admin`): walk-ins and appointments share each session's capacity
/// under the policy's rules, because every record goes through the same engine.
extension BookingServer {
    func addStaffRoutes(_ v2: RouterGroup<ServiceContext>) {
        // A walk-in: a registered beneficiary, or one registered on the spot under a mobile number.
        v2.post("centre/walkin") { request, context in
            let partner = try self.partner(request, .checkin)
            var request = request
            let body = try await API.body(&request, context, allowed: Self.registrationFields.union(["session_id", "dose", "beneficiary_reference_id", "mobile"]),
                                          required: ["session_id", "dose"])
            let sessionID = try API.string(body, "session_id", maxLength: 64)
            guard let session = self.store.published.sessions[sessionID] else { throw APIError(400, "APPOIN0018", "no such session_id") }
            try self.checkCentre(partner, session.center)
            let dose = try API.int(body, "dose")
            // Per partner: two organisations' staff at one centre never share a key.
            let key = try self.idempotencyKey(request).map { partner.name + ":" + $0 }
            let reference: String
            var registration: JournalRecord? = nil
            var asked = [sessionID, String(dose)]
            if body["beneficiary_reference_id"] != nil {
                guard body["mobile"] == nil, Self.registrationFields.isDisjoint(with: body.keys) else {
                    throw APIError.badRequest("give either beneficiary_reference_id or mobile with the registration fields, not both")
                }
                reference = try API.string(body, "beneficiary_reference_id", pattern: "^[0-9]{14}$", maxLength: 14)
                asked.append(reference)
            } else {
                guard body["mobile"] != nil else { throw APIError.badRequest("give beneficiary_reference_id, or mobile with the registration fields") }
                let mobile = try API.string(body, "mobile", pattern: "^[6-9][0-9]{9}$", maxLength: 10)
                for field in Self.registrationRequired where body[field] == nil { throw APIError.badRequest("\(field) is required to register a walk-in") }
                // Registered with the walk-in, in one record: a refused walk-in registers nobody.
                let registered = try self.registration(body, account: self.store.vault.lookup(mobile: mobile))
                (reference, registration) = (registered.reference, registered.record)
                asked += registered.asked
            }
            let walkIn = JournalRecord.walkIn(appointment: Vault.randomUUID(), reference: reference, session: sessionID,
                                              dose: dose, now: self.now, registration: registration)
            let record = key.map { JournalRecord.keyed(record: walkIn, key: $0, fingerprint: self.store.vault.requestFingerprint(asked)) } ?? walkIn
            switch await self.commit(record, "walk_in") {
            case .success(let appointment):
                // A retry under the key answers with the first walk-in: its person, not this call's new reference.
                let admitted = self.store.read { $0.appointments[appointment]?.beneficiaries.first } ?? reference
                return API.json(["appointment_id": appointment, "beneficiary_reference_id": admitted])
            case .failure(let error): throw error
            }
        }
        v2.post("centre/vaccinated") { request, context in
            try await self.staffRecord(request, context, kind: "vaccinated") { .vaccinated(reference: $0, dose: $1, now: $2, appointment: $3, session: $4) }
        }
        v2.post("centre/noshow") { request, context in
            try await self.staffRecord(request, context, kind: "no_show") { .noShow(reference: $0, dose: $1, now: $2, appointment: $3, session: $4) }
        }
        // Counts per session of a district and day: no personal data.
        v2.get("admin/sessions/report") { request, _ in
            _ = try self.partner(request, .admin)
            let (district, day) = try self.districtAndDay(request)
            let sessions = self.store.published.centersOf[district].compactMap { c -> [String: Any]? in
                guard let s = self.store.published.session(center: c, day: day), let a = self.store.engine.availability(s.index, now: self.now) else { return nil }
                func total(_ field: KeyPath<CategoryCounts, Int>) -> Int { a.categories.reduce(0) { $0 + $1[keyPath: field] } }
                return ["session_id": s.id, "center_id": self.store.published.centers[c].id, "date": API.dateText(day: s.day, epoch: self.epoch),
                        "capacity": a.capacity, "booked": total(\.booked), "walk_ins": total(\.walkIns), "no_shows": total(\.noShows),
                        "vaccinated": total(\.vaccinated), "available_capacity": a.availableCapacity, "available_walk_in": a.availableWalkIn]
            }
            return API.json(["sessions": sessions])
        }
    }

    /// A vaccinated or no-show record for a beneficiary's live appointment (or walk-in) at one of the key's centres.
    func staffRecord(_ request: Request, _ context: ServiceContext, kind: String,
                     _ make: (String, Int, Int, String, String) -> JournalRecord) async throws -> Response {
        let partner = try self.partner(request, .checkin)
        var request = request
        let body = try await API.body(&request, context, allowed: ["beneficiary_reference_id", "dose"], required: ["beneficiary_reference_id", "dose"])
        let reference = try API.string(body, "beneficiary_reference_id", pattern: "^[0-9]{14}$", maxLength: 14)
        let doseNumber = try API.int(body, "dose")
        guard let dose = Dose(rawValue: doseNumber) else { throw APIError.badRequest("dose must be 1 or 2") }
        let now = self.now
        // The same answer for an unknown person and for one whose appointment is at another
        // centre: a staff key learns nothing about people outside its centres.
        guard let live = store.liveAppointment(reference: reference, dose: dose, now: now),
              partner.centers?.contains(store.published.centers[live.session.center].id) ?? true else {
            throw APIError(400, "APPOIN0048", "the beneficiary has no appointment or walk-in for dose \(doseNumber) at this key's centres now")
        }
        // The appointment and its session as checked: a reschedule that moves it to another
        // centre before the record is applied voids the record (it keeps the number).
        switch await commit(make(reference, doseNumber, now, live.number, live.session.id), kind) {
        case .success(let appointment): return API.json(["appointment_id": appointment, "status": kind])
        case .failure(let error): throw error
        }
    }

    /// A checkin key acts for its centres only.
    func checkCentre(_ partner: Partner, _ center: Int) throws {
        let id = store.published.centers[center].id
        guard partner.centers?.contains(id) ?? true else {
            throw APIError(403, "USRAUT0013", "this API key does not act for centre \(id)")
        }
    }
}
