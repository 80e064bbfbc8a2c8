import Foundation

/// `log`, `exp`, `cos` for `Double` from the C library, named as methods so the rest of the
/// module reads without a platform import.
extension Double {
    @inline(__always) static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Foundation.cos(x) }
}
