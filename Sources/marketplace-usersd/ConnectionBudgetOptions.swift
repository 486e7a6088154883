import ArgumentParser
import MarketplaceServer

/// The daemon's connection budgets (issue 10, item 5): what one local peer may
/// take of the server. Each option can also be set by its environment
/// variable, parsed as strictly as the flag (`ServeSettings`).
struct ConnectionBudgetOptions: ParsableArguments {
    @Option(help: "Most connections one uid that is not an operator may hold (default 256; env MARKETPLACE_USERS_MAX_CONNECTIONS_PER_UID).")
    var maxConnectionsPerUid: Int?

    @Option(help: "Connections of --max-connections kept for operators (default 32; env MARKETPLACE_USERS_OPERATOR_RESERVED_CONNECTIONS).")
    var operatorReservedConnections: Int?

    @Option(help: "Seconds a peer has to complete a frame once its first byte arrived (default 10; env MARKETPLACE_USERS_FRAME_TIMEOUT).")
    var frameTimeout: Int?

    @Option(help: "MiB all connections together may hold in partly received frames, at least 5 (default 32; env MARKETPLACE_USERS_PARTIAL_FRAME_BUDGET_MIB).")
    var partialFrameBudgetMib: Int?
}

/// The budgets, resolved from the flags, then the environment, then the defaults.
struct ConnectionBudgets {
    var maxConnectionsPerUID: Sourced<Int>
    var operatorReservedConnections: Sourced<Int>
    var frameTimeout: Sourced<Int>
    var partialFrameBudgetMiB: Sourced<Int>

    init(_ o: ConnectionBudgetOptions, maxConnections: Sourced<Int>, source: SettingSource) throws {
        func integer(_ value: Int?, _ flag: String, _ variable: String, _ fallback: Int) throws -> Sourced<Int> {
            try source.value(value, flag: flag, variable: variable, default: fallback, expected: "an integer", parse: { Int($0) })
        }
        maxConnectionsPerUID = try integer(
            o.maxConnectionsPerUid, "--max-connections-per-uid", "MARKETPLACE_USERS_MAX_CONNECTIONS_PER_UID", 256)
        guard maxConnectionsPerUID.value > 0 else { throw ValidationError("\(maxConnectionsPerUID.name) must be at least 1") }
        operatorReservedConnections = try integer(
            o.operatorReservedConnections, "--operator-reserved-connections", "MARKETPLACE_USERS_OPERATOR_RESERVED_CONNECTIONS", 32)
        guard operatorReservedConnections.value >= 0 else {
            throw ValidationError("\(operatorReservedConnections.name) must not be negative")
        }
        guard operatorReservedConnections.value < maxConnections.value else {
            throw ValidationError(
                "\(operatorReservedConnections.name) (\(operatorReservedConnections.value)) must be below \(maxConnections.name) (\(maxConnections.value))")
        }
        frameTimeout = try integer(o.frameTimeout, "--frame-timeout", "MARKETPLACE_USERS_FRAME_TIMEOUT", 10)
        guard frameTimeout.value > 0 else { throw ValidationError("\(frameTimeout.name) must be at least 1 second") }
        partialFrameBudgetMiB = try integer(
            o.partialFrameBudgetMib, "--partial-frame-budget-mib", "MARKETPLACE_USERS_PARTIAL_FRAME_BUDGET_MIB", 32)
        guard partialFrameBudgetMiB.value >= 5 else {
            throw ValidationError("\(partialFrameBudgetMiB.name) must be at least 5 (one 4 MiB frame and its header)")
        }
    }

    /// Sets the budgets in the RPC server's configuration.
    func apply(to rpc: inout RPCServerConfiguration) {
        rpc.maxConnectionsPerUID = maxConnectionsPerUID.value
        rpc.connectionsReservedForOperators = operatorReservedConnections.value
        rpc.partialFrameTimeout = .seconds(Int64(frameTimeout.value))
        rpc.maxPartialFrameBytes = partialFrameBudgetMiB.value << 20
    }
}
