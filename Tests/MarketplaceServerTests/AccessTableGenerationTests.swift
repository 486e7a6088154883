import Foundation
import MarketplaceTestSupport
import Testing

/// Scripts/protoc-gen-swift-bridge.py generates the access table from each
/// rpc's `(marketplace.options.v1.access)` option, and refuses a contract in
/// which a method has no rule or an administrator's method no valid target.
@Suite("The access table is generated from the contract, or not at all")
struct AccessTableGenerationTests {
    /// A contract of one service with one rpc `Probe`, whose option is
    /// `option`, compiled by protoc and run through the generator.
    private func generate(option: String) async throws -> (result: ProcessResult, table: String?) {
        let directory = try TemporaryDirectory(prefix: "gen")
        defer { directory.remove() }
        let protos = directory.appending("protos")
        try FileManager.default.createDirectory(atPath: protos + "/probe/v1", withIntermediateDirectories: true)
        let rpc = option.isEmpty
            ? "rpc Probe(ProbeRequest) returns (ProbeResponse);"
            : "rpc Probe(ProbeRequest) returns (ProbeResponse) { option (marketplace.options.v1.access) = \(option); }"
        try """
            syntax = "proto3";
            package probe.v1;
            import "marketplace/options/v1/access.proto";
            message ProbeRequest {
              string account_id = 1;
              repeated string group_id = 2;
              int32 member_count = 3;
            }
            message ProbeResponse {}
            service Probes {
              \(rpc)
            }
            """.write(toFile: protos + "/probe/v1/probe.proto", atomically: true, encoding: .utf8)
        let set = directory.appending("contract.pb")
        let protoc = try await runProcess(
            "/usr/bin/protoc",
            ["-I\(protos)", "-I\(repositoryRoot)/Protos", "-I/usr/include", "--include_imports",
             "--descriptor_set_out=\(set)", "probe/v1/probe.proto"])
        try #require(protoc.status == 0, "protoc failed: \(protoc.stderr)")
        let out = directory.appending("out")
        let result = try await runProcess(
            "/usr/bin/python3", [repositoryRoot + "/Scripts/protoc-gen-swift-bridge.py", set, out])
        let table = try? String(contentsOfFile: out + "/Sources/MarketplaceServer/Generated/AccessTable.swift", encoding: .utf8)
        return (result, table)
    }

    @Test("a method without a rule, or an administrator's method without a valid target, is a generation error naming it",
          arguments: [
            ("", "no access rule"),
            ("{rule: ACCESS_RULE_UNSPECIFIED}", "no access rule"),
            ("{rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR}", "needs a target"),
            ("{rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR, target: \"account_user_id\"}", "target \"account_user_id\" is not a field of probe.v1.ProbeRequest"),
            ("{rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR, target: \"group_id\"}", "target \"group_id\" of probe.v1.ProbeRequest is not a singular string field"),
            ("{rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR, target: \"member_count\"}", "target \"member_count\" is not one of account_id, account_user_id, group_id"),
            ("{rule: ACCESS_RULE_EVERYONE, target: \"account_id\"}", "only meaningful with ACCESS_RULE_ACCOUNT_ADMINISTRATOR"),
            // Internal services may change nothing: only a read-only rpc may be opened to them.
            ("{rule: ACCESS_RULE_OPERATOR_ONLY, services: true}", "services: true needs a read-only rpc"),
            ("{rule: ACCESS_RULE_OPERATOR_ONLY, services: true}; option idempotency_level = IDEMPOTENT", "services: true needs a read-only rpc"),
            ("{rule: ACCESS_RULE_SIGNED_IN_USER, services: true}; option idempotency_level = NO_SIDE_EFFECTS", "services: true is only meaningful with"),
          ])
    func refused(option: String, reason: String) async throws {
        let (result, table) = try await generate(option: option)
        #expect(result.status != 0, "generated anyway for \(option)")
        #expect(result.stderr.contains("probe.v1.Probes/Probe"), "the error names no method: \(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(table == nil, "an access table was written")
    }

    @Test("a read-only method may be opened to internal services")
    func services() async throws {
        let (result, table) = try await generate(
            option: "{rule: ACCESS_RULE_OPERATOR_ONLY, services: true}; option idempotency_level = NO_SIDE_EFFECTS")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(table?.contains(#".init("probe.v1.Probes", "Probe", .operatorOnly, services: true)"#) == true, "\(table ?? "no table")")
    }

    @Test("an administrator's method reads its target through its request type")
    func typedAccessor() async throws {
        let (result, table) = try await generate(option: "{rule: ACCESS_RULE_ACCOUNT_ADMINISTRATOR, target: \"account_id\"}")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(table?.contains(
            #".init("probe.v1.Probes", "Probe", .accountAdministrator(AccessTarget(field: "account_id", of: ProbeRequest.self) { $0.accountId }))"#
        ) == true, "\(table ?? "no table")")
    }
}
