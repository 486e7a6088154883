import ArgumentParser
import Foundation
import MarketplaceServer

/// The daemon's connection budgets (issue 10, item 5): what one local peer may
/// take of the server. Each option can also be set by its environment variable.
struct ConnectionBudgetOptions: ParsableArguments {
    @Option(help: "Most connections one uid that is not an operator may hold (env MARKETPLACE_USERS_MAX_CONNECTIONS_PER_UID).")
    var maxConnectionsPerUid: Int = environment("MARKETPLACE_USERS_MAX_CONNECTIONS_PER_UID").flatMap(Int.init) ?? 256

    @Option(help: "Connections of --max-connections kept for operators (env MARKETPLACE_USERS_OPERATOR_RESERVED_CONNECTIONS).")
    var operatorReservedConnections: Int = environment("MARKETPLACE_USERS_OPERATOR_RESERVED_CONNECTIONS").flatMap(Int.init) ?? 32

    @Option(help: "Seconds a peer has to complete a frame once its first byte arrived (env MARKETPLACE_USERS_FRAME_TIMEOUT).")
    var frameTimeout: Int = environment("MARKETPLACE_USERS_FRAME_TIMEOUT").flatMap(Int.init) ?? 10

    @Option(help: "MiB all connections together may hold in partly received frames, at least 5 (env MARKETPLACE_USERS_PARTIAL_FRAME_BUDGET_MIB).")
    var partialFrameBudgetMib: Int = environment("MARKETPLACE_USERS_PARTIAL_FRAME_BUDGET_MIB").flatMap(Int.init) ?? 32

    func validate() throws {
        guard maxConnectionsPerUid > 0 else { throw ValidationError("--max-connections-per-uid must be at least 1") }
        guard operatorReservedConnections >= 0 else {
            throw ValidationError("--operator-reserved-connections must not be negative")
        }
        guard frameTimeout > 0 else { throw ValidationError("--frame-timeout must be at least 1 second") }
        guard partialFrameBudgetMib >= 5 else {
            throw ValidationError("--partial-frame-budget-mib must be at least 5 (one 4 MiB frame and its header)")
        }
    }

    /// Sets the budgets in the RPC server's configuration.
    func apply(to rpc: inout RPCServerConfiguration) throws {
        guard operatorReservedConnections < rpc.maxConnections else {
            throw ValidationError(
                "--operator-reserved-connections (\(operatorReservedConnections)) must be below --max-connections (\(rpc.maxConnections))")
        }
        rpc.maxConnectionsPerUID = maxConnectionsPerUid
        rpc.connectionsReservedForOperators = operatorReservedConnections
        rpc.partialFrameTimeout = .seconds(Int64(frameTimeout))
        rpc.maxPartialFrameBytes = partialFrameBudgetMib << 20
    }
}

private func environment(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}
