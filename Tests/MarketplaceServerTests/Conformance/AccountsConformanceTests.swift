import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Accounts, promise by promise.
@Suite("Conformance: Accounts")
struct AccountsConformanceTests {
    // contract: marketplace.users.v1.Accounts/CreateAccount INVALID_ARGUMENT
    @Test("CreateAccount: 1 to 200 characters, a type; otherwise INVALID_ARGUMENT naming the field")
    func createAccount() async throws {
        try await withUsersServer { _, client in
            let account = try #require(try await client.accounts.createAccount(.init(name: "  Acme  ", type: .vendor)).account)
            #expect(account.id.wholeMatch(of: /ACC-\d{4}-\d{4}/) != nil)
            #expect(account.name == "Acme" && account.type == .vendor && account.status == .active && account.createdAt != nil)
            _ = try await client.accounts.createAccount(.init(name: String(repeating: "a", count: 200), type: .client))
            await expectRPCError(.invalidArgument, "name") { try await client.accounts.createAccount(.init(name: "", type: .client)) }
            await expectRPCError(.invalidArgument, "name") {
                try await client.accounts.createAccount(.init(name: String(repeating: "a", count: 201), type: .client))
            }
            await expectRPCError(.invalidArgument, "type") { try await client.accounts.createAccount(.init(name: "X", type: .unspecified)) }
            #expect(try await client.accounts.listAccounts(.init()).accounts.count == 2)
        }
    }

    // contract: marketplace.users.v1.Accounts/GetAccount INVALID_ARGUMENT NOT_FOUND
    @Test("GetAccount: the account; INVALID_ARGUMENT for a malformed id, NOT_FOUND for an unknown one")
    func getAccount() async throws {
        try await withUsersServer { _, client in
            let account = try #require(try await client.accounts.createAccount(.init(name: "Acme", type: .client)).account)
            #expect(try await client.accounts.getAccount(.init(accountId: account.id)).account == account)
            await expectRPCError(.invalidArgument, "account_id") { try await client.accounts.getAccount(.init(accountId: "ACC-1")) }
            await expectRPCError(.invalidArgument, "account_id") { try await client.accounts.getAccount(.init(accountId: "")) }
            await expectRPCError(.notFound, "ACC-0000-0000") { try await client.accounts.getAccount(.init(accountId: "ACC-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.Accounts/ListAccounts ORDER INVALID_ARGUMENT
    @Test("ListAccounts: by id, pages of page_size (0 means 50); bad size or token is INVALID_ARGUMENT")
    func listAccounts() async throws {
        try await withUsersServer { _, client in
            var created: [String] = []
            for i in 0..<53 {
                created.append(try #require(try await client.accounts.createAccount(.init(name: "A\(i)", type: .client)).account).id)
            }
            let first = try await client.accounts.listAccounts(.init())
            #expect(first.accounts.count == 50 && !first.nextPageToken.isEmpty)
            let rest = try await client.accounts.listAccounts(.init(pageSize: 500, pageToken: first.nextPageToken))
            #expect(rest.accounts.count == 3 && rest.nextPageToken.isEmpty)
            #expect((first.accounts + rest.accounts).map(\.id) == created.sorted())
            await expectRPCError(.invalidArgument, "page_size") { try await client.accounts.listAccounts(.init(pageSize: 501)) }
            await expectRPCError(.invalidArgument, "page_size") { try await client.accounts.listAccounts(.init(pageSize: -1)) }
            await expectRPCError(.invalidArgument, "page_token") { try await client.accounts.listAccounts(.init(pageToken: "garbage")) }
        }
    }
}
