import ArgumentParser
import Foundation
import MarketplaceClient

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call any method of the contract with a JSON request; print the JSON answer.",
        discussion: """
            Works from the contract's descriptors (compiled into the CLI), so every
            method of Protos/ is callable, also those no other command wraps. The
            request is JSON in protobuf's JSON mapping with the proto field names
            (lowerCamel names are accepted too): enums by name, 64-bit integers as
            strings or numbers, bytes as base64, times as RFC 3339. The answer is
            printed the same way (fields at their default are left out). The
            service may be given by its full name or its last part. Reads and
            methods the contract marks idempotent are retried while the server
            restarts; others are sent once. Credentials as for every command.
            Exit codes as for every command; a request that does not match the
            method's message exits 64.
            Examples:
              marketplace-users call --list
              marketplace-users call Health/Check
              marketplace-users call marketplace.users.v1.Accounts/ListAccounts \\
                  --data '{"page_size": 10}'
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The method, SERVICE/METHOD (e.g. Accounts/ListAccounts).", valueName: "service/method"))
    var method: String?

    @Option(help: ArgumentHelp("The request as JSON ('-' reads it from stdin).", valueName: "json"))
    var data: String = "{}"

    @Flag(help: "List every service and method, with request and response types.")
    var list = false

    func validate() throws {
        if list { return }
        guard let method else { throw ValidationError("name a method as SERVICE/METHOD, or pass --list") }
        guard ContractSchema.contract.method(method) != nil else {
            throw ValidationError("no method \"\(method)\" in the contract (or the name is ambiguous); see `marketplace-users call --list`")
        }
    }

    func run() async throws {
        let schema = ContractSchema.contract
        if list {
            for m in schema.methods {
                let marker = m.idempotency == .noSideEffects ? "  (read)" : m.idempotency == .idempotent ? "  (idempotent)" : ""
                print("\(m.service)/\(m.name)  \(m.input.dropFirst()) -> \(m.output.dropFirst())\(marker)")
            }
            return
        }
        guard let name = method, let target = schema.method(name) else { return }
        let codec = ProtoJSON(schema: schema)
        try await connection.run { client in
            let text = data == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : data
            let request: [UInt8]
            do {
                let json = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                request = try codec.encode(json, as: target.input)
            } catch let failure as ProtoJSON.Failure {
                throw CLIFailure("--data: \(failure.message)", exitStatus: CLIErrors.ExitStatus.usage)
            } catch {
                throw CLIFailure("--data is not valid JSON: \(error.localizedDescription)", exitStatus: CLIErrors.ExitStatus.usage)
            }
            let answer = try await client.unary(
                service: target.service, method: target.name, payload: request, idempotency: target.idempotency)
            do {
                print(try codec.decode(answer, as: target.output).rendered())
            } catch let failure as ProtoJSON.Failure {
                throw CLIFailure(failure.message, exitStatus: CLIErrors.ExitStatus.failure)
            }
        }
    }
}
