import Foundation
import MarketplaceClient
import Testing

/// Builders for the common set-up of users-service tests, through the client.
struct Fixture {
    let client: MarketplaceClient

    func account(_ name: String = "Acme", type: AccountType = .client) async throws -> Account {
        try #require(try await client.accounts.createAccount(.init(name: name, type: type)).account)
    }

    func group(_ account: Account, _ name: String = "Administrators", admin: Bool = true) async throws -> Group {
        try #require(try await client.groups.createGroup(
            .init(accountId: account.id, name: name, permissions: ["users.manage"], isAdministrators: admin)).group)
    }

    /// An account with an administrators' group and a plain group.
    func accountWithGroups(_ name: String = "Acme") async throws -> (Account, admins: Group, staff: Group) {
        let account = try await account(name)
        return (account, try await group(account), try await group(account, "Staff", admin: false))
    }

    func invite(
        _ account: Account, _ email: String, groups: [Group], first: String = "Ada", last: String = "Lovelace"
    ) async throws -> InviteUserResponse {
        try await client.accountUsers.inviteUser(.init(
            accountId: account.id, email: email, firstName: first, lastName: last, groupIds: groups.map(\.id)))
    }

    func accept(_ link: String, password: String = "Str0ng!pass") async throws -> AccountUser {
        try #require(try await client.invitations.acceptInvitation(.init(
            token: token(of: link), firstName: "Ada", lastName: "Lovelace", password: password, acceptTerms: true)).accountUser)
    }
}

/// The token at the end of an invitation link.
func token(of link: String) -> String {
    String(link.split(separator: "/").last ?? "")
}

/// Asserts that `body` fails with `code`, and that the message contains `fragment`.
func expectRPCError<T>(
    _ code: StatusCode, _ fragment: String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code.name), got success", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if !fragment.isEmpty {
            #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
