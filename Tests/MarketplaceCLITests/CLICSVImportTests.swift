import Foundation
import MarketplaceClient
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// `users invite --csv`: check every row first, invite, report per row; twice is harmless.
@Suite("CLI: CSV bulk invite")
struct CLICSVImportTests {
    @Test("bad rows are all reported with line numbers and nobody is invited")
    func badRowsStopEverything() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let other = try await Fixture.make(client, name: "Other")
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let file = directory.appending("people.csv")
            try """
                email,first_name,last_name,phone,groups
                ok@example.com,Ok,Person,,\(fixture.salesGroupID)
                not-an-email,Bad,Email,,\(fixture.salesGroupID)
                noname@example.com,,Person,,\(fixture.salesGroupID)
                phone@example.com,Bad,Phone,12345,\(fixture.salesGroupID)
                foreign@example.com,Foreign,Group,,\(other.salesGroupID)
                OK@example.com,Dup,Licate,,\(fixture.salesGroupID)
                """.write(toFile: file, atomically: true, encoding: .utf8)

            let run = try await cli(["users", "invite", "--account", fixture.accountID, "--csv", file])
            #expect(run.status == 6, "\(run.stderr)")
            #expect(run.stdout.isEmpty)
            for line in 3...7 { #expect(run.stderr.contains("people.csv:\(line): "), "line \(line): \(run.stderr)") }
            #expect(!run.stderr.contains("people.csv:2: "))
            #expect(run.stderr.contains("not a group of \(fixture.accountID)"))
            #expect(run.stderr.contains("already on line 2"))
            #expect(run.stderr.contains("nobody was invited") && run.stderr.contains("--continue-on-error"), "\(run.stderr)")
            let members = try await client.accountUsers.listAccountUsers(.init(accountId: fixture.accountID)).accountUsers
            #expect(members.isEmpty)

            // A missing header column is named.
            try "mail,first_name,last_name\nx@example.com,X,Y\n".write(toFile: file, atomically: true, encoding: .utf8)
            let header = try await cli(["users", "invite", "--account", fixture.accountID, "--csv", file])
            #expect(header.status == 6)
            #expect(header.stderr.contains("missing email") && header.stderr.contains("unknown \"mail\""), "\(header.stderr)")
        }
    }

    @Test("good rows are invited with links; a second run reports already a member; --continue-on-error skips bad rows")
    func importTwice() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let file = directory.appending("people.csv")
            try """
                email,first_name,last_name,phone,groups\r
                ada@example.com,Ada,Lovelace,+44 20 7123 4567,\(fixture.salesGroupID);\(fixture.adminGroupID)\r
                "grace@example.com","Grace","Hopper, Jr.",,\r
                \r
                linus@example.com,Linus,Torvalds,,\(fixture.salesGroupID)\r
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let arguments = ["users", "invite", "--account", fixture.accountID, "--csv", file, "--group", fixture.salesGroupID]

            let first = try await cli(arguments)
            #expect(first.status == 0, "\(first.stderr)")
            let lines = first.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("LINE") == true, "\(first.stdout)")
            #expect(lines.filter { $0.contains(" invited ") && $0.contains("https://") }.count == 3, "\(first.stdout)")
            #expect(first.stdout.contains("3 invited, 0 already members, 0 refused, 0 invalid."))
            // Not a terminal: plain progress lines on stderr.
            #expect(first.stderr.contains("[3/3]"), "\(first.stderr)")
            #expect(!first.stderr.contains("\r"))
            let grace = try await client.users.findUserByEmail(.init(email: "grace@example.com")).user
            #expect(grace?.lastName == "Hopper, Jr.")

            let second = try await cli(arguments + ["--json"])
            #expect(second.status == 0, "\(second.stderr)")
            let report = try parseJSON(second.stdout)
            let rows = report.objects("rows")
            #expect(rows.map { $0["line"] as? Int } == [2, 3, 5])
            #expect(rows.allSatisfy { $0.string("result") == "already_member" && $0.string("accountUserId")?.hasPrefix("AUSR-") == true })
            #expect(report.object("summary")?["alreadyMember"] as? Int == 3)
            #expect(report.object("summary")?["invited"] as? Int == 0)
            let members = try await client.accountUsers.listAccountUsers(.init(accountId: fixture.accountID)).accountUsers
            #expect(members.count == 3)

            // --continue-on-error invites the good rows and reports the bad one (exit 5).
            try """
                email,first_name,last_name,groups
                new@example.com,New,Person,\(fixture.salesGroupID)
                broken,Broken,Row,\(fixture.salesGroupID)
                ada@example.com,Ada,Lovelace,\(fixture.salesGroupID)
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let mixed = try await cli(["users", "invite", "--account", fixture.accountID, "--csv", file, "--continue-on-error", "--json"])
            #expect(mixed.status == 5, "\(mixed.stderr)")
            let mixedRows = try parseJSON(mixed.stdout).objects("rows")
            #expect(mixedRows.map { $0.string("result") } == ["invited", "invalid", "already_member"])
            #expect(mixedRows[0].string("invitationLink")?.hasPrefix("https://") == true)
            #expect(mixedRows[1].string("reason")?.contains("not a valid address") == true)
        }
    }

    @Test("a 1,000-row file imports with a correct report")
    func thousandRows() async throws {
        try await withUsersServer { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let file = directory.appending("big.csv")
            var text = "email,first_name,last_name,groups\n"
            for i in 0..<1_000 { text += "person\(i)@example.com,Person,Number \(i),\(fixture.salesGroupID)\n" }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let run = try await cli(["users", "invite", "--account", fixture.accountID, "--csv", file, "--json"])
            #expect(run.status == 0, "\(run.stderr.suffix(500))")
            let report = try parseJSON(run.stdout)
            #expect(report.object("summary")?["invited"] as? Int == 1_000)
            #expect(Set(report.objects("rows").compactMap { $0.string("invitationLink") }).count == 1_000)
            #expect(run.stderr.contains("[1000/1000]"))
        }
    }
}

@Suite("CLI: a bulk invite when the server goes away")
struct CLICSVServerGoneTests {
    @Test("the import stops at once with exit 7, says how to resume, and resuming invites the rest")
    func serverGoesAway() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.appending("many.csv")
        let (socket, accountID, rows): (String, String, Int) = try await withUsersServer(in: directory) { server, client in
            let cli = CLI(server)
            let fixture = try await Fixture.make(client)
            let rows = 3_000
            var text = "email,first_name,last_name,groups\n"
            for i in 0..<rows { text += "person\(i)@example.com,Person,Number \(i),\(fixture.salesGroupID)\n" }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let run = Task { try await cli(["users", "invite", "--account", fixture.accountID, "--csv", file]) }
            // Once some rows are in, the server goes away.
            while try await client.accountUsers.listAccountUsers(.init(accountId: fixture.accountID, pageSize: 30)).accountUsers.count < 30 {
                try await Task.sleep(for: .milliseconds(5))
            }
            await client.close()
            await server.shutdownGracefully()
            let result = try await run.value
            #expect(result.status == 7, "\(result.stderr.suffix(800))")
            #expect(result.stderr.contains("the server stopped answering"), "\(result.stderr.suffix(800))")
            #expect(result.stderr.contains("running the same command again"), "\(result.stderr.suffix(800))")
            let refused = result.stderr.components(separatedBy: "refused").count - 1
            #expect(refused < 20, "it stopped at once, not row after row: \(refused) refusals")
            return (server.configuration.rpc.socketPath, fixture.accountID, rows)
        }
        // Resume: the same command, once the server is back on the same data.
        try await withUsersServer(in: directory) { server, client in
            let run = try await CLI(server)(["users", "invite", "--account", accountID, "--csv", file, "--json"])
            #expect(run.status == 0, "\(run.stderr.suffix(500))")
            let summary = try #require(try parseJSON(run.stdout).object("summary"))
            let invited = summary["invited"] as? Int ?? -1, already = summary["alreadyMember"] as? Int ?? -1
            #expect(invited + already == rows && already >= 30, "\(summary)")
            _ = socket
            _ = client
        }
    }
}
