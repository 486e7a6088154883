import Foundation
import Logging
import MarketplaceDomain
import NIOCore
import PostgresNIO

/// A value bound to a `?` placeholder.
enum SQLValue: Sendable {
    case text(String?)
    case int(Int64?)
    case bool(Bool)
    case bytes([UInt8]?)
    case texts([String])
    case ints([Int64])
}

/// One connection used synchronously by one transaction body, on a thread of
/// the store's thread pool (never an event loop): each statement blocks on
/// postgres-nio's future (`wait()`, which is legal off the event loop).
///
/// SQL is written with `?` placeholders, numbered `$1, $2, ...` here.
final class BlockingConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// Set when a statement failed with a serialization failure or deadlock:
    /// the transaction must be run again, even if the body caught the error.
    var mustRetry = false

    init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// `sql` with its `?` placeholders numbered. Works on UTF-8 bytes (`?`
    /// is never part of a multi-byte character), not on Characters, whose
    /// grapheme breaking cost microseconds per statement.
    static func numbered(_ sql: String) -> String {
        let question = UInt8(ascii: "?")
        guard sql.utf8.contains(question) else { return sql }
        var result: [UInt8] = []
        result.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        for byte in sql.utf8 {
            if byte == question {
                index += 1
                result.append(UInt8(ascii: "$"))
                result.append(contentsOf: String(index).utf8)
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func bindings(_ values: [SQLValue]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .int(let int): bindings.append(int)
            case .bool(let bool): bindings.append(bool)
            case .bytes(let bytes): bindings.append(bytes.map { ByteBuffer(bytes: $0) })
            case .texts(let texts): bindings.append(texts)
            case .ints(let ints): bindings.append(ints)
            }
        }
        return bindings
    }

    /// Statements sent with ``send(_:)`` whose outcome nobody has checked
    /// yet, oldest first.
    private var unchecked: [EventLoopFuture<PostgresQueryResult>] = []

    /// Runs one statement and returns its rows and affected-row count, after
    /// checking every statement sent before it (a failure of one of those is
    /// the cause of this one's failing, so it is what is thrown).
    @discardableResult
    func query(_ sql: String, _ values: [SQLValue] = []) throws -> PostgresQueryResult {
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: Self.bindings(values))
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        let outcome = Result { try future.wait() }
        try checkSent()
        return try noted(outcome).get()
    }

    /// Sends one statement without waiting for it: postgres-nio runs a
    /// connection's statements one after another in the order sent, so a
    /// statement sent next runs after this one, and its outcome is checked by
    /// the next ``query(_:_:)``, ``rows(prepared:)`` or ``checkSent()``.
    /// For statements whose answer the body does not need, inside a
    /// transaction: a read's `BEGIN` and `COMMIT`, `SAVEPOINT`, `RELEASE`, a
    /// delete whose count is not used (never a write's `BEGIN`: a statement
    /// after a failed `BEGIN` would commit on its own). A write's `COMMIT` is always a
    /// ``query(_:_:)``, so a write is acknowledged only after everything it
    /// sent succeeded (PostgreSQL answers `COMMIT` of a transaction that an
    /// earlier failure aborted with a rollback, not with an error).
    func send(_ sql: String, _ values: [SQLValue] = []) {
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: Self.bindings(values))
        unchecked.append(connection.query(query, logger: logger))
    }

    /// Waits for every statement sent and not yet checked; throws the first
    /// failure among them.
    func checkSent() throws {
        guard !unchecked.isEmpty else { return }
        let sent = unchecked
        unchecked.removeAll(keepingCapacity: true)
        for future in sent {
            _ = try noted(Result { try future.wait() }).get()
        }
    }

    /// `outcome`, after marking the transaction for another run when it is
    /// a serialization failure or deadlock.
    private func noted<T>(_ outcome: Result<T, any Error>) -> Result<T, any Error> {
        if case .failure(let error) = outcome, PostgresErrors.isRetryable(error) { mustRetry = true }
        return outcome
    }

    /// The rows of `statement`, prepared once per connection: postgres-nio
    /// prepares it on the connection's first use and executes it by name
    /// afterwards, so PostgreSQL does not plan it at every call (planning
    /// reading one membership with its groups costs ~0.7 ms here, several
    /// times the execution). For the hottest reads; the rest run as
    /// ``query(_:_:)``.
    func rows<Statement: PostgresPreparedStatement>(prepared statement: Statement) throws -> [SQLRow]
    where Statement.Row == PostgresRow {
        let connection = self.connection
        let logger = self.logger
        let promise = connection.eventLoop.makePromise(of: [PostgresRow].self)
        promise.completeWithTask { try await Self.rows(of: statement, on: connection, logger: logger) }
        let outcome = Result { try promise.futureResult.wait() }
        try checkSent()
        return try noted(outcome).get().map { SQLRow($0.makeRandomAccess()) }
    }

    /// Runs a prepared statement with postgres-nio's async API and collects
    /// its rows. A failure that may have come from preparing it (anything but
    /// a serialization failure or deadlock, which come from executing it)
    /// closes the connection: postgres-nio keeps a failed preparation's error
    /// for the connection's life (e.g. one prepared in an aborted
    /// transaction), so the pool must replace it rather than fail every later
    /// use of the statement.
    static func rows<Statement: PostgresPreparedStatement>(
        of statement: Statement, on connection: PostgresConnection, logger: Logger
    ) async throws -> [PostgresRow] where Statement.Row == PostgresRow {
        do {
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        } catch {
            if !PostgresErrors.isRetryable(error) { ConnectionPool.closeInBackground(connection) }
            throw error
        }
    }

    /// Runs one statement, returning how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try query(sql, values).metadata.rows ?? 0
    }

    /// Rows of a query, for decoding by column name.
    func rows(_ sql: String, _ values: [SQLValue] = []) throws -> [SQLRow] {
        try query(sql, values).rows.map { SQLRow($0.makeRandomAccess()) }
    }

    func row(_ sql: String, _ values: [SQLValue] = []) throws -> SQLRow? {
        try query(sql, values).rows.first.map { SQLRow($0.makeRandomAccess()) }
    }

    /// Runs `sql` inside a savepoint, so that a unique-constraint failure
    /// (``StoreConflict``) undoes only this statement and leaves the
    /// transaction usable. A serialization failure is rethrown as is (the
    /// whole transaction runs again).
    @discardableResult
    func executeInSavepoint(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        // SAVEPOINT is checked with the statement; RELEASE by the next one.
        send("SAVEPOINT store_statement")
        do {
            let result = try query(sql, values)
            send("RELEASE SAVEPOINT store_statement")
            return result
        } catch let error as PSQLError {
            guard error.serverInfo?[.sqlState] != nil else { throw error }  // the connection failed
            send("ROLLBACK TO SAVEPOINT store_statement")
            try query("RELEASE SAVEPOINT store_statement")
            if let conflict = PostgresErrors.conflict(error) { throw conflict }
            throw error
        }
    }
}

/// One result row, decoded by column name or position.
struct SQLRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRandomAccessRow) {
        self.row = row
    }

    func text(_ column: String) throws -> String { try row[column].decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try row[column].decode(String?.self) }
    func int(_ column: String) throws -> Int64 { try row[column].decode(Int64.self) }
    func optionalInt(_ column: String) throws -> Int64? { try row[column].decode(Int64?.self) }
    func bool(_ column: String) throws -> Bool { try row[column].decode(Bool.self) }
    func bytes(_ column: String) throws -> [UInt8] { Array(try row[column].decode(ByteBuffer.self).readableBytesView) }
    func optionalBytes(_ column: String) throws -> [UInt8]? {
        try row[column].decode(ByteBuffer?.self).map { Array($0.readableBytesView) }
    }
    func date(_ column: String) throws -> Date { Date(millisecondsSince1970: try int(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map(Date.init(millisecondsSince1970:)) }

    func text(_ index: Int) throws -> String { try row[index].decode(String.self) }
    func optionalText(_ index: Int) throws -> String? { try row[index].decode(String?.self) }
    func int(_ index: Int) throws -> Int64 { try row[index].decode(Int64.self) }
    func optionalInt(_ index: Int) throws -> Int64? { try row[index].decode(Int64?.self) }
    func bool(_ index: Int) throws -> Bool { try row[index].decode(Bool.self) }
    func date(_ index: Int) throws -> Date { Date(millisecondsSince1970: try int(index)) }
    func optionalDate(_ index: Int) throws -> Date? { try optionalInt(index).map(Date.init(millisecondsSince1970:)) }
    func texts(_ index: Int) throws -> [String] { try row[index].decode([String].self) }
}
