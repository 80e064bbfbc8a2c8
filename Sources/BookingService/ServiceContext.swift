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
}

/// Every error leaves as a JSON body `{"errorCode": …, "error": …}`, never a bare page or a crash.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServiceContext

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return API.error(error)
        } catch let error as HTTPResponseError {
            let code = error.status.code
            let words = code == 404 ? "no such endpoint" : code == 413 ? "the request body is too large" : error.status.reasonPhrase
            return API.error(APIError(code, code == 404 ? "USRRES0404" : "USRRES\(code)", words))
        } catch {
            context.logger.error("unexpected error on \(request.uri.path): \(error)")
            return API.error(APIError(500, "SRV0001", "internal error"))
        }
    }
}
