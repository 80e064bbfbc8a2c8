// batch-peer: writes the shared peer instance and solves it with BatchAllocator, so
// slotsim and the Python peers (Benchmarks/peers/) solve the same file.
//
//   batch-peer generate R S K CAP SEED OUT    write an instance (format: peers/README.md)
//   batch-peer solve INSTANCE [--assignment OUT] [--repeat N]
//   batch-peer reserve R S [REPEAT] [MECHANISM] time deferred acceptance (or MECHANISM: da, priority,
//                                              fcfs) on the AllocatorBenchmarks' two-category
//                                              instance (a quick A/B tool)
//   batch-peer online PEOPLE [REPEAT]          time 500,000 book + cancel pairs on the online benchmark's
//                                              world with its first PEOPLE people (a quick A/B and
//                                              profiling tool for the online path)
//
// `solve` runs registrant-proposing deferred acceptance with one category ranked by
// registrant index (the instance's global priority), times only `allocate` (best of
// N runs, CPU and wall) and prints one JSON line like the peers do.
import BenchmarkInstances
import Foundation
import SlotAllocation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("batch-peer: \(message)\n".utf8))
    exit(2)
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func generate(_ args: [String]) {
    guard args.count == 6, let r = Int(args[0]), let s = Int(args[1]), let k = Int(args[2]), let cap = Int(args[3]),
          let seed = UInt64(args[4]), r >= 0, s > 0, (0...s).contains(k), cap >= 0 else {
        fail("usage: batch-peer generate R S K CAP SEED OUT (R >= 0, S > 0, 0 <= K <= S, CAP >= 0)")
    }
    let instance = BatchInstance(registrants: r, sessions: s, preferences: k, capacity: cap, seed: seed)
    var text = "slotsim-batch-instance 1\n\(r) \(s) \(k)\n"
    text.reserveCapacity(r * k * 7)
    for _ in 0..<s { text += "\(cap)\n" }
    for i in 0..<r { text += instance.registrants.preferences(of: i).map(String.init).joined(separator: " ") + "\n" }
    guard FileManager.default.createFile(atPath: args[5], contents: Data(text.utf8)) else { fail("cannot write \(args[5])") }
}

/// Reads the instance; registrant `i` gets request time `i`, so "first come" is the global priority.
func read(_ path: String) -> (BatchSessions, BatchRegistrants) {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
    guard lines.next() == "slotsim-batch-instance 1" else { fail("\(path):1: expected the header 'slotsim-batch-instance 1'") }
    let header = (lines.next() ?? "").split(separator: " ").compactMap { Int($0) }
    guard header.count == 3 else { fail("\(path):2: expected 'R S K'") }
    let (r, s) = (header[0], header[1])
    var sessions = BatchSessions()
    for line in 0..<s {
        guard let cap = lines.next().flatMap({ Int($0) }) else { fail("\(path):\(line + 3): expected a capacity") }
        sessions.append(district: 0, day: 1, vaccine: 0, minAge: 18, capacity: cap)
    }
    var registrants = BatchRegistrants()
    registrants.reserveCapacity(registrants: r, preferences: r * header[2])
    for i in 0..<r {
        guard let line = lines.next() else { fail("\(path):\(s + i + 3): expected registrant \(i)'s preferences") }
        let prefs = line.split(separator: " ").map { field -> Int in
            guard let value = Int(field) else { fail("\(path):\(s + i + 3): '\(field)' is not a session index") }
            return value
        }
        registrants.append(birthYear: 1990, requestTime: i, preferences: prefs)
    }
    return (sessions, registrants)
}

func solve(_ args: [String]) throws {
    guard let path = args.first else { fail("usage: batch-peer solve INSTANCE [--assignment OUT] [--repeat N]") }
    var assignmentPath: String?, repeats = 5
    var rest = args.dropFirst().makeIterator()
    while let flag = rest.next() {
        switch flag {
        case "--assignment": assignmentPath = rest.next()
        case "--repeat": repeats = rest.next().flatMap { Int($0) } ?? 0
        default: fail("unknown option \(flag)")
        }
    }
    guard repeats > 0 else { fail("--repeat needs a positive number") }
    let (sessions, registrants) = read(path)
    let allocator = try BatchAllocator(policy: AllocationPolicy(categories: [CapacityCategory(name: "open")]))
    var best = (cpu: Double.infinity, wall: Double.infinity)
    var result: BatchResult?
    for _ in 0..<repeats {
        let cpu0 = cpuSeconds(), wall0 = ContinuousClock.now
        result = try allocator.allocate(sessions: sessions, registrants: registrants,
                                        mechanism: .deferredAcceptance(lotterySeed: 0), now: 0)
        let wall = ContinuousClock.now - wall0
        best.cpu = min(best.cpu, cpuSeconds() - cpu0)
        best.wall = min(best.wall, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
    }
    let assignment = result!
    if let assignmentPath {
        let text = assignment.session.map { "\($0)\n" }.joined()
        guard FileManager.default.createFile(atPath: assignmentPath, contents: Data(text.utf8)) else { fail("cannot write \(assignmentPath)") }
    }
    print("{\"peer\":\"slotsim-deferred-acceptance\",\"registrants\":\(registrants.count),\"sessions\":\(sessions.count),"
        + "\"assigned\":\(assignment.assignedCount),\"solve_cpu_s\":\(best.cpu),\"solve_wall_s\":\(best.wall),\"repeats\":\(repeats)}")
}

/// Deferred acceptance with the 60+ reserve on R registrants and S sessions of 100: median and best wall time.
func reserve(_ args: [String]) throws {
    guard args.count >= 2, let r = Int(args[0]), let s = Int(args[1]), r > 0, s > 0 else { fail("usage: batch-peer reserve R S [REPEAT] [da|priority|fcfs]") }
    let repeats = args.count > 2 ? Int(args[2]) ?? 3 : 3
    let mechanisms: [String: BatchMechanism] = ["da": .deferredAcceptance(lotterySeed: 1), "priority": .priority, "fcfs": .firstComeFirstServed]
    guard let mechanism = mechanisms[args.count > 3 ? args[3] : "da"] else { fail("MECHANISM is da, priority or fcfs") }
    let instance = BatchInstance(registrants: r, sessions: s, preferences: 5, capacity: 100, seed: 10)
    let allocator = try BatchAllocator(policy: BatchInstance.reservePolicy)
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let start = ContinuousClock.now
        let result = try allocator.allocate(sessions: instance.sessions, registrants: instance.registrants,
                                            mechanism: mechanism, now: 0)
        let elapsed = ContinuousClock.now - start
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        precondition(result.assignedCount > 0)
    }
    let inOrder = times.map { String(format: "%.3f", $0) }.joined(separator: ",")
    times.sort()
    print("{\"registrants\":\(r),\"sessions\":\(s),\"median_s\":\(times[times.count / 2]),\"best_s\":\(times[0]),\"in_order_s\":[\(inOrder)]}")
}

/// The AllocatorBenchmarks' one-thread online benchmark: median and best wall time of 1M requests.
func online(_ args: [String]) {
    guard let people = args.first.flatMap({ Int($0) }), (1...1_000_000).contains(people) else { fail("usage: batch-peer online PEOPLE [REPEAT] (PEOPLE 1...1000000)") }
    let repeats = args.count > 1 ? Int(args[1]) ?? 15 : 15
    let world = OnlineWorld()
    let who = Array(world.people.prefix(people))
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let start = ContinuousClock.now
        let succeeded = world.bookAndCancel(pairs: 500_000, people: who, sessions: world.sessions)
        let elapsed = ContinuousClock.now - start
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        guard succeeded == 1_000_000 else { fail("only \(succeeded) of the 1,000,000 requests succeeded") }
    }
    times.sort()
    let median = times[times.count / 2]
    print("{\"people\":\(people),\"requests\":1000000,\"median_ms\":\(median * 1e3),\"best_ms\":\(times[0] * 1e3),\"median_requests_per_s\":\(Int(1e6 / median))}")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "generate": generate(Array(arguments.dropFirst()))
case "solve": try solve(Array(arguments.dropFirst()))
case "reserve": try reserve(Array(arguments.dropFirst()))
case "online": online(Array(arguments.dropFirst()))
default: fail("usage: batch-peer generate R S K CAP SEED OUT | solve INSTANCE [--assignment OUT] [--repeat N] | reserve R S [REPEAT] [da|priority|fcfs] | online PEOPLE [REPEAT]")
}
