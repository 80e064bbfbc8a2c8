@preconcurrency import Crypto
import Foundation

/// Personal data at rest: names, mobiles and photo-id numbers are sealed with AES-GCM
/// (256-bit key); mobiles are looked up by a keyed hash (HMAC-SHA256 with a key derived
/// from the same secret), so the data directory never holds a mobile number in the clear.
struct Vault: @unchecked Sendable {
    // @unchecked: SymmetricKey is an immutable value (its storage is never written after init).
    let sealKey: SymmetricKey
    let lookupKey: SymmetricKey

    /// From 32 bytes of secret (a key file or the environment).
    init(secret: Data) throws(ServiceError) {
        guard secret.count >= 32 else { throw .configuration("the data key must have at least 32 bytes, found \(secret.count)") }
        let master = SymmetricKey(data: secret)
        sealKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim seal".utf8), outputByteCount: 32)
        lookupKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("slotsim lookup".utf8), outputByteCount: 32)
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
        HMAC<SHA256>.authenticationCode(for: Data(mobile.utf8), using: lookupKey).map { String(format: "%02x", $0) }.joined()
    }

    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
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
