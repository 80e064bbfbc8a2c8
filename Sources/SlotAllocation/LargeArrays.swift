#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Arrays of hundreds of megabytes (a 10M batch makes about a gigabyte of them), created
/// so that the kernel may back them with 2 MB pages.
///
/// Touching fresh memory faults once per 4 KB page: a 10M deferred acceptance took about
/// 250,000 faults, and the kernel's share of its time was a fifth. Linux with transparent
/// huge pages in `madvise` mode (Debian's default) backs an advised range with 2 MB pages,
/// one fault each. The advice must come before the first touch, so these arrays are made
/// uninitialised, advised, then written. Elsewhere (other systems, THP off) the advice is
/// a no-op and the arrays are plain. `madvise` is the module's one call outside the
/// standard library (and `Synchronization`): the C library's, under `#if`, because no
/// standard-library API gives it.
enum LargeArrays {
    /// Below this many bytes the advice is not worth a system call.
    static let adviceBytesMin = 8 << 20

    /// `n` values that the caller writes in full before reading any.
    @inline(__always)
    static func uninitialized<T: BitwiseCopyable>(_: T.Type, _ n: Int) -> [T] {
        [T](unsafeUninitializedCapacity: n) { buffer, count in
            advise(UnsafeMutableRawBufferPointer(buffer))
            count = n
        }
    }

    /// `n` copies of `value`.
    @inline(__always)
    static func repeating<T: BitwiseCopyable>(_ value: T, count n: Int) -> [T] {
        [T](unsafeUninitializedCapacity: n) { buffer, count in
            advise(UnsafeMutableRawBufferPointer(buffer))
            buffer.initialize(repeating: value)
            count = n
        }
    }

    /// Asks for 2 MB pages on the whole 2 MB pages inside `memory`.
    static func advise(_ memory: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        let huge = 2 << 20
        guard memory.count >= adviceBytesMin, let base = memory.baseAddress else { return }
        let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: base) + memory.count) & ~(huge - 1)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)  // advice: failure changes nothing
        #endif
    }
}
