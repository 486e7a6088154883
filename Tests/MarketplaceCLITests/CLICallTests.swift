import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// `marketplace-users call`: any method of the contract, JSON in and out, from
/// the contract's descriptors; against the real server.
@Suite("CLI: call any method with JSON")
struct CLICallTests {
    @Test("call --list names every service and method with its types, reads and idempotent writes marked")
    func list() async throws {
        let run = try await runProcess(CLI.path, ["call", "--list"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("marketplace.health.v1.Health/Check  marketplace.health.v1.CheckRequest -> marketplace.health.v1.CheckResponse  (read)"), "\(run.stdout)")
        #expect(run.stdout.contains("marketplace.users.v1.Sessions/WhoAmI"))
        #expect(run.stdout.contains("marketplace.users.v1.AccountUsers/AddAccountUserGroups  marketplace.users.v1.AddAccountUserGroupsRequest -> marketplace.users.v1.AddAccountUserGroupsResponse  (idempotent)"))
        #expect(run.stdout.contains("marketplace.users.v1.AccountUsers/InviteUser  marketplace.users.v1.InviteUserRequest -> marketplace.users.v1.InviteUserResponse\n"))
        #expect(run.stdout.split(separator: "\n").count >= 38)
    }

    @Test("call encodes a JSON request (enums by name, repeated, nested) and prints the JSON answer (timestamps RFC 3339)")
    func roundTrip() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let created = try await cli(["call", "marketplace.users.v1.Accounts/CreateAccount", "--data", #"{"name": "Acme Ltd", "type": "ACCOUNT_TYPE_CLIENT"}"#])
            #expect(created.status == 0, "\(created.stderr)")
            let account = try #require(try parseJSON(created.stdout).object("account"))
            #expect(account.string("name") == "Acme Ltd")
            #expect(account.string("type") == "ACCOUNT_TYPE_CLIENT")
            #expect(account.string("status") == "ACCOUNT_STATUS_ACTIVE")
            let id = try #require(account.string("id"))
            let createdAt = try #require(account.string("created_at"))
            #expect(createdAt.hasSuffix("Z") && createdAt.count >= 20 && createdAt.contains("T"), "\(createdAt)")
            #expect(try await client.accounts.getAccount(.init(accountId: id)).requiredAccount.name == "Acme Ltd")

            // Short service name, lowerCamel names accepted, a nested repeated answer.
            let group = try await cli(["call", "Groups/CreateGroup", "--data", #"{"accountId": "\#(id)", "name": "Sales", "permissions": ["a", "b"], "is_default": true}"#])
            #expect(group.status == 0, "\(group.stderr)")
            let made = try #require(try parseJSON(group.stdout).object("group"))
            #expect(made["permissions"] as? [String] == ["a", "b"])
            #expect(made["is_default"] as? Bool == true)
            let listed = try await cli(["call", "Accounts/ListAccounts", "--data", #"{"page_size": 10}"#])
            #expect(try parseJSON(listed.stdout).objects("accounts").map { $0.string("id") } == [id])
            // An empty request by default; stdin with --data -.
            #expect(try await cli(["call", "Health/Check"]).stdout.contains(#""status": "SERVING""#))
            let fromStdin = try await cli(["call", "Accounts/GetAccount", "--data", "-"], stdin: #"{"account_id": "\#(id)"}"#)
            #expect(fromStdin.stdout.contains("Acme Ltd"), "\(fromStdin.stderr)")
        }
    }

    @Test("a request that does not fit the message exits 64 naming the field; server errors keep their exit codes")
    func errors() async throws {
        try await withUsersServer { server, _ in
            let cli = CLI(server)
            let unknown = try await cli(["call", "Accounts/CreateAccount", "--data", #"{"nmae": "x"}"#])
            #expect(unknown.status == 64)
            #expect(unknown.stderr.contains("nmae") && unknown.stderr.contains("name"), "\(unknown.stderr)")
            let badEnum = try await cli(["call", "Accounts/CreateAccount", "--data", #"{"name": "x", "type": "BIG"}"#])
            #expect(badEnum.status == 64 && badEnum.stderr.contains("ACCOUNT_TYPE_CLIENT"), "\(badEnum.stderr)")
            let notJSON = try await cli(["call", "Accounts/CreateAccount", "--data", "{"])
            #expect(notJSON.status == 64, "\(notJSON.stderr)")
            let noMethod = try await cli(["call", "Accounts/Nope"])
            #expect(noMethod.status == 64 && noMethod.stderr.contains("call --list"), "\(noMethod.stderr)")
            let missing = try await cli(["call", "Accounts/GetAccount", "--data", #"{"account_id": "ACC-1234-5678"}"#])
            #expect(missing.status == 3 && missing.stderr.contains("[NOT_FOUND]"), "\(missing.stderr)")
        }
    }
}
