/// A seeded random stream: xoshiro256** (Blackman and Vigna, "Scrambled Linear
/// Pseudorandom Number Generators", ACM TOMS 2021), 256 bits of state, period 2^256 − 1.
///
/// Streams are split by *name*, not by order of use: the stream of process `p` in
/// replication `r` of a run with seed `s` is seeded by SplitMix64 from a hash of
/// (s, r, p). So two policies run on the same seed see the same arrivals, service times
/// and behaviour draws for the same process — common random numbers — and a replication's
/// draws do not depend on which thread runs it or how many other replications there are.
///
/// ```swift
/// var service = RandomStream(seed: 2021, replication: 0, stream: .service)
/// let minutes = service.exponential(mean: 1.0)
/// ```
public struct RandomStream: RandomNumberGenerator, Sendable {
    /// The processes of a simulation that draw random numbers, one stream each.
    public struct Name: Hashable, Sendable {
        public let rawValue: UInt64
        public init(_ rawValue: UInt64) { self.rawValue = rawValue }
        public static let arrivals = Name(1)
        public static let service = Name(2)
        public static let behaviour = Name(3)
        public static let attendance = Name(4)
        public static let walking = Name(5)
        public static let registration = Name(6)
        public static let supply = Name(7)
    }

    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64, replication: Int, stream: Name) {
        var mixer = seed ^ 0x6A09_E667_F3BC_C908
        mixer = Self.splitMix(&mixer) ^ UInt64(truncatingIfNeeded: replication) &* 0x9E37_79B9_7F4A_7C15
        mixer = Self.splitMix(&mixer) ^ stream.rawValue &* 0xD1B5_4A32_D192_ED03
        s0 = Self.splitMix(&mixer)
        s1 = Self.splitMix(&mixer)
        s2 = Self.splitMix(&mixer)
        s3 = Self.splitMix(&mixer)
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the all-zero state is the one state xoshiro cannot leave
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): spreads a seed over the state.
    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform number in (0, 1), never exactly 0 (so `log` is finite) nor 1: 52 random bits
    /// plus one half, which a `Double` holds exactly.
    @inline(__always)
    public mutating func uniform() -> Double {
        (Double(next() >> 12) + 0.5) * 0x1.0p-52
    }

    /// An exponential variate with the given mean (inverse transform).
    @inline(__always)
    public mutating func exponential(mean: Double) -> Double {
        -mean * Double.log(uniform())
    }

    /// A standard normal variate (Box–Muller; the second value is dropped to keep the state a plain value).
    public mutating func standardNormal() -> Double {
        let u = uniform(), v = uniform()
        return (-2 * Double.log(u)).squareRoot() * Double.cos(2 * .pi * v)
    }

    /// Bernoulli: true with probability `p`.
    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }
}
