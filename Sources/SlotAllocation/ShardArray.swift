import Synchronization

/// A fixed number of `Mutex`-guarded shards in raw memory, each on its own 128-byte-aligned
/// slot.
///
/// Why not an `Array` of objects: reading an element would retain and release an object
/// that every thread shares. Why the padding: two threads locking neighbouring shards must
/// not write the same cache line (nor the adjacent line the prefetcher pulls in with it);
/// packed mutexes made two threads on different districts barely faster than one.
struct ShardArray<Value: ~Copyable>: ~Copyable {
    private let base: UnsafeMutableRawPointer
    private let stride: Int
    let count: Int

    init(count: Int, _ make: (Int) -> Value) {
        precondition(count > 0)
        stride = (MemoryLayout<Mutex<Value>>.stride + 127) / 128 * 128
        base = .allocate(byteCount: stride * count, alignment: 128)
        self.count = count
        for i in 0..<count {
            (base + i * stride).bindMemory(to: Mutex<Value>.self, capacity: 1).initialize(to: Mutex(make(i)))
        }
    }

    deinit {
        for i in 0..<count {
            (base + i * stride).assumingMemoryBound(to: Mutex<Value>.self).deinitialize(count: 1)
        }
        base.deallocate()
    }

    subscript(i: Int) -> Mutex<Value> {
        unsafeAddress {
            precondition(i >= 0 && i < count, "shard out of range")
            return UnsafePointer((base + i * stride).assumingMemoryBound(to: Mutex<Value>.self))
        }
    }
}

// Every shard is behind its mutex; the memory itself is written only by `init` and `deinit`.
extension ShardArray: @unchecked Sendable where Value: Sendable {}

extension ShardArray where Value: ~Copyable & Sendable {
    /// Runs `body` with the shards `shards` (ascending and distinct, so that every caller locks
    /// in one order) locked, each given in `locked` as a pointer that is valid only during `body`.
    func locking<R: Sendable>(_ shards: ArraySlice<Int>, _ locked: inout [Int: UnsafeMutablePointer<Value>],
                              _ body: (inout [Int: UnsafeMutablePointer<Value>]) -> R) -> R {
        guard let shard = shards.first else { return body(&locked) }
        return self[shard].withLock { value in
            withUnsafeMutablePointer(to: &value) { pointer in
                locked[shard] = pointer
                return locking(shards.dropFirst(), &locked, body)
            }
        }
    }
}
