/// Runs a clinic day on the event engine.
///
/// Back of the envelope: a mass-vaccination site sees a few thousand people a day; a
/// validation or benchmark run, a million. Per person in the building: two integers and
/// a queue slot; pending events are at most one arrival plus one per busy server and per
/// person walking, so the agenda stays small whatever the day's total.
public struct ClinicSimulation: Sendable {
    enum Event: Sendable {
        case arrival
        case reach(person: Int32, stage: Int32)
        case done(person: Int32, stage: Int32)
    }

    public let configuration: ClinicConfiguration

    public init(_ configuration: ClinicConfiguration) throws(ConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Simulates one day with the streams of (`seed`, `replication`).
    /// - Complexity: O(events × log pending events).
    public func run(seed: UInt64, replication: Int) throws(SimulationError) -> ClinicResult {
        var state = State(configuration, seed: seed, replication: replication)
        return try state.run()
    }

    /// One day with the given arrival times (seconds of the day, any order) instead of the
    /// configured arrivals: the campaign sends its appointments and walk-ins this way. The
    /// streams are those of `replication`; the recorders come back whole so days can be merged.
    func runDay(arrivalSeconds: [Int], seed: UInt64, replication: Int) throws(SimulationError) -> (waits: [WaitRecorder], timeInClinic: WaitRecorder) {
        var state = State(configuration, seed: seed, replication: replication)
        state.scheduled = arrivalSeconds.sorted()
        _ = try state.run()
        return (state.waits, state.timeInClinic)
    }

    struct State {
        let stages: [ClinicStage]
        let staff: [Int]
        let configuration: ClinicConfiguration
        var agenda = EventQueue<Event>()
        var arrivalsStream: RandomStream
        var serviceStream: RandomStream
        var walkingStream: RandomStream
        /// Appointment arrival times (sorted), for `.blocks`; consumed from `nextScheduled`.
        var scheduled: [Int] = []
        var nextScheduled = 0
        var arrivals = 0
        var arrivedAfterClosing = 0
        /// Poisson arrivals accumulate their gaps in continuous time and are rounded to the tick
        /// only when scheduled: rounding each gap instead would drift the rate (≈ 4 % at 1/s).
        var arrivalClock = 0.0
        // People in the building, in reusable slots.
        var enteredAt: [Int] = []
        var queuedAt: [Int] = []
        var freeSlots: [Int32] = []
        // Stages.
        var busy: [Int]
        var queues: [RingQueue]
        var waits: [WaitRecorder]
        var timeInClinic = WaitRecorder()
        var served = 0
        var lastDeparture = 0

        init(_ configuration: ClinicConfiguration, seed: UInt64, replication: Int) {
            self.configuration = configuration
            stages = configuration.stages
            staff = configuration.stages.map(\.staff)
            arrivalsStream = RandomStream(seed: seed, replication: replication, stream: .arrivals)
            serviceStream = RandomStream(seed: seed, replication: replication, stream: .service)
            walkingStream = RandomStream(seed: seed, replication: replication, stream: .walking)
            busy = [Int](repeating: 0, count: stages.count)
            queues = stages.map { _ in RingQueue() }
            waits = stages.map { _ in WaitRecorder() }
        }

        mutating func run() throws(SimulationError) -> ClinicResult {
            if case let .blocks(starts, perBlock, offsetMean, offsetSD) = configuration.arrivals {
                for start in starts {
                    for _ in 0..<perBlock {
                        let offset = offsetMean + offsetSD * arrivalsStream.standardNormal()
                        scheduled.append(max(configuration.openSecond, start + Int(offset.rounded())))
                    }
                }
                scheduled.sort()
            }
            arrivalClock = Double(configuration.openSecond)
            try scheduleNextArrival(after: configuration.openSecond)
            while let (now, event) = agenda.next() {
                switch event {
                case .arrival: try arrive(now)
                case let .reach(person, stage): try reach(Int(person), Int(stage), now)
                case let .done(person, stage): try finish(Int(person), Int(stage), now)
                }
            }
            return ClinicResult(arrivals: arrivals, arrivedAfterClosing: arrivedAfterClosing, served: served, waits: waits.map(\.summary),
                                timeInClinic: timeInClinic.summary, lastDepartureSecond: lastDeparture)
        }

        /// Lazily: exactly one arrival is pending at any time.
        mutating func scheduleNextArrival(after now: Int) throws(SimulationError) {
            if let limit = configuration.arrivalsMax, arrivals >= limit { return }
            let at: Int
            switch configuration.arrivals {
            case let .poisson(perHour):
                arrivalClock += arrivalsStream.exponential(mean: 3600 / perHour)
                at = max(now, seconds(arrivalClock))
            case .blocks:
                guard nextScheduled < scheduled.count else { return }
                at = scheduled[nextScheduled]
                nextScheduled += 1
            }
            guard at < configuration.closeSecond else {
                if case .blocks = configuration.arrivals { arrivedAfterClosing = scheduled.count - nextScheduled + 1 }
                return
            }
            try schedule(.arrival, at: at)
        }

        mutating func arrive(_ now: Int) throws(SimulationError) {
            arrivals += 1
            let person: Int
            if let slot = freeSlots.popLast() {
                person = Int(slot)
                enteredAt[person] = now
            } else {
                person = enteredAt.count
                enteredAt.append(now)
                queuedAt.append(0)
            }
            try walk(person, to: 0, now)
            try scheduleNextArrival(after: now)
        }

        mutating func walk(_ person: Int, to stage: Int, _ now: Int) throws(SimulationError) {
            if let walk = stages[stage].walk {
                try schedule(.reach(person: Int32(person), stage: Int32(stage)), at: now + seconds(walk.sample(&walkingStream)))
            } else {
                try reach(person, stage, now)
            }
        }

        mutating func reach(_ person: Int, _ stage: Int, _ now: Int) throws(SimulationError) {
            if busy[stage] < staff[stage] {
                busy[stage] += 1
                waits[stage].record(0)
                try startService(person, stage, now)
            } else {
                guard queues[stage].count < configuration.queueLengthMax else {
                    throw .queueLimitExceeded(stage: stages[stage].name, limit: configuration.queueLengthMax)
                }
                queuedAt[person] = now
                queues[stage].push(Int32(person))
            }
        }

        mutating func startService(_ person: Int, _ stage: Int, _ now: Int) throws(SimulationError) {
            let duration = seconds(stages[stage].service.sample(&serviceStream))
            try schedule(.done(person: Int32(person), stage: Int32(stage)), at: now + duration)
        }

        mutating func finish(_ person: Int, _ stage: Int, _ now: Int) throws(SimulationError) {
            if let next = queues[stage].pop() {
                waits[stage].record(now - queuedAt[Int(next)])
                try startService(Int(next), stage, now)
            } else {
                busy[stage] -= 1
            }
            if stage + 1 < stages.count {
                try walk(person, to: stage + 1, now)
            } else {
                served += 1
                timeInClinic.record(now - enteredAt[person])
                lastDeparture = now
                freeSlots.append(Int32(person))
            }
        }

        @inline(__always)
        mutating func schedule(_ event: Event, at time: Int) throws(SimulationError) {
            guard agenda.schedule(event, at: time) else { throw .eventLimitExceeded(limit: agenda.pendingMax) }
        }

        /// Durations are drawn in seconds and rounded to the 1-second tick (half up; they are
        /// never negative, so adding one half and truncating is exact and avoids a libm call).
        @inline(__always)
        func seconds(_ x: Double) -> Int { Int(x + 0.5) }
    }
}

/// A FIFO queue of people (slot numbers) in a growable ring buffer.
struct RingQueue: Sendable {
    private var items = [Int32](repeating: 0, count: 16)
    private var head = 0
    private(set) var count = 0

    @inline(__always)
    mutating func push(_ x: Int32) {
        if count == items.count {
            items = Array(items[head...] + items[..<head]) + [Int32](repeating: 0, count: items.count)
            head = 0
        }
        items[(head + count) & (items.count - 1)] = x
        count += 1
    }

    @inline(__always)
    mutating func pop() -> Int32? {
        guard count > 0 else { return nil }
        let x = items[head]
        head = (head + 1) & (items.count - 1)
        count -= 1
        return x
    }
}
