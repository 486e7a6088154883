import Foundation
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The built `marketplace-users` binary, run as a subprocess.
@Suite("CLI: health")
struct CLIHealthTests {
    private var cli: String { builtProductsDirectory + "/marketplace-users" }

    @Test("health prints SERVING and the version, and exits 0")
    func health() async throws {
        try await withUsersServer { server, _ in
            let run = try await runProcess(cli, ["health", "--socket", server.configuration.rpc.socketPath])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "SERVING  version \(ServiceVersion.current)\n")
        }
    }

    @Test("health --json prints stable field names; the socket comes from the environment too")
    func healthJSON() async throws {
        try await withUsersServer { server, _ in
            let run = try await runProcess(
                cli, ["health", "--json"], environment: ["MARKETPLACE_USERS_SOCKET": server.configuration.rpc.socketPath])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: String]
            #expect(object == ["status": "SERVING", "version": ServiceVersion.current])
        }
    }

    @Test("a missing socket exits 7 and names the path it tried")
    func socketMissing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("absent.sock")
        let run = try await runProcess(cli, ["health", "--socket", path])
        #expect(run.status == 7)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains(path), "\(run.stderr)")
        #expect(run.stderr.contains("is the server running?"), "\(run.stderr)")
    }
}
