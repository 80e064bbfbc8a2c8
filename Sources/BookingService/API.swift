import Foundation
import Hummingbird
import HTTPTypes
import SlotAllocation

/// The CoWIN-style v2 API (documented in `docs/openapi.yaml`): public availability, OTP login,
/// beneficiaries, schedule and cancel.
enum API {
    static let ist = TimeZone(secondsFromGMT: 19_800)!

    static func json(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(object, &out)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    /// JSON for the values the handlers build (dictionaries with keys in byte order, arrays,
    /// strings, integers, doubles, booleans): Foundation's writer sorts keys with ICU collation,
    /// which made availability queries a hundred times slower.
    static func write(_ value: Any, _ out: inout [UInt8]) {
        switch value {
        case let dictionary as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (n, key) in dictionary.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, &out)
                out.append(UInt8(ascii: ":"))
                write(dictionary[key]!, &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (n, element) in array.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                write(element, &out)
            }
            out.append(UInt8(ascii: "]"))
        case let text as String: writeString(text, &out)
        case let flag as Bool: out += Array((flag ? "true" : "false").utf8)
        case let number as Int: out += Array(String(number).utf8)
        case let number as Double: out += Array((number.isFinite ? String(number) : "null").utf8)
        default: out += Array("null".utf8)
        }
    }

    static func writeString(_ text: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func error(_ e: APIError) -> Response {
        var headers: HTTPFields = [:]
        if e.status == 429, let seconds = e.message.split(separator: " ").last.flatMap({ Int($0) }) {
            headers[.retryAfter] = String(seconds)
        }
        return json(["errorCode": e.code, "error": e.message], status: HTTPResponse.Status(code: e.status), headers: headers)
    }

    /// The JSON object of a request body: at most the context's upload size, only the `allowed`
    /// keys, every `required` one present.
    static func body(_ request: inout Request, _ context: ServiceContext, allowed: Set<String>, required: Set<String>) async throws -> [String: Any] {
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest("unknown field \"\(unknown)\"")
        }
        if let missing = required.sorted().first(where: { object[$0] == nil }) {
            throw APIError(400, "USRRES0001", "input parameter missing: \(missing)")
        }
        return object
    }

    static func string(_ object: [String: Any], _ key: String, pattern: String? = nil, maxLength: Int = 100) throws -> String {
        guard let value = object[key] as? String, value.count <= maxLength, !value.isEmpty else {
            throw APIError.badRequest("\(key) must be a non-empty string of at most \(maxLength) characters")
        }
        // Patterns are anchored with ^…$; a trailing line break (which $ would let through) is refused too.
        if let pattern, value.contains(where: \.isNewline) || value.range(of: pattern, options: .regularExpression) == nil {
            throw APIError.badRequest("\(key) is not in the expected format")
        }
        return value
    }

    /// The class of JSON's `true` and `false` once parsed (a subclass of NSNumber).
    static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    static func int(_ object: [String: Any], _ key: String) throws -> Int {
        // JSON numbers and booleans both arrive as NSNumber (booleans as its Boolean subclass).
        guard let number = object[key] as? NSNumber, ObjectIdentifier(type(of: number)) != booleanClass,
              number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 1e15 else {
            throw APIError.badRequest("\(key) must be a whole number")
        }
        return Int(number.doubleValue)
    }

    static func stringArray(_ object: [String: Any], _ key: String, max: Int) throws -> [String] {
        guard let values = object[key] as? [String], values.count <= max else {
            throw APIError.badRequest("\(key) must be a list of at most \(max) strings")
        }
        return values
    }

    /// "DD-MM-YYYY" to a campaign day (days since the epoch's date); only real dates.
    static func day(_ text: String?, epoch: Date) throws -> Int {
        guard let text, text.utf8.count == 10 else { throw APIError(400, "USRRES0001", "date must be DD-MM-YYYY") }
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4,
              let d = Int(parts[0]), let m = Int(parts[1]), let y = Int(parts[2]), (1...12).contains(m), (1...31).contains(d),
              (1900...2200).contains(y) else {
            throw APIError(400, "USRRES0001", "date must be DD-MM-YYYY")
        }
        let number = civilDay(y, m, d)
        guard civilDate(number) == (y, m, d) else { throw APIError(400, "USRRES0001", "date \(text) does not exist") }
        return number - civilDay(epoch)
    }

    static func dateText(day: Int, epoch: Date) -> String {
        let (y, m, d) = civilDate(civilDay(epoch) + day)
        return digits(d, 2) + "-" + digits(m, 2) + "-" + digits(y, 4)
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm; no calendar objects on the hot path).
    static func civilDay(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilDate(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// The civil day number of the epoch's date in India.
    static func civilDay(_ epoch: Date) -> Int {
        Int(((epoch.timeIntervalSince1970 + 19_800) / 86_400).rounded(.down))
    }

    static func slotText(_ w: SlotWindow) -> String {
        func t(_ s: Int) -> String {
            let h = s / 3600, m = s % 3600 / 60
            let h12 = h % 12 == 0 ? 12 : h % 12
            return digits(h12, 2) + ":" + digits(m, 2) + (h < 12 ? "AM" : "PM")
        }
        return t(w.startSecondOfDay) + "-" + t(w.endSecondOfDay)
    }

    /// `n` (≥ 0) in decimal with leading zeros to `width` digits (`String(format:)` goes
    /// through CoreFoundation and was 6 % of a booking's CPU).
    static func digits(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
