import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Groups, promise by promise.
@Suite("Conformance: Groups")
struct GroupsConformanceTests {
    // contract: marketplace.users.v1.Groups/CreateGroup INVALID_ARGUMENT NOT_FOUND ALREADY_EXISTS
    @Test("CreateGroup: the fields as given; refusals for the name, the account and a second administrators' group")
    func createGroup() async throws {
        try await withUsersServer { _, client in
            let acme = try #require(try await client.accounts.createAccount(.init(name: "Acme", type: .client)).account)
            let group = try #require(try await client.groups.createGroup(.init(
                accountId: acme.id, name: "Admins", description: "Run the account", permissions: ["users.manage"],
                isAdministrators: true, isDefault: false)).group)
            #expect(group.id.wholeMatch(of: /UGR-\d{4}-\d{4}/) != nil)
            #expect(group.accountId == acme.id && group.name == "Admins" && group.description == "Run the account")
            #expect(group.permissions == ["users.manage"] && group.isAdministrators && !group.isDefault && group.createdAt != nil)
            await expectRPCError(.alreadyExists, "administrators") {
                try await client.groups.createGroup(.init(accountId: acme.id, name: "Other admins", isAdministrators: true))
            }
            await expectRPCError(.alreadyExists, "Admins") { try await client.groups.createGroup(.init(accountId: acme.id, name: "admins")) }
            await expectRPCError(.invalidArgument, "name") { try await client.groups.createGroup(.init(accountId: acme.id, name: " ")) }
            await expectRPCError(.invalidArgument, "name") {
                try await client.groups.createGroup(.init(accountId: acme.id, name: String(repeating: "g", count: 101)))
            }
            await expectRPCError(.invalidArgument, "account_id") { try await client.groups.createGroup(.init(accountId: "acme", name: "G")) }
            await expectRPCError(.notFound, "ACC-0000-0000") {
                try await client.groups.createGroup(.init(accountId: "ACC-0000-0000", name: "G"))
            }
            #expect(try await client.groups.listGroups(.init(accountId: acme.id)).groups == [group])
        }
    }

    // contract: marketplace.users.v1.Groups/GetGroup INVALID_ARGUMENT NOT_FOUND
    @Test("GetGroup: the group; INVALID_ARGUMENT for a malformed id, NOT_FOUND for an unknown one")
    func getGroup() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (_, admins, _) = try await f.accountWithGroups()
            #expect(try await client.groups.getGroup(.init(groupId: admins.id)).group == admins)
            await expectRPCError(.invalidArgument, "group_id") { try await client.groups.getGroup(.init(groupId: "UGR-12")) }
            await expectRPCError(.notFound, "UGR-0000-0000") { try await client.groups.getGroup(.init(groupId: "UGR-0000-0000")) }
        }
    }

    // contract: marketplace.users.v1.Groups/ListGroups ORDER INVALID_ARGUMENT NOT_FOUND
    @Test("ListGroups: by name, an account's own groups only; refusals for the id, page size, token and an unknown account")
    func listGroups() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups("Acme")
            _ = try await f.accountWithGroups("Globex")
            let billing = try await f.group(acme, "Billing", admin: false)
            let page = try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 2))
            #expect(page.groups.map(\.id) == [admins.id, billing.id] && !page.nextPageToken.isEmpty)
            let rest = try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 2, pageToken: page.nextPageToken))
            #expect(rest.groups.map(\.id) == [staff.id] && rest.nextPageToken.isEmpty)
            await expectRPCError(.invalidArgument, "account_id") { try await client.groups.listGroups(.init(accountId: "x")) }
            await expectRPCError(.invalidArgument, "page_size") { try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 501)) }
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.groups.listGroups(.init(accountId: acme.id, pageToken: "garbage"))
            }
            await expectRPCError(.notFound) { try await client.groups.listGroups(.init(accountId: "ACC-0000-0000")) }
        }
    }
}
