import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The server's Prometheus metrics, served on the admin port at `/metrics`: requests by
/// route, method and status; latency histograms by route; changes by kind; refusals by
/// error code. Labels never carry personal data or ids (routes are templates).
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// A request's series: its counter and its route's latency histogram, found with one lookup.
    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }
    private let requests = Mutex([RequestKey: (count: Counter, latency: DurationHistogram)]())
    private let changes = Mutex([String: Counter]())
    private let refusals = Mutex([String: Counter]())
    static let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                      .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(2.5)]

    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let series = requests.withLock { r in
            if let hit = r[key] { return hit }
            // The registry hands back the same histogram for the same route and labels.
            let made = (registry.makeCounter(name: "slotsim_http_requests_total", labels: [("route", route), ("method", method), ("status", String(status))],
                                             help: "HTTP requests by route template, method and status"),
                        registry.makeDurationHistogram(name: "slotsim_http_request_duration_seconds", labels: [("route", route)], buckets: Self.buckets,
                                                       help: "Time from request to response, by route template"))
            r[key] = made
            return made
        }
        series.count.increment()
        series.latency.record(duration)
    }

    /// A change acknowledged (on disk): beneficiary, schedule, cancel, reschedule, walk_in, vaccinated, no_show.
    func change(_ kind: String) {
        counter(changes, kind, name: "slotsim_changes_total", label: "kind", help: "Changes acknowledged after they were written to the journal").increment()
    }

    /// Beneficiaries in acknowledged schedule answers (1 to 4 a request), the bookings a
    /// planner counts; `slotsim_changes_total{kind="schedule"}` counts requests. Like it, a
    /// retry answered from its Idempotency-Key counts again.
    func booked(_ people: Int) {
        counter(changes, "booked people", name: "slotsim_bookings_total", label: "channel", value: "online",
                help: "Beneficiaries in acknowledged schedule answers (1 to 4 a request)").increment(by: Int64(people))
    }

    /// A request refused with a 4xx or 5xx error code.
    func refusal(_ code: String) {
        counter(refusals, code, name: "slotsim_refusals_total", label: "code", help: "Refused requests by error code").increment()
    }

    /// The counter `name{label="value"}`, cached under `key` (the label's value unless given).
    private func counter(_ cache: borrowing Mutex<[String: Counter]>, _ key: String, name: String, label: String, value: String? = nil,
                         help: String) -> Counter {
        cache.withLock { c in
            if let hit = c[key] { return hit }
            let made = registry.makeCounter(name: name, labels: [(label, value ?? key)], help: help)
            c[key] = made
            return made
        }
    }

    func text() -> [UInt8] { registry.emitToBuffer() }
}

/// Times every request and counts it by route template (paths no route matches, 405s
/// included, are labelled "NotFound" by the router).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServiceContext
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                        duration: ContinuousClock.now - start)
        return response
    }
}
