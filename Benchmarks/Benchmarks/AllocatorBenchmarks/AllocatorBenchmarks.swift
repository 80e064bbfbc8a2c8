// The allocator's performance targets (issue: SlotAllocation), measured in release mode.
// Each benchmark's iteration is a fixed amount of work stated in its name; ops/s is
// that amount divided by the wall-clock time per iteration. Results: ../../RESULTS.md.
import Benchmark
import BenchmarkInstances
import Dispatch
import SlotAllocation

nonisolated(unsafe) var online: OnlineWorld?
nonisolated(unsafe) var batch10M: BatchInstance?
nonisolated(unsafe) var batch1M: BatchInstance?

var onlineConfiguration: Benchmark.Configuration {
    .init(metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 15)
}
var batchConfiguration: Benchmark.Configuration {
    .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident], timeUnits: .milliseconds, warmupIterations: 0,
          maxDuration: .seconds(20), maxIterations: 3)
}

let benchmarks: @Sendable () -> Void = {
    // 1,000 districts × 100 sessions = 100,000 sessions; 1,000,000 people.
    Benchmark("online book+cancel, 1 thread, 100k sessions, 1M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        blackHole(world.bookAndCancel(pairs: 500_000, people: world.people, sessions: world.sessions))
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    // The same with 100,000 people: their records (6.4 MB) fit the 32 MB L3, so this shows the
    // engine's own cost; the 1M-person case above is bound by memory latency (64 MB of records).
    Benchmark("online book+cancel, 1 thread, 100k sessions, 100k people, 1M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        blackHole(world.bookAndCancel(pairs: 500_000, people: Array(world.people.prefix(100_000)), sessions: world.sessions))
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    // 1,000 people: their records stay in L1/L2, so this is the engine's own CPU cost per request.
    Benchmark("online book+cancel, 1 thread, 100k sessions, 1k people, 1M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        blackHole(world.bookAndCancel(pairs: 500_000, people: Array(world.people.prefix(1_000)), sessions: world.sessions))
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    // Same work per thread, each thread on its own districts (and session shards) and its own people.
    Benchmark("online book+cancel, 2 threads on disjoint districts, 2M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            blackHole(world.bookAndCancel(pairs: 500_000, people: world.halves[half].people, sessions: world.halves[half].sessions))
        }
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    // The same with 1,000 people per thread (records in each core's own cache): the engine's scaling
    // without the memory system's, since both threads then share nothing that misses.
    Benchmark("online book+cancel, 2 threads on disjoint districts, 1k people each, 2M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            blackHole(world.bookAndCancel(pairs: 500_000, people: Array(world.halves[half].people.prefix(1_000)),
                                          sessions: world.halves[half].sessions))
        }
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    Benchmark("online book+cancel, 2 threads on one session, 2M requests", configuration: onlineConfiguration) { benchmark in
        let world = online!
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            blackHole(world.bookAndCancel(pairs: 500_000, people: world.halves[half].people, sessions: [world.sessions[0]]))
        }
    } setup: {
        if online == nil { online = OnlineWorld() }
    }

    for mechanism in [BatchMechanism.deferredAcceptance(lotterySeed: 1), .firstComeFirstServed, .priority] {
        Benchmark("batch \(mechanism), 10M registrants, 100k sessions × 100, 5 prefs, 2 categories",
                  configuration: batchConfiguration) { benchmark in
            let instance = batch10M!
            let allocator = try BatchAllocator(policy: BatchInstance.reservePolicy)
            benchmark.startMeasurement()
            let result = try allocator.allocate(sessions: instance.sessions, registrants: instance.registrants, mechanism: mechanism, now: 0)
            benchmark.stopMeasurement()
            blackHole(result.assignedCount)
        } setup: {
            if batch10M == nil {
                batch10M = BatchInstance(registrants: 10_000_000, sessions: 100_000, preferences: 5, capacity: 100, seed: 10)
            }
        }
    }

    Benchmark("batch deferredAcceptance, 1M registrants, 10k sessions × 100, 5 prefs, 2 categories",
              configuration: batchConfiguration) { benchmark in
        let instance = batch1M!
        let allocator = try BatchAllocator(policy: BatchInstance.reservePolicy)
        benchmark.startMeasurement()
        let result = try allocator.allocate(sessions: instance.sessions, registrants: instance.registrants,
                                            mechanism: .deferredAcceptance(lotterySeed: 1), now: 0)
        benchmark.stopMeasurement()
        blackHole(result.assignedCount)
    } setup: {
        if batch1M == nil {
            batch1M = BatchInstance(registrants: 1_000_000, sessions: 10_000, preferences: 5, capacity: 100, seed: 1)
        }
    }
}
