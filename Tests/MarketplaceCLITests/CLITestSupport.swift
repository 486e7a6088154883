import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// Runs the built `marketplace-users` binary against a server, in UTC so
/// printed times are predictable, with stdin a pipe (never a terminal).
struct CLI {
    let socket: String

    static var path: String { builtProductsDirectory + "/marketplace-users" }

    init(_ server: UsersServer) { socket = server.configuration.rpc.socketPath }
    init(socket: String) { self.socket = socket }

    /// The sign-in session file of this test's CLI runs: next to the test
    /// server's socket, never the real ~/.config one.
    var sessionFile: String { (socket as NSString).deletingLastPathComponent + "/cli-session.json" }

    func callAsFunction(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await runProcess(
            Self.path, arguments + ["--socket", socket],
            environment: ["TZ": "UTC", "MARKETPLACE_USERS_SOCKET": "", "MARKETPLACE_USERS_SESSION_FILE": sessionFile],
            stdin: stdin ?? "")
    }

    /// Runs with `--json`, expects exit 0, and returns the parsed object.
    func json(_ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let run = try await self(arguments + ["--json"], stdin: stdin)
        #expect(run.status == 0, "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        return try parseJSON(run.stdout, sourceLocation: sourceLocation)
    }
}

/// Parses stdout as a JSON object, as `python3 -m json.tool` would.
func parseJSON(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func object(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
    func objects(_ key: String) -> [[String: Any]] { (self[key] as? [[String: Any]]) ?? [] }
}

/// An account with an administrators' group and a second group, made with the client.
struct Fixture {
    let accountID: String
    let adminGroupID: String
    let salesGroupID: String

    static func make(_ client: MarketplaceClient, name: String = "Acme Ltd") async throws -> Fixture {
        let account = try #require(try await client.accounts.createAccount(.init(name: name, type: .client)).account)
        let admins = try #require(try await client.groups.createGroup(
            .init(accountId: account.id, name: "Administrators", permissions: ["users.manage"], isAdministrators: true)).group)
        let sales = try #require(try await client.groups.createGroup(.init(accountId: account.id, name: "Sales", isDefault: true)).group)
        return Fixture(accountID: account.id, adminGroupID: admins.id, salesGroupID: sales.id)
    }

    /// Invites a person with the client; returns the account user id and the link.
    func invite(_ client: MarketplaceClient, _ email: String, group: String? = nil) async throws -> (id: String, link: String) {
        let response = try await client.accountUsers.inviteUser(.init(
            accountId: accountID, email: email, firstName: "Test", lastName: "Person", groupIds: [group ?? salesGroupID]))
        return (try #require(response.accountUser).id, response.invitationLink)
    }
}

/// The token at the end of an invitation link.
func token(of link: String) -> String { String(link.split(separator: "/").last ?? "") }

let goodPassword = "Correct-Horse-9"
