import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Profile, promise by promise.
@Suite("Conformance: Profile")
struct ProfileConformanceTests {
    // contract: marketplace.users.v1.Profile/GetProfile UNAUTHENTICATED
    // contract: marketplace.users.v1.Profile/UpdateProfile UNAUTHENTICATED INVALID_ARGUMENT
    @Test("GetProfile and UpdateProfile: only the named fields change; refusals name the field")
    func profile() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let (member, ada) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [staff])
            let me = try #require(try await client.profile.getProfile(.init(), options: ada).user)
            #expect(me.id == member.user?.id && me.email == "ada@example.com")
            let updated = try #require(try await client.profile.updateProfile(
                .init(firstName: "Augusta", phone: "+44 20 7123 4567", language: "fr-CA", fields: ["first_name", "phone", "language"]),
                options: ada).user)
            #expect(updated.firstName == "Augusta" && updated.lastName == "Lovelace" && updated.phone == "+442071234567")
            #expect(updated.language == "fr-CA" && updated.locale == me.locale)
            let all = try #require(try await client.profile.updateProfile(
                .init(firstName: "Ada", lastName: "King", phone: "", language: "en", locale: "en-GB", icon: "owl"), options: ada).user)
            #expect(all.lastName == "King" && all.phone.isEmpty && all.locale == "en-GB" && all.icon == "owl")
            let bad: [(String, UpdateProfileRequest)] = [
                ("first_name", .init(firstName: "", fields: ["first_name"])),
                ("last_name", .init(lastName: String(repeating: "k", count: 101), fields: ["last_name"])),
                ("phone", .init(phone: "phone", fields: ["phone"])),
                ("language", .init(language: "not a language", fields: ["language"])),
                ("locale", .init(locale: "!!", fields: ["locale"])),
                ("fields", .init(fields: ["email"])),
            ]
            for (field, request) in bad {
                await expectRPCError(.invalidArgument, field) { try await client.profile.updateProfile(request, options: ada) }
            }
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: Conformance.unknownSession) }
            await expectRPCError(.unauthenticated) { try await client.profile.updateProfile(.init(), options: Conformance.unknownSession) }
        }
    }

    // contract: marketplace.users.v1.Profile/ChangePassword UNAUTHENTICATED INVALID_ARGUMENT
    @Test("ChangePassword: needs the current password; ends the other sessions, keeps this one")
    func changePassword() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            let (_, ada) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [staff])
            let other = CallOptions.bearer(try await client.sessions.signIn(.init(email: "ada@example.com", password: Conformance.password)).token)
            await expectRPCError(.unauthenticated, "current_password") {
                try await client.profile.changePassword(.init(currentPassword: "Wr0ng!password", newPassword: "N3w!password"), options: ada)
            }
            await expectRPCError(.invalidArgument, "uppercase") {
                try await client.profile.changePassword(.init(currentPassword: Conformance.password, newPassword: "n3w!password"), options: ada)
            }
            await expectRPCError(.invalidArgument, "differ") {
                try await client.profile.changePassword(.init(currentPassword: Conformance.password, newPassword: Conformance.password), options: ada)
            }
            _ = try await client.profile.changePassword(.init(currentPassword: Conformance.password, newPassword: "N3w!password"), options: ada)
            #expect(try await client.profile.getProfile(.init(), options: ada).user != nil)
            await expectRPCError(.unauthenticated) { try await client.profile.getProfile(.init(), options: other) }
            _ = try await client.sessions.signIn(.init(email: "ada@example.com", password: "N3w!password"))
            await expectRPCError(.unauthenticated) {
                try await client.profile.changePassword(.init(currentPassword: "a", newPassword: "b"), options: Conformance.unknownSession)
            }
        }
    }
}
