@preconcurrency import Crypto
import Foundation

/// Personal data at rest: names and photo-id numbers are sealed with AES-GCM (256-bit key);
/// a mobile is kept only as its keyed hash (HMAC-SHA256 with a key derived from the same
/// secret), which is how accounts are looked up, so the data directory never holds a mobile
/// number, in the clear or sealed.
struct Vault: @unchecked Sendable {
    // @unchecked: SymmetricKey is an immutable value (its storage is never written after init).
    let sealKey: SymmetricKey
    let lookupKey: SymmetricKey
    /// Seals bearer tokens (a key of their own: a token never opens personal data).
    let tokenKey: SymmetricKey
    /// Keys the hashes of one-time codes (see ``codeHash(_:)``).
    let codeKey: SymmetricKey
    /// Keys the fingerprints of keyed requests (see ``requestFingerprint(_:)``).
    let requestKey: SymmetricKey

    /// From 32 bytes of secret (a key file or the environment).
    init(secret: Data) throws(ServiceError) {
        guard secret.count >= 32 else { throw .configuration("the data key must have at least 32 bytes, found \(secret.count)") }
        let master = SymmetricKey(data: secret)
        sealKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim seal".utf8), outputByteCount: 32)
        lookupKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim lookup".utf8), outputByteCount: 32)
        tokenKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim bearer tokens".utf8), outputByteCount: 32)
        codeKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim one-time codes".utf8), outputByteCount: 32)
        requestKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim request fingerprints".utf8), outputByteCount: 32)
    }

    /// What a request under an Idempotency-Key asked for, as a keyed hash (hex) of its fields: it
    /// tells a retry from a different request without keeping names or photo ids in the clear.
    func requestFingerprint(_ fields: [String]) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(fields.joined(separator: "\u{1F}").utf8), using: requestKey))
    }

    /// What is kept of a one-time code: a keyed hash of its SHA-256 (hex, as the client sends
    /// it), so that a copy of the OTP ledger does not give the codes away.
    func codeHash(_ sha256Hex: String) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(sha256Hex.lowercased().utf8), using: codeKey))
    }

    func seal(_ text: String) throws(ServiceError) -> Data {
        do {
            guard let combined = try AES.GCM.seal(Data(text.utf8), using: sealKey).combined else { throw ServiceError.internalFailure("seal") }
            return combined
        } catch {
            throw .internalFailure("sealing personal data: \(error)")
        }
    }

    func open(_ sealed: Data) throws(ServiceError) -> String {
        do {
            let data = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: sealKey)
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .internalFailure("opening personal data (wrong data key?): \(error)")
        }
    }

    /// The lookup key of a mobile number (hex).
    func lookup(mobile: String) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(mobile.utf8), using: lookupKey))
    }

    static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    static func randomHex(bytes: Int) -> String {
        hex(randomBytes(bytes))
    }

    /// `count` random bytes from the system's generator, 8 per call of it (each call is a system call).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            let word = generator.next()
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * k))) }
        }
        return Array(bytes.prefix(count))
    }

    /// Lower-case hex of `bytes`.
    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { appendHex(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of lower-case hex text of at most 2,048 digits, or nil. Upper case is
    /// refused: a bearer token read with it has one spelling, so the per-token limit, keyed
    /// by the text, cannot be dodged by changing the case of a digit.
    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, digits.count <= 2048 else { return nil }
        func value(_ d: UInt8) -> UInt8? {
            switch d {
            case 48...57: d - 48
            case 97...102: d - 87
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var k = 0
        while k < digits.count {
            guard let high = value(digits[k]), let low = value(digits[k + 1]) else { return nil }
            out.append(high << 4 | low)
            k += 2
        }
        return out
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 15)])
    }

    /// A random version-4 UUID in lower case, for appointment numbers and OTP transactions.
    /// From the system's generator (`getrandom`), not `UUID()`, which on Linux opened and
    /// read `/dev/urandom` for every id (its `open` alone was 2.7 % of a booking's CPU in a profile).
    static func randomUUID() -> String {
        var bytes = randomBytes(16)
        bytes[6] = bytes[6] & 0x0f | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3f | 0x80  // variant 10xx
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (n, byte) in bytes.enumerated() {
            if n == 4 || n == 6 || n == 8 || n == 10 { out.append(UInt8(ascii: "-")) }
            appendHex(byte, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why the service cannot start or go on.
public enum ServiceError: Error, CustomStringConvertible, Sendable {
    case configuration(String)
    case journal(String)
    case internalFailure(String)

    public var description: String {
        switch self {
        case let .configuration(what): "configuration: \(what)"
        case let .journal(what): "journal: \(what)"
        case let .internalFailure(what): "internal: \(what)"
        }
    }
}
