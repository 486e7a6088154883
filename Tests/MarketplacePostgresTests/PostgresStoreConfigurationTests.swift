import MarketplaceDomain
import MarketplacePostgres
import Testing

/// The `--database` URL: what is accepted, and a precise refusal for the rest (no server needed).
struct PostgresStoreConfigurationTests {
    @Test("connect_timeout sets how long one connection attempt may take; the default is 5 s")
    func connectTimeout() throws {
        #expect(try PostgresStoreConfiguration(url: "postgres://u@/db?host=/run/postgresql").connectTimeout == .seconds(5))
        #expect(try PostgresStoreConfiguration(url: "postgres://u@/db?host=/run/postgresql&connect_timeout=60").connectTimeout == .seconds(60))
        #expect(try PostgresStoreConfiguration(url: "postgres://u@h:5432/db?connect_timeout=10").connectTimeout == .seconds(10))
        // As libpq: 1 is read as 2.
        #expect(try PostgresStoreConfiguration(url: "postgres://u@h/db?connect_timeout=1").connectTimeout == .seconds(2))
    }

    @Test("a connect_timeout that is not 1...3600 seconds is refused, naming the parameter", arguments: ["0", "-5", "3601", "10s", ""])
    func badConnectTimeout(_ value: String) {
        do {
            _ = try PostgresStoreConfiguration(url: "postgres://u@h/db?connect_timeout=\(value)")
            Issue.record("accepted connect_timeout=\(value)")
        } catch {
            #expect(error.kind == .invalidArgument, "\(error)")
            #expect(error.message.contains("connect_timeout= must be 1...3600 seconds, not '\(value)'"), "\(error)")
        }
    }

    @Test("an unknown parameter is refused rather than ignored")
    func unknownParameter() {
        do {
            _ = try PostgresStoreConfiguration(url: "postgres://u@h/db?connect_timout=10")
            Issue.record("accepted a misspelt parameter")
        } catch {
            #expect(error.kind == .invalidArgument, "\(error)")
            #expect(error.message.contains("unknown URL parameter 'connect_timout'"), "\(error)")
        }
    }
}
