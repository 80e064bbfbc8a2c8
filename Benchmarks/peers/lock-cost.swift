// What one uncontended lock and unlock costs on this machine: `Synchronization.Mutex` (what
// every engine shard uses) against a spin lock whose unlock is a plain release store.
//
//   swiftc -O Benchmarks/peers/lock-cost.swift -o /tmp/lock-cost && /tmp/lock-cost
//
// Prints nanoseconds per lock + unlock, three rounds of 20M each.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class SpinLocked: @unchecked Sendable {
    let state = Atomic<UInt32>(0)
    var value = 0
    @inline(__always) func withLock<R>(_ body: (inout Int) -> R) -> R {
        while !state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { sched_yield() }
        defer { state.store(0, ordering: .releasing) }
        return body(&value)
    }
}

func seconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

let mutex = Mutex<Int>(0)
let spin = SpinLocked()
let n = 20_000_000
for _ in 0..<3 {
    var start = seconds()
    for i in 0..<n { mutex.withLock { $0 &+= i } }
    let mutexNs = (seconds() - start) / Double(n) * 1e9
    start = seconds()
    for i in 0..<n { spin.withLock { $0 &+= i } }
    let spinNs = (seconds() - start) / Double(n) * 1e9
    // The sums are printed so the loops cannot be optimised away.
    print("mutex \((mutexNs * 10).rounded() / 10) ns, spin \((spinNs * 10).rounded() / 10) ns per lock + unlock (sums \(mutex.withLock { $0 } & 0xff), \(spin.value & 0xff))")
}
