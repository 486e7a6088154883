import Foundation
import MarketplaceDomain
import Testing

@Suite struct AccountsAndGroupsTests {
    @Test func createGetListAccounts() async throws {
        try await withFixture { f in
            let a = try await f.directory.createAccount(name: " Acme ", type: .vendor, actor: Fixture.admin)
            #expect(a.name == "Acme" && a.type == .vendor && a.status == .active)
            #expect(try await f.directory.account(id: a.id, access: Fixture.operatorAccess) == a)
            for i in 0..<4 { _ = try await f.directory.createAccount(name: "A\(i)", type: .client, actor: Fixture.admin) }
            var seen: [String] = []
            var token = ""
            repeat {
                let page = try await f.directory.listAccounts(pageSize: 2, pageToken: token)
                seen += page.items.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(seen.count == 5 && Set(seen).count == 5 && seen == seen.sorted())
            await expectDomainError(.notFound) { try await f.directory.account(id: "ACC-0000-0000", access: Fixture.operatorAccess) }
            await expectDomainError(.invalidArgument) { try await f.directory.account(id: "nope", access: Fixture.operatorAccess) }
            await expectDomainError(.invalidArgument) { try await f.directory.createAccount(name: "", type: .client, actor: Fixture.admin) }
            await expectDomainError(.invalidArgument) { try await f.directory.listAccounts(pageSize: 501) }
            await expectDomainError(.invalidArgument) { try await f.directory.listAccounts(pageToken: "garbage!") }
        }
    }

    @Test func groups() async throws {
        try await withFixture { f in
            let (account, admins, staff) = try await f.makeAccount()
            #expect(admins.isAdministrators && staff.isDefault)
            #expect(try await f.directory.group(id: staff.id, access: Fixture.operatorAccess) == staff)
            let error = await expectDomainError(.alreadyExists) {
                try await f.directory.createGroup(accountID: account.id, name: "Admins 2", isAdministrators: true, actor: Fixture.admin, access: Fixture.operatorAccess)
            }
            #expect(error?.message.contains(admins.id) == true)
            await expectDomainError(.alreadyExists) {
                try await f.directory.createGroup(accountID: account.id, name: "Default 2", isDefault: true, actor: Fixture.admin, access: Fixture.operatorAccess)
            }
            await expectDomainError(.notFound) {
                try await f.directory.createGroup(accountID: "ACC-0000-0000", name: "X", actor: Fixture.admin, access: Fixture.operatorAccess)
            }
            await expectDomainError(.notFound) { try await f.directory.group(id: "UGR-0000-0000", access: Fixture.operatorAccess) }
            let page = try await f.directory.listGroups(accountID: account.id, access: Fixture.operatorAccess)
            #expect(Set(page.items.map(\.id)) == [admins.id, staff.id] && page.nextPageToken.isEmpty)
            // A second account may have its own administrators' group.
            let (_, otherAdmins, _) = try await f.makeAccount("Other")
            #expect(otherAdmins.isAdministrators)
        }
    }
}
