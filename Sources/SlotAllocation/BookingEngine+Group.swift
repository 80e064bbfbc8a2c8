/// Requests on several beneficiaries at once, all or none.
extension BookingEngine {
    /// Moves several bookings (a family's, booked together) to one session and slot, all or
    /// none: every one moves, or nothing changes and the refusal of the first that could not
    /// move says why. Each moves as ``reschedule(_:to:slot:now:requestID:)`` would, in the
    /// order given.
    ///
    /// Undoing a partial move one booking at a time would not restore the engine exactly (a
    /// booking moved back takes the first category with room, which may not be the one it
    /// left). So the whole group is decided under its locks: every beneficiary shard involved,
    /// then every session shard involved, each in ascending order (as ``snapshot()`` does; a
    /// single request never waits for a beneficiary lock while holding a session lock, so no
    /// order of requests can deadlock).
    /// - Complexity: O(bookings × categories) plus a lock per shard involved.
    public func rescheduleTogether(_ ids: [AppointmentID], to session: SessionIndex, slot: Int,
                                   now: Int) -> Result<[Appointment], BookingRefusal> {
        guard (-CompiledPolicy.timeLimit...CompiledPolicy.timeLimit).contains(now) else { return .failure(.timeOutOfRange(now)) }
        guard Set(ids.map(\.beneficiary)).count == ids.count else { return .failure(.duplicateRequest) }
        let targetShard = Int(session.rawValue) & sessionShardMask, target = Int(session.rawValue >> sessionShardBits)
        let k = policy.categoryCount
        var registries: [Int: UnsafeMutablePointer<BeneficiaryRegistry>] = [:]
        return beneficiaryShards.locking(Set(ids.map { locate($0.beneficiary).shard }).sorted()[...], &registries) { registries in
            var olds: [BeneficiaryRegistry.Live] = []
            for id in ids {
                let (shard, local) = locate(id.beneficiary)
                guard let registry = registries[shard], registry.pointee.isRegistered(local) else {
                    return .failure(.unknownBeneficiary(id.beneficiary))
                }
                let old = registry.pointee[live: local * 2 + id.dose.offset]
                if let refusal = liveRefusal(old, id, allowed: LiveState.booked.bit) { return .failure(refusal) }
                olds.append(old)
            }
            let shards = Set(olds.map { Int($0.session) & sessionShardMask } + [targetShard]).sorted()
            var inventories: [Int: UnsafeMutablePointer<SessionInventory>] = [:]
            return sessionShards.locking(shards[...], &inventories) { inventories in
                guard let inventory = inventories[targetShard], target < inventory.pointee.count else {
                    return .failure(.unknownSession(session))
                }
                // Take a unit of the new session for each booking that changes session.
                var categories: [Int] = []
                for (id, old) in zip(ids, olds) {
                    let (shard, local) = locate(id.beneficiary)
                    let person = registries[shard]!.pointee.applicant(local, dose: id.dose, policy: policy)
                    var outcome: Result<Int, BookingRefusal> = .success(Int(old.category))  // same session: only the slot changes
                    if let refusal = onlineRefusal(inventory.pointee, target, slot, person, now: now) {
                        outcome = .failure(refusal)
                    } else if old.session != session.rawValue {
                        outcome = inventory.pointee.takeOnline(target, person, now: now, policy: policy, hold: nil)
                    }
                    switch outcome {
                    case .success(let category): categories.append(category)
                    case .failure(let refusal):
                        // Give back what the group took; nothing else ran meanwhile.
                        for (j, category) in categories.enumerated() where olds[j].session != session.rawValue {
                            inventory.pointee.counters[target * k + category].booked -= 1
                        }
                        return .failure(refusal)
                    }
                }
                // Every booking moves: release the old units and write the new records.
                var moved: [Appointment] = []
                for (j, id) in ids.enumerated() {
                    let old = olds[j]
                    if old.session != session.rawValue {
                        let oldShard = Int(old.session) & sessionShardMask, i = Int(old.session >> sessionShardBits) * k + Int(old.category)
                        inventories[oldShard]!.pointee.counters[i].booked -= 1
                        assert(inventories[oldShard]!.pointee.counters[i].isConsistent)
                    }
                    let (shard, local) = locate(id.beneficiary)
                    let record = BeneficiaryRegistry.Live(session: session.rawValue, serial: nextSerial(old), state: .booked,
                                                          category: UInt8(categories[j]), slot: UInt8(slot))
                    registries[shard]!.pointee[live: local * 2 + id.dose.offset] = record
                    moved.append(appointment(record, id.beneficiary, id.dose, state: .booked))
                }
                return .success(moved)
            }
        }
    }
}
