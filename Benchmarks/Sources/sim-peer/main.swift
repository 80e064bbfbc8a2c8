// sim-peer: the M/M/c clinic that Benchmarks/peers/simpy_mmc.py runs in SimPy, on slotsim's
// event engine and clinic model (the ones planners' scenarios use), for the side-by-side.
//
//   sim-peer [--customers N] [--servers C] [--arrival-rate L] [--service-rate M] [--seed S] [--repeat R]
//
// Rates per minute. Times only the simulation run (best of R), prints one JSON line.
import DemandSimulation
import Foundation

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sim-peer: \(message)\n".utf8))
    exit(2)
}

var customers = 1_000_000, servers = 10, lambda = 9.0, mu = 1.0, seed: UInt64 = 1, repeats = 3
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { fail("\(flag) needs a value") }
    switch flag {
    case "--customers": customers = Int(value) ?? -1
    case "--servers": servers = Int(value) ?? -1
    case "--arrival-rate": lambda = Double(value) ?? -1
    case "--service-rate": mu = Double(value) ?? -1
    case "--seed": seed = UInt64(value) ?? 0
    case "--repeat": repeats = Int(value) ?? -1
    default: fail("unknown option \(flag)")
    }
}
guard customers > 0, servers > 0, lambda > 0, mu > 0, repeats > 0 else { fail("every option needs a positive value") }

let clinic = ClinicConfiguration(
    stages: [ClinicStage(name: "vaccination", staff: servers, service: .exponential(mean: 60 / mu))],
    arrivals: .poisson(perHour: lambda * 60), openSecond: 0, closeSecond: 366 * 86_400, arrivalsMax: customers,
    queueLengthMax: 10_000_000)
let simulation: ClinicSimulation
do { simulation = try ClinicSimulation(clinic) } catch { fail("\(error)") }
var best = (cpu: Double.infinity, wall: Double.infinity)
var result: ClinicResult?
for _ in 0..<repeats {
    let cpu0 = cpuSeconds(), wall0 = ContinuousClock.now
    do { result = try simulation.run(seed: seed, replication: 0) } catch { fail("\(error)") }
    let wall = ContinuousClock.now - wall0
    best.cpu = min(best.cpu, cpuSeconds() - cpu0)
    best.wall = min(best.wall, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
}
guard result!.served == customers else {
    fail("only \(result!.served) of \(customers) customers were served within the simulated year; lower --customers or raise --arrival-rate")
}
let waits = result!.waits[0]
print("{\"peer\":\"slotsim-clinic\",\"customers\":\(result!.served),\"servers\":\(servers),\"mean_wait_min\":\(waits.meanSeconds / 60),"
    + "\"p_wait\":\(waits.waitedShare),\"cpu_s\":\(best.cpu),\"wall_s\":\(best.wall),\"customers_per_cpu_s\":\(Double(result!.served) / best.cpu),\"repeats\":\(repeats)}")
