import Foundation
import MarketplaceDomain
import Testing

@Suite struct MembershipStateMachineTests {
    typealias S = MembershipStatus
    typealias E = MembershipStatus.Event

    static let allowed: [(S, E, S)] = [
        (.invited, .accept, .active), (.invited, .decline, .disabled), (.invited, .expire, .invitationExpired),
        (.invitationExpired, .renew, .invited), (.invited, .revoke, .disabled), (.invitationExpired, .revoke, .disabled),
        (.invited, .remove, .disabled), (.invitationExpired, .remove, .disabled), (.active, .remove, .disabled),
        (.blocked, .remove, .disabled), (.disabled, .reinvite, .invited), (.active, .block, .blocked),
        (.blocked, .unblock, .active), (.invited, .deleteUser, .deleted), (.active, .deleteUser, .deleted),
        (.disabled, .deleteUser, .deleted), (.invitationExpired, .deleteUser, .deleted), (.blocked, .deleteUser, .deleted),
    ]

    @Test("every (status, event) pair follows domain.md", arguments: S.allCases)
    func table(_ status: S) {
        for event in E.allCases {
            let expected = Self.allowed.first { $0.0 == status && $0.1 == event }?.2
            #expect(status.applying(event) == expected, "\(status) --\(event)-->")
        }
    }

    @Test func deletedIsTerminal() {
        #expect(E.allCases.allSatisfy { S.deleted.applying($0) == nil })
    }

    @Test func expiryIsComputedFromTime() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let member = AccountUser(
            id: "AUSR-0000-0000-0001", accountID: "ACC-0000-0001",
            user: User(id: "USR-0000-0001", firstName: "A", lastName: "B", email: "a@b.co", phone: nil, createdAt: now, updatedAt: now),
            groups: [], status: .invited, invitedAt: now, joinedAt: nil, lastAccessAt: nil, blockedAt: nil,
            invitationExpiresAt: now.addingTimeInterval(10), invitedBy: "X")
        #expect(member.resolved(at: now.addingTimeInterval(9.999)).status == .invited)
        #expect(member.resolved(at: now.addingTimeInterval(10)).status == .invitationExpired)
    }
}

@Suite struct PasswordPolicyTests {
    @Test(arguments: [
        ("Abcdef1!", nil),
        ("Ab1!", "password must be at least 8 characters long"),
        ("abcdefg1", "password must contain an uppercase letter and a special character"),
        ("ABCDEFG1!", "password must contain a lowercase letter"),
        ("Abcdefgh!", "password must contain a digit"),
        ("abcdefgh", "password must contain an uppercase letter, a digit and a special character"),
        ("", "password must be at least 8 characters long and contain a lowercase letter, an uppercase letter, a digit and a special character"),
        ("ab", "password must be at least 8 characters long and contain an uppercase letter, a digit and a special character"),
        ("Ünïcødé9€", nil),
    ] as [(String, String?)])
    func policy(_ password: String, _ message: String?) {
        do {
            try PasswordPolicy.check(password)
            #expect(message == nil)
        } catch {
            #expect(error.kind == .invalidArgument)
            #expect(error.message == message)
        }
    }
}

@Suite struct DurationParsingTests {
    @Test(arguments: [("90s", 90), ("15m", 900), ("12h", 43_200), ("7d", 604_800), (" 1d ", 86_400)] as [(String, Int64)])
    func valid(_ text: String, _ seconds: Int64) throws {
        #expect(try parseDuration(text) == .seconds(seconds))
    }

    @Test(arguments: [
        ("", "is empty"), ("7", "has no unit"), ("7w", "unknown unit \"w\""), ("d", "not a whole number"),
        ("-1d", "not a whole number"), ("1.5h", "not a whole number"), ("0s", "must be positive"),
        ("99999999999999999999d", "too large"), ("36501d", "too large"),
    ])
    func invalid(_ text: String, _ fragment: String) {
        do {
            _ = try parseDuration(text, field: "invitation_ttl")
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.hasPrefix("invitation_ttl: "))
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }
}

@Suite struct ValidationTests {
    @Test func emailIsNormalised() throws {
        #expect(try Validation.email("  Jane.Doe+x@Example.COM ") == "jane.doe+x@example.com")
    }

    @Test(arguments: ["", "plain", "a@b", "a@@b.co", "a b@c.co", ".a@b.co", "a@-b.co", "a@b..co"])
    func badEmails(_ email: String) {
        #expect(throws: DomainError.self) { try Validation.email(email) }
        do { _ = try Validation.email(email) } catch { #expect(error.message.hasPrefix("email: ")) }
    }

    @Test func phones() throws {
        #expect(try Validation.phone("+33 6 12 34 56 78") == "+33612345678")
        #expect(try Validation.phone(nil) == nil)
        #expect(try Validation.phone("  ") == nil)
        for bad in ["0612345678", "+33 abc", "+1 23", "+0123456789"] {
            #expect(throws: DomainError.self) { try Validation.phone(bad) }
        }
    }

    @Test func names() throws {
        #expect(try Validation.requiredText("  Jane ", field: "first_name") == "Jane")
        do { _ = try Validation.requiredText("  ", field: "first_name") } catch { #expect(error.message == "first_name: must not be empty") }
        do {
            _ = try Validation.requiredText(String(repeating: "x", count: 101), field: "last_name")
        } catch { #expect(error.message == "last_name: must be at most 100 characters and 400 bytes (got 101 characters)") }
    }

    @Test func pageSizes() throws {
        #expect(try Validation.pageSize(0) == 50)
        #expect(try Validation.pageSize(1) == 1)
        #expect(try Validation.pageSize(500) == 500)
        for bad in [-1, 501] {
            do { _ = try Validation.pageSize(bad) } catch { #expect(error.message == "page_size: must be between 1 and 500 (got \(bad))") }
        }
    }

    @Test func ids() {
        for kind in EntityKind.allCases {
            let id = kind.generate()
            #expect(kind.isValid(id), "\(id)")
        }
        #expect(EntityKind.accountUser.generate().count == 19)
        #expect(!EntityKind.user.isValid("USR-123-4567"))
        #expect(!EntityKind.user.isValid("ACC-1234-5678"))
        #expect(EntityKind.user.isValid("USR-0000-9999"))
        #expect(EntityKind.accountUser.isValid("AUSR-0123-4567-8901"))
        // Checked on bytes: only ASCII digits, exactly four per group, one
        // hyphen between groups, the prefix exactly.
        for bad in [
            "", "USR", "USR-", "usr-1234-5678", "USR-1234-5678-", "USR-12345678", "USR--1234-567",
            "USR-1234-567a", "USR-1234-56 8", "USR_1234-5678", "USR-1234-5678 ", " USR-1234-5678",
            "USR-١٢٣٤-5678",  // Arabic-Indic digits
            "USR-１２３４-5678",  // fullwidth digits
            "USR-1234-567\u{38}\u{301}",  // a digit with a combining accent
            "USR-1234\r\n-5678", "AUSR-0123-4567", "AUSR-0123-4567-8901-2345",
        ] {
            #expect(!EntityKind.user.isValid(bad), "\(bad)")
        }
        #expect(!EntityKind.accountUser.isValid("AUSR-0123-4567-890١"))
    }
}
