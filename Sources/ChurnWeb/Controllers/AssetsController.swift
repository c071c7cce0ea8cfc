import ChurnClient
import Foundation
import Hummingbird
import NIOCore

/// What needs no sign-in besides signing in: the health check and the static assets (the
/// stylesheet, the charts script, and Debian's Chart.js when installed).
struct AssetsController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/healthz") { _, _ -> Response in
            do {
                let health = try await app.link.with { client throws(ChurnClientError) in try await client.health() }
                return Self.json(.ok, #"{"status":"ok","daemon":"\#(health.status)"}"#)
            } catch {
                return Self.json(.serviceUnavailable, #"{"status":"daemon unavailable"}"#)
            }
        }
        routes.get("/assets/app.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        routes.get("/assets/charts.js") { _, _ in Self.asset(Assets.chartsScript, type: "text/javascript; charset=utf-8") }
        routes.get("/assets/chart.min.js") { _, _ -> Response in
            guard let data = FileManager.default.contents(atPath: app.configuration.chartJSPath) else {
                return Response(status: .notFound)
            }
            var response = Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            response.headers[.cacheControl] = "max-age=86400"
            return response
        }
        return routes
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
