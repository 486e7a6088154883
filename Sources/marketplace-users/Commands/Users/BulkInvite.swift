import ArgumentParser
import Foundation
import MarketplaceClient

/// `users invite --csv`: read, check every row, invite, report per row.
struct BulkInvite {
    let client: MarketplaceClient
    let account: String
    let path: String
    let defaultGroups: [String]
    let continueOnError: Bool
    let json: Bool

    /// A row that passed the checks.
    struct Row {
        let line: Int
        let email: String
        let request: InviteUserRequest
    }

    /// What happened to one row, as printed and as `--json` encodes it.
    struct RowResult: Encodable {
        enum Outcome: String, Encodable {
            case invited
            case alreadyMember = "already_member"
            case refused
            case invalid
        }

        let line: Int
        let email: String
        let result: Outcome
        var accountUserId: String? = nil
        var invitationLink: String? = nil
        var reason: String? = nil
        var code: String? = nil
    }

    struct Summary: Encodable {
        var invited = 0
        var alreadyMember = 0
        var refused = 0
        var invalid = 0
    }

    struct Report: Encodable {
        let accountId: String
        let file: String
        let rows: [RowResult]
        let summary: Summary
    }

    static let columns = ["email", "first_name", "last_name", "phone", "groups"]
    static let requiredColumns = ["email", "first_name", "last_name"]

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CLIFailure("cannot read \(path): \(error.localizedDescription)", exitStatus: CLIErrors.ExitStatus.usage)
        }
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch {
            throw CLIFailure("\(path):\(error.line): \(error.message)", exitStatus: CLIErrors.ExitStatus.invalid)
        }
        let (rows, invalid) = try await check(records)

        if !invalid.isEmpty && !continueOnError {
            for row in invalid { Output.note("\(path):\(row.line): \(row.reason ?? "invalid")") }
            throw CLIFailure(
                "\(invalid.count) of \(invalid.count + rows.count) rows are invalid (listed above); nobody was invited. "
                    + "Fix them, or pass --continue-on-error to invite the \(rows.count) valid rows",
                exitStatus: CLIErrors.ExitStatus.invalid)
        }

        var results = invalid
        results += try await invite(rows, alreadyCounted: invalid.count, total: invalid.count + rows.count)
        results.sort { $0.line < $1.line }
        var summary = Summary()
        for result in results {
            switch result.result {
            case .invited: summary.invited += 1
            case .alreadyMember: summary.alreadyMember += 1
            case .refused: summary.refused += 1
            case .invalid: summary.invalid += 1
            }
        }
        if json {
            try Output.printJSON(Report(accountId: account, file: path, rows: results, summary: summary))
        } else {
            Output.printTable(
                ["line", "email", "result", "account user", "link or reason"],
                results.map { r in
                    [
                        "\(r.line)", r.email, Self.phrase(r.result), r.accountUserId ?? "-",
                        r.invitationLink ?? r.reason ?? "-",
                    ]
                },
                empty: "The file has no rows.")
            print("\(summary.invited) invited, \(summary.alreadyMember) already members, \(summary.refused) refused, \(summary.invalid) invalid.")
        }
        if summary.refused + summary.invalid > 0 { throw ExitCode(CLIErrors.ExitStatus.conflict) }
    }

    static func phrase(_ outcome: RowResult.Outcome) -> String {
        switch outcome {
        case .invited: "invited"
        case .alreadyMember: "already a member"
        case .refused: "refused"
        case .invalid: "invalid"
        }
    }

    /// Checks the header and every row; returns the good rows and one result per bad row.
    func check(_ records: [CSV.Record]) async throws -> ([Row], [RowResult]) {
        guard let header = records.first else {
            throw CLIFailure("\(path) is empty; expected a header row: \(Self.columns.joined(separator: ","))", exitStatus: CLIErrors.ExitStatus.invalid)
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "_") }
        let unknown = names.filter { !Self.columns.contains($0) }
        let missing = Self.requiredColumns.filter { !names.contains($0) }
        guard unknown.isEmpty, missing.isEmpty, Set(names).count == names.count else {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing \(missing.joined(separator: ", "))") }
            if !unknown.isEmpty { problems.append("unknown \(unknown.map { "\"\($0)\"" }.joined(separator: ", "))") }
            if Set(names).count != names.count { problems.append("a column appears twice") }
            throw CLIFailure(
                "\(path):\(header.line): the header row must name the columns \(Self.columns.joined(separator: ",")) (phone and groups optional): \(problems.joined(separator: "; "))",
                exitStatus: CLIErrors.ExitStatus.invalid)
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })

        // The account's groups, so a row naming another account's group is caught before inviting anyone.
        var accountGroups: Set<String> = []
        var token = ""
        repeat {
            let page = try await client.groups.listGroups(.init(accountId: account, pageSize: 500, pageToken: token))
            accountGroups.formUnion(page.groups.map(\.id))
            token = page.nextPageToken
        } while !token.isEmpty

        var rows: [Row] = []
        var invalid: [RowResult] = []
        var firstLineOfEmail: [String: Int] = [:]
        for record in records.dropFirst() {
            func field(_ name: String) -> String {
                guard let i = index[name], i < record.fields.count else { return "" }
                return record.fields[i].trimmingCharacters(in: .whitespaces)
            }
            let email = field("email").lowercased()
            var problems: [String] = []
            if record.fields.count != names.count {
                problems.append("has \(record.fields.count) fields; the header has \(names.count)")
            }
            if let problem = Self.emailProblem(email) { problems.append(problem) }
            for (column, label) in [("first_name", "first_name"), ("last_name", "last_name")] {
                let value = field(column)
                if value.isEmpty { problems.append("\(label) is empty") }
                else if value.count > 100 { problems.append("\(label) is longer than 100 characters") }
            }
            var phone = ""
            do { phone = try PhoneParsing.parse(field("phone")) ?? "" } catch { problems.append(error.message) }
            var groups = field("groups").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if groups.isEmpty { groups = defaultGroups }
            if groups.isEmpty { problems.append("groups is empty and no --group was given") }
            for group in groups {
                if !IDKind.group.isValid(group) {
                    problems.append("group \"\(group)\" is not a valid id (expected UGR-1234-5678)")
                } else if !accountGroups.contains(group) {
                    problems.append("group \(group) is not a group of \(account)")
                }
            }
            if !email.isEmpty {
                if let first = firstLineOfEmail[email] { problems.append("\(email) is already on line \(first)") }
                else { firstLineOfEmail[email] = record.line }
            }
            if problems.isEmpty {
                rows.append(Row(line: record.line, email: email, request: InviteUserRequest(
                    accountId: account, email: email, firstName: field("first_name"), lastName: field("last_name"),
                    phone: phone, groupIds: groups)))
            } else {
                invalid.append(RowResult(line: record.line, email: email, result: .invalid, reason: problems.joined(separator: "; ")))
            }
        }
        return (rows, invalid)
    }

    /// The email checks the server makes, so a bad address is caught before anyone is invited.
    static func emailProblem(_ email: String) -> String? {
        if email.isEmpty { return "email is empty" }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+/=?^_`{|}~-")
        let labelAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard email.utf8.count <= 254, parts.count == 2,
            !parts[0].isEmpty, parts[0].utf8.count <= 64, parts[0].allSatisfy({ localAllowed.contains($0) }),
            !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains(".."),
            case let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false), labels.count >= 2,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { labelAllowed.contains($0) } && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { return "email \"\(email.prefix(80))\" is not a valid address" }
        return nil
    }

    /// Invites the rows, a few at a time, reporting progress on stderr.
    func invite(_ rows: [Row], alreadyCounted: Int, total: Int) async throws -> [RowResult] {
        var progress = Progress(total: total)
        var summary = Summary()
        summary.invalid = alreadyCounted
        var done = alreadyCounted
        var results: [RowResult] = []
        let client = self.client
        let width = 8
        try await withThrowingTaskGroup(of: RowResult.self) { group in
            var pending = rows.makeIterator()
            func addNext() -> Bool {
                guard let row = pending.next() else { return false }
                group.addTask { await Self.inviteOne(client, row) }
                return true
            }
            for _ in 0..<width where !addNext() { break }
            while let result = try await group.next() {
                if result.result == .refused, result.code == "UNAVAILABLE" || result.code == "DEADLINE_EXCEEDED" {
                    // The server went away: every later row would fail the same way.
                    group.cancelAll()
                    let invited = results.filter { $0.result == .invited }.count
                    throw CLIFailure(
                        "the server stopped answering at line \(result.line) (\(result.reason ?? "unavailable")); "
                            + "\(invited) rows were invited before that, rows in flight may or may not have been. "
                            + "Nothing else was tried. Resume by running the same command again once the server is back: "
                            + "rows already invited are reported as already members, the rest are invited",
                        exitStatus: CLIErrors.ExitStatus.unavailable)
                }
                results.append(result)
                done += 1
                switch result.result {
                case .invited: summary.invited += 1
                case .alreadyMember: summary.alreadyMember += 1
                case .refused: summary.refused += 1
                case .invalid: summary.invalid += 1
                }
                progress.update(
                    done: done,
                    line: "line \(result.line) \(result.email): \(Self.phrase(result.result))\(result.reason.map { " (\($0))" } ?? "")",
                    counts: "invited \(summary.invited), already \(summary.alreadyMember), refused \(summary.refused)")
                _ = addNext()
            }
        }
        return results
    }

    static func inviteOne(_ client: MarketplaceClient, _ row: Row) async -> RowResult {
        do {
            let response = try await client.accountUsers.inviteUser(row.request)
            return RowResult(
                line: row.line, email: row.email, result: .invited, accountUserId: response.accountUser?.id,
                invitationLink: response.invitationLink)
        } catch {
            if error.code == .alreadyExists {
                // Name the existing membership, so the report says who and in which state.
                let existing = try? await client.accountUsers.listAccountUsers(
                    .init(accountId: row.request.accountId, query: row.email, pageSize: 10)
                ).accountUsers.first { $0.user?.email.lowercased() == row.email }
                return RowResult(
                    line: row.line, email: row.email, result: .alreadyMember, accountUserId: existing?.id,
                    reason: existing.map { "status: \($0.statusPhrase())" } ?? error.message, code: error.code.name)
            }
            return RowResult(line: row.line, email: row.email, result: .refused, reason: error.message, code: error.code.name)
        }
    }
}
