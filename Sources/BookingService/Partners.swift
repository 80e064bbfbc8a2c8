import Foundation
import Synchronization

/// What a partner's API key may do.
public enum PartnerScope: String, Codable, Sendable, CaseIterable {
    /// Public availability and locations, under the partner's quota instead of the per-address limit.
    case publicRead = "public"
    /// The partner OTP flow, and booking on behalf of a citizen who confirmed the OTP through it.
    case book
    /// Centre staff: walk-in check-in, vaccinated and no-show records at the partner's centres.
    case checkin
    /// Aggregate session reports (counts only, no personal data).
    case admin
}

/// A partner (a booking app, a centre's staff, an administrator) and its API key, stored as
/// the SHA-256 of the key: the server never holds a key it could leak.
public struct Partner: Codable, Sendable, Hashable {
    public var name: String
    /// SHA-256 of the API key, 64 lowercase hex digits.
    public var keySHA256: String
    public var scopes: [PartnerScope]
    /// Requests a minute across every use of the key.
    public var quotaPerMinute: Int
    /// `checkin` only: the centre ids the key may act for; nil only with `allCenters`.
    public var centers: [Int]?
    /// `checkin` only: the key acts for every centre (said explicitly, never a default).
    public var allCenters: Bool?

    public init(name: String, keySHA256: String, scopes: [PartnerScope], quotaPerMinute: Int, centers: [Int]? = nil, allCenters: Bool? = nil) {
        self.name = name
        self.keySHA256 = keySHA256
        self.scopes = scopes
        self.quotaPerMinute = quotaPerMinute
        self.centers = centers
        self.allCenters = allCenters
    }

    /// A new random API key and the partner entry that admits it.
    public static func generate(name: String, scopes: [PartnerScope], quotaPerMinute: Int, centers: [Int]? = nil,
                                allCenters: Bool? = nil) -> (key: String, partner: Partner) {
        let key = "sk_" + Vault.randomHex(bytes: 32)
        return (key, Partner(name: name, keySHA256: Vault.sha256Hex(key), scopes: scopes, quotaPerMinute: quotaPerMinute,
                             centers: centers, allCenters: allCenters))
    }
}

/// The partners file: `{"partners": [{"name": …, "keySHA256": …, "scopes": [...], "quotaPerMinute": …, "centers": [...]}]}`.
public struct PartnersFile: Codable, Sendable {
    public var partners: [Partner]
    public init(partners: [Partner]) { self.partners = partners }

    /// Reads and checks a partners file; errors name the file and the key path.
    public static func load(path: String) throws(ServiceError) -> [Partner] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .configuration("\(path): cannot read the partners file") }
        let file: PartnersFile
        do {
            file = try JSONDecoder().decode(PartnersFile.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw .configuration("\(path): \(keyPath(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .configuration("\(path): \(keyPath(context.codingPath + [key])): missing")
        } catch {
            throw .configuration("\(path): not a partners file: \(error)")
        }
        var names = Set<String>(), hashes = Set<String>()
        for (i, p) in file.partners.enumerated() {
            let at = "\(path): partners[\(i)]"
            // In bytes: the name is sealed into the partner's tokens, which hold at most 255.
            guard !p.name.isEmpty, p.name.utf8.count <= 64 else { throw .configuration("\(at).name: expected 1 to 64 bytes of UTF-8") }
            guard names.insert(p.name).inserted else { throw .configuration("\(at).name: \(p.name) is listed twice") }
            guard p.keySHA256.count == 64, p.keySHA256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw .configuration("\(at).keySHA256: expected 64 lowercase hex digits (slotsim partner-key prints them)")
            }
            guard hashes.insert(p.keySHA256).inserted else { throw .configuration("\(at).keySHA256: the same key is listed twice") }
            guard !p.scopes.isEmpty else { throw .configuration("\(at).scopes: expected at least one of public, book, checkin, admin") }
            guard (1...1_000_000).contains(p.quotaPerMinute) else { throw .configuration("\(at).quotaPerMinute: expected 1 to 1000000") }
            if p.scopes.contains(.checkin) {
                switch (p.centers, p.allCenters) {
                case (let list?, nil) where !list.isEmpty: break
                case (nil, true?): break
                default: throw .configuration("\(at).centers: a checkin key needs its centres (a non-empty list of center_id), or allCenters: true and no list")
                }
            } else if p.centers != nil || p.allCenters != nil {
                throw .configuration("\(at).centers: only a checkin key has centres")
            }
        }
        return file.partners
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}

/// Partners by key hash, each with a per-minute quota (counted by this instance, or shared by
/// every instance of a PostgreSQL store: ``QuotaLedger``).
final class PartnerRegistry: Sendable {
    let byKeyHash: [String: Partner]
    let quotas: any QuotaLedger

    init(_ partners: [Partner], quotas: any QuotaLedger = RateLimiter(limit: 1, window: 60)) {
        byKeyHash = Dictionary(partners.map { ($0.keySHA256, $0) }, uniquingKeysWith: { a, _ in a })
        self.quotas = quotas
    }

    /// The partner of an `x-api-key`, after counting the request against its quota.
    func admit(key: String, scope: PartnerScope) throws -> Partner {
        guard key.utf8.count <= 128, let partner = byKeyHash[Vault.sha256Hex(key)] else {
            throw APIError(401, "USRAUT0010", "the x-api-key is not a key of this server")
        }
        guard partner.scopes.contains(scope) else {
            throw APIError(403, "USRAUT0011", "this API key has no \(scope.rawValue) scope")
        }
        let (allowed, retry) = quotas.admit(partner.keySHA256, limit: partner.quotaPerMinute)
        guard allowed else { throw APIError(429, "USRRES0430", "this partner's quota of \(partner.quotaPerMinute) requests a minute is used up; retry after \(retry)") }
        return partner
    }
}
