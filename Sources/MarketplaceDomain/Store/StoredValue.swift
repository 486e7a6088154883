/// One column value as a backend stores it, for copying a database between
/// backends (`marketplace-usersd migrate-to`) without either knowing the other.
public enum StoredValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A table to copy: its name, its columns in order, and how many rows it has.
public struct StoredTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var rowCount: Int

    public init(name: String, columns: [String], rowCount: Int) {
        self.name = name
        self.columns = columns
        self.rowCount = rowCount
    }
}
