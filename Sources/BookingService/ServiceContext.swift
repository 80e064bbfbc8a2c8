import Hummingbird
import NIOCore

/// The request context: the client's address (for per-address rate limits) and a small upload limit.
struct ServiceContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var maxUploadSize: Int { 16 * 1024 }

    /// Whom the per-address limit counts: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's usual share, so rotating addresses inside it gains nothing). An IPv4
    /// address mapped into IPv6 counts as itself.
    var limitKey: String { Self.limitKey(remoteAddress) }

    static func limitKey(_ address: SocketAddress?) -> String {
        guard case .v6(let v6) = address else { return address?.ipAddress ?? "unknown" }
        let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        if let mapped = mappedIPv4(bytes) { return mapped }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "::/64"
    }

    /// The address as text, an IPv4 address mapped into IPv6 (`::ffff:10.0.0.9`, as a dual-stack
    /// listener sees IPv4 peers) as the IPv4 address itself.
    static func ipText(_ address: SocketAddress?) -> String? {
        if case .v6(let v6) = address, let mapped = mappedIPv4(withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }) { return mapped }
        return address?.ipAddress
    }

    /// An address as proxies write it in X-Forwarded-For or as an operator gives it: IPv4 or
    /// IPv6, optionally with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`) or in brackets.
    static func address(parsing text: Substring) -> SocketAddress? {
        var host = text.trimmingCharacters(in: .whitespaces)[...]
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1 {
            host = host.prefix { $0 != ":" }
        }
        return try? SocketAddress(ipAddress: String(host), port: 0)
    }

    private static func mappedIPv4(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return bytes[12...].map(String.init).joined(separator: ".")
    }
}

/// With LOG_LEVEL=debug, a line per request: its method and path, never the query string,
/// a header or the body (so no token and no personal data). At the default level it costs a
/// level check: the metadata is built only for a line that is written.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServiceContext

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        context.logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)"])
        return try await next(request, context)
    }
}

/// Every error leaves as a JSON body `{"errorCode": …, "error": …}`, never a bare page or a
/// crash, and is counted by code. A known path with another method gets 405 and `Allow`.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServiceContext
    let metrics: ServiceMetrics

    /// Every route (under /api/v2) and its method; ":" marks a path parameter.
    static let routes: [(method: String, path: [Substring])] = [
        ("GET", "admin/location/states"), ("GET", "admin/location/districts/:state_id"),
        ("GET", "appointment/sessions/public/findByDistrict"), ("GET", "appointment/sessions/public/calendarByDistrict"),
        ("GET", "appointment/sessions/public/findByPin"), ("GET", "appointment/sessions/public/calendarByPin"),
        ("POST", "auth/public/generateOTP"), ("POST", "auth/public/confirmOTP"), ("POST", "auth/generateOTP"), ("POST", "auth/confirmOTP"),
        ("POST", "registration/beneficiary/new"), ("GET", "appointment/beneficiaries"), ("POST", "appointment/schedule"),
        ("POST", "appointment/cancel"), ("POST", "appointment/reschedule"), ("POST", "centre/walkin"), ("POST", "centre/vaccinated"), ("POST", "centre/noshow"),
        ("GET", "admin/sessions/report"),
    ].map { ($0.0, ("api/v2/" + $0.1).split(separator: "/")) }

    /// The methods a path is served with (empty: no such path).
    static func methods(of path: String) -> [String] {
        let parts = path.split(separator: "/")
        return routes.filter { route in
            route.path.count == parts.count && zip(route.path, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            metrics.refusal(error.code)
            return API.error(error)
        } catch let error as HTTPResponseError {
            var code = error.status.code
            let allowed = code == 404 ? Self.methods(of: request.uri.path) : []
            if !allowed.isEmpty { code = 405 }
            let words = code == 405 ? "this endpoint takes \(allowed.joined(separator: ", ")) only" : code == 404 ? "no such endpoint"
                : code == 413 ? "the request body is too large" : error.status.reasonPhrase
            let apiError = APIError(code, code == 404 ? "USRRES0404" : "USRRES\(code)", words)
            metrics.refusal(apiError.code)
            var response = API.error(apiError)
            if code == 405 { response.headers[.allow] = allowed.joined(separator: ", ") }
            return response
        } catch {
            context.logger.error("unexpected error on \(request.uri.path): \(error)")
            metrics.refusal("SRV0001")
            return API.error(APIError(500, "SRV0001", "internal error"))
        }
    }
}
