// A Hummingbird hello-world on 127.0.0.1:PORT: the baseline that slotsim serve's
// findByDistrict is compared with, in the same run (Benchmarks/peers/load-test.sh).
import Hummingbird

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8081
let router = Router()
router.get("hello") { _, _ -> String in "Hello" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
