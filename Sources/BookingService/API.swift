import Foundation
import Hummingbird
import HTTPTypes
import SlotAllocation

/// The CoWIN-style v2 API (documented in `openapi.yaml`): public availability, OTP login,
/// beneficiaries, schedule and cancel.
enum API {
    static let ist = TimeZone(secondsFromGMT: 19_800)!

    static func json(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
        if let pattern, value.range(of: pattern, options: .regularExpression) == nil {
            throw APIError.badRequest("\(key) is not in the expected format")
        }
        return value
    }

    static func int(_ object: [String: Any], _ key: String) throws -> Int {
        // JSON numbers and booleans both arrive as NSNumber (booleans as its Boolean subclass).
        guard let number = object[key] as? NSNumber, !String(describing: type(of: number)).contains("Boolean"),
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

    /// "DD-MM-YYYY" to a campaign day (IST).
    static func day(_ text: String?, epoch: Date) throws -> Int {
        guard let text, text.count == 10 else { throw APIError(400, "USRRES0001", "date must be DD-MM-YYYY") }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ist
        guard parts.count == 3, let date = calendar.date(from: DateComponents(year: parts[2], month: parts[1], day: parts[0])) else {
            throw APIError(400, "USRRES0001", "date must be DD-MM-YYYY")
        }
        let day = (date.timeIntervalSince(epoch) / 86_400).rounded(.down)
        guard abs(day) < 100_000 else { throw APIError(400, "USRRES0001", "date is out of range") }
        return Int(day)
    }

    static func dateText(day: Int, epoch: Date) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = ist
        formatter.dateFormat = "dd-MM-yyyy"
        return formatter.string(from: epoch + TimeInterval(day) * 86_400)
    }

    static func slotText(_ w: SlotWindow) -> String {
        func t(_ s: Int) -> String {
            let h = s / 3600, m = s % 3600 / 60
            let h12 = h % 12 == 0 ? 12 : h % 12
            return String(format: "%02d:%02d%@", h12, m, h < 12 ? "AM" : "PM")
        }
        return t(w.startSecondOfDay) + "-" + t(w.endSecondOfDay)
    }
}
