import Dispatch

/// Runs replications of a model on several threads. Each replication draws only from its
/// own streams (seed, replication number), and results are stored by replication number,
/// so the outcome is bit-for-bit the same whatever the number of threads.
///
/// ```swift
/// let results = try Replications.run(count: 10, threads: 2) { r in try simulation.run(seed: 7, replication: r) }
/// ```
public enum Replications {
    public static let countMax = 10_000

    /// `body(r)` for r in 0..<count, on up to `threads` threads; the results in replication order.
    /// The first error (by replication number) is thrown.
    public static func run<Result: Sendable, Failure: Error>(
        count: Int, threads: Int, _ body: @Sendable (Int) throws(Failure) -> Result
    ) throws(Failure) -> [Result] {
        precondition(count >= 0 && count <= countMax && threads >= 1)
        let slots = Slots<Swift.Result<Result, Failure>>(count: count)
        let workers = min(threads, max(count, 1))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            // Replications are dealt round-robin: worker w runs w, w + workers, ...
            for r in stride(from: worker, to: count, by: workers) {
                do throws(Failure) {
                    slots.store(r, .success(try body(r)))
                } catch {
                    slots.store(r, .failure(error))
                }
            }
        }
        return try slots.values().map { outcome throws(Failure) in try outcome.get() }
    }
}

/// One result slot per replication, each written by exactly one worker.
private final class Slots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: the buffer is allocated once and never moves; slot r is written once, by the one
    // worker that runs replication r, and read only after `concurrentPerform` has returned (which
    // orders those writes before the reads). No worker touches another's slot or the buffer itself.
    private let storage: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func store(_ r: Int, _ value: Value) { storage[r] = value }
    func values() -> [Value] { storage.map { $0! } }
}
