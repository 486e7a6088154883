import Foundation
import MarketplaceDomain
import Testing

@Suite struct ProfileTests {
    @Test func updateProfileValidatesAndRecordsTheChange() async throws {
        try await withFixture { f in
            let (account, _, staff) = try await f.makeAccount()
            let member = try await f.join("jane@example.com", account, [staff])
            let id = member.user.id
            let original = try await f.directory.profile(userID: id)
            #expect(original.firstName == "Jane" && original.language == "en" && original.locale == "en-US")

            let refusals: [(ProfileChanges, String)] = [
                (ProfileChanges(firstName: "  "), "first_name: must not be empty"),
                (ProfileChanges(lastName: String(repeating: "x", count: 101)), "last_name: must be at most 100 characters (got 101)"),
                (ProfileChanges(phone: "0612345678"), "phone: must start with a country prefix"),
                (ProfileChanges(language: "english"), "language: \"english\" is not a language tag"),
                (ProfileChanges(locale: "en-US-"), "locale: \"en-US-\" is not a language tag"),
                (ProfileChanges(icon: "javascript:alert(1)"), "icon: a URL must be an https:// address"),
                (ProfileChanges(icon: "my icon"), "icon: must not contain spaces"),
                (ProfileChanges(icon: "https://cdn.example/" + String(repeating: "a", count: 481)), "icon: must be at most 500 characters"),
            ]
            for (changes, message) in refusals {
                let error = await expectDomainError(.invalidArgument) { try await f.directory.updateProfile(userID: id, changes) }
                #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
            }
            #expect(try await f.directory.profile(userID: id) == original)

            // Nothing to change: nothing written.
            f.clock.advance(by: .seconds(60))
            #expect(try await f.directory.updateProfile(userID: id, ProfileChanges()) == original)

            let updated = try await f.directory.updateProfile(
                userID: id,
                ProfileChanges(firstName: " Janet ", phone: "+1 (514) 555-0100", language: "FR-ca", locale: "fr_CA", icon: "https://cdn.example/j.png"))
            #expect(updated.firstName == "Janet" && updated.lastName == "Doe")
            #expect(updated.phone == "+15145550100" && updated.language == "fr-CA" && updated.locale == "fr-CA")
            #expect(updated.icon == "https://cdn.example/j.png" && updated.email == original.email)
            #expect(updated.updatedAt == f.clock.now() && updated.createdAt == original.createdAt)
            #expect(try await f.directory.profile(userID: id) == updated)
            // The membership shows the new name.
            #expect(try await f.directory.accountUser(id: member.id, access: Fixture.operatorAccess).user.firstName == "Janet")
            // Phone "" clears it; nil leaves fields as they are.
            let cleared = try await f.directory.updateProfile(userID: id, ProfileChanges(phone: "", icon: "avatar-3"))
            #expect(cleared.phone == nil && cleared.icon == "avatar-3" && cleared.firstName == "Janet" && cleared.language == "fr-CA")
            #expect(try await f.directory.updateProfile(userID: id, ProfileChanges(language: "zh-hant-tw")).language == "zh-Hant-TW")

            await expectDomainError(.notFound) { try await f.directory.profile(userID: "USR-0000-0000") }
            await expectDomainError(.invalidArgument) { try await f.directory.updateProfile(userID: "jane", ProfileChanges(firstName: "J")) }
            _ = try await f.directory.deleteUser(id: id, actor: Fixture.admin)
            await expectDomainError(.failedPrecondition) { try await f.directory.profile(userID: id) }
            await expectDomainError(.failedPrecondition) { try await f.directory.updateProfile(userID: id, ProfileChanges(firstName: "J")) }
        }
    }
}
