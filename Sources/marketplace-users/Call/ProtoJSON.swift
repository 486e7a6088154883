import Foundation
import MarketplaceClient

/// Protobuf <-> JSON for any message of the contract, driven by its
/// descriptors (protobuf's JSON mapping): fields by their proto name (the
/// lowerCamel JSON name is accepted too), 64-bit integers as strings (numbers
/// accepted), enums by name (numbers accepted), bytes as base64,
/// `google.protobuf.Timestamp` as RFC 3339, repeated fields as arrays, fields
/// at their default left out.
struct ProtoJSON {
    let schema: ContractSchema

    struct Failure: Error { let message: String }

    static let timestamp = ".google.protobuf.Timestamp"

    // MARK: JSON -> protobuf

    func encode(_ json: Any, as type: String, path: String = "") throws(Failure) -> [UInt8] {
        if type == Self.timestamp { return try encodeTimestamp(json, path: path) }
        guard let message = schema.messages[type] else { throw Failure(message: "\(path.isEmpty ? "request" : path): unknown message type \(type)") }
        guard let object = json as? [String: Any] else {
            throw Failure(message: "\(path.isEmpty ? "the request" : path) must be a JSON object (\(type.dropFirst()))")
        }
        var out: [UInt8] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let where_ = path.isEmpty ? key : "\(path).\(key)"
            guard let field = message.fields.first(where: { $0.name == key || $0.jsonName == key }) else {
                let known = message.fields.map(\.name).joined(separator: ", ")
                throw Failure(message: "\(where_): \(type.dropFirst()) has no field \"\(key)\" (fields: \(known))")
            }
            if value is NSNull { continue }
            if field.isRepeated {
                guard let array = value as? [Any] else { throw Failure(message: "\(where_): must be an array") }
                for (index, element) in array.enumerated() {
                    try encodeField(field, element, path: "\(where_)[\(index)]", into: &out)
                }
            } else {
                try encodeField(field, value, path: where_, into: &out)
            }
        }
        return out
    }

    private func encodeField(_ field: ContractSchema.Field, _ value: Any, path: String, into out: inout [UInt8]) throws(Failure) {
        let n = field.number
        switch field.type {
        case 1:  // double
            Self.key(n, 1, &out); Self.little(try number(value, path).bitPattern, 8, &out)
        case 2:  // float
            Self.key(n, 5, &out); Self.little(UInt64(Float(try number(value, path)).bitPattern), 4, &out)
        case 3, 5:  // int64, int32
            Self.key(n, 0, &out); Self.varint(UInt64(bitPattern: try integer(value, path, bits: field.type == 3 ? 64 : 32)), &out)
        case 4, 13:  // uint64, uint32
            Self.key(n, 0, &out); Self.varint(try unsigned(value, path, bits: field.type == 4 ? 64 : 32), &out)
        case 6, 7:  // fixed64, fixed32
            Self.key(n, field.type == 6 ? 1 : 5, &out)
            Self.little(try unsigned(value, path, bits: field.type == 6 ? 64 : 32), field.type == 6 ? 8 : 4, &out)
        case 15, 16:  // sfixed32, sfixed64
            Self.key(n, field.type == 16 ? 1 : 5, &out)
            let v = try integer(value, path, bits: field.type == 16 ? 64 : 32)
            Self.little(UInt64(bitPattern: v), field.type == 16 ? 8 : 4, &out)
        case 17, 18:  // sint32, sint64 (zigzag)
            let v = try integer(value, path, bits: field.type == 18 ? 64 : 32)
            Self.key(n, 0, &out); Self.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
        case 8:  // bool
            guard let b = value as? Bool else { throw Failure(message: "\(path): must be true or false") }
            Self.key(n, 0, &out); Self.varint(b ? 1 : 0, &out)
        case 9:  // string
            guard let s = value as? String else { throw Failure(message: "\(path): must be a string") }
            Self.bytesField(n, Array(s.utf8), &out)
        case 12:  // bytes
            guard let s = value as? String, let data = Data(base64Encoded: s) else {
                throw Failure(message: "\(path): must be base64 text")
            }
            Self.bytesField(n, [UInt8](data), &out)
        case 14:  // enum
            Self.key(n, 0, &out); Self.varint(UInt64(bitPattern: Int64(try enumNumber(value, field.typeName, path))), &out)
        case 11:  // message
            Self.bytesField(n, try encode(value, as: field.typeName, path: path), &out)
        default:
            throw Failure(message: "\(path): field type \(field.type) is not supported")
        }
    }

    private func enumNumber(_ value: Any, _ type: String, _ path: String) throws(Failure) -> Int32 {
        let values = schema.enums[type] ?? []
        if let name = value as? String {
            guard let found = values.first(where: { $0.name == name }) else {
                throw Failure(message: "\(path): \"\(name)\" is not a value of \(type.dropFirst()) (values: \(values.map(\.name).joined(separator: ", ")))")
            }
            return found.number
        }
        return Int32(truncatingIfNeeded: try integer(value, path, bits: 32))
    }

    private func number(_ value: Any, _ path: String) throws(Failure) -> Double {
        if let s = value as? String, let d = Double(s) { return d }
        if let n = value as? NSNumber, !(value is Bool) { return n.doubleValue }
        throw Failure(message: "\(path): must be a number")
    }

    private func integer(_ value: Any, _ path: String, bits: Int) throws(Failure) -> Int64 {
        var result: Int64?
        if let s = value as? String { result = Int64(s) }
        else if let n = value as? NSNumber {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9.3e18 { result = n.int64Value }
        }
        guard let result, bits == 64 || (Int64(Int32.min)...Int64(Int32.max)).contains(result) else {
            throw Failure(message: "\(path): must be a \(bits)-bit integer")
        }
        return result
    }

    private func unsigned(_ value: Any, _ path: String, bits: Int) throws(Failure) -> UInt64 {
        var result: UInt64?
        if let s = value as? String { result = UInt64(s) }
        else if let n = value as? NSNumber {
            let d = n.doubleValue
            if d == d.rounded(), d >= 0, d < 1.8e19 { result = n.uint64Value }
        }
        guard let result, bits == 64 || result <= UInt64(UInt32.max) else {
            throw Failure(message: "\(path): must be an unsigned \(bits)-bit integer")
        }
        return result
    }

    private func encodeTimestamp(_ value: Any, path: String) throws(Failure) -> [UInt8] {
        guard let text = value as? String, let (seconds, nanos) = Self.parseRFC3339(text) else {
            throw Failure(message: "\(path): must be an RFC 3339 time, e.g. \"2026-01-31T12:00:00Z\"")
        }
        var out: [UInt8] = []
        if seconds != 0 { Self.key(1, 0, &out); Self.varint(UInt64(bitPattern: seconds), &out) }
        if nanos != 0 { Self.key(2, 0, &out); Self.varint(UInt64(nanos), &out) }
        return out
    }

    static func parseRFC3339(_ text: String) -> (Int64, Int32)? {
        let formatter = ISO8601DateFormatter()
        var nanos: Int32 = 0
        var base = text
        // Fractional seconds, kept exactly (up to 9 digits).
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let digits = text[text.index(after: dot)..<end]
            guard !digits.isEmpty, digits.count <= 9 else { return nil }
            nanos = Int32(digits.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
            base = String(text[..<dot] + text[end...])
        }
        guard let date = formatter.date(from: base) else { return nil }
        return (Int64(date.timeIntervalSince1970.rounded(.down)), nanos)
    }

    private static func key(_ number: UInt64, _ wire: UInt64, _ out: inout [UInt8]) { varint(number << 3 | wire, &out) }

    private static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    private static func little(_ value: UInt64, _ count: Int, _ out: inout [UInt8]) {
        for i in 0..<count { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    private static func bytesField(_ number: UInt64, _ bytes: [UInt8], _ out: inout [UInt8]) {
        key(number, 2, &out); varint(UInt64(bytes.count), &out); out += bytes
    }

    // MARK: protobuf -> JSON

    func decode(_ bytes: [UInt8], as type: String) throws(Failure) -> JSONValue {
        let wire: [(UInt64, WireReader.Value)]
        do { wire = try WireReader.parse(bytes) } catch { throw Failure(message: "the answer is not a valid \(type.dropFirst())") }
        if type == Self.timestamp {
            var seconds: Int64 = 0, nanos: Int32 = 0
            for (n, v) in wire {
                if n == 1 { seconds = Int64(bitPattern: v.integer) }
                if n == 2 { nanos = Int32(truncatingIfNeeded: v.integer) }
            }
            return .string(Self.formatRFC3339(seconds: seconds, nanos: nanos))
        }
        guard let message = schema.messages[type] else { throw Failure(message: "unknown message type \(type)") }
        var members: [(String, JSONValue)] = []
        for field in message.fields.sorted(by: { $0.number < $1.number }) {
            let values = wire.filter { $0.0 == field.number }.map(\.1)
            guard !values.isEmpty else { continue }
            if field.isRepeated {
                var items: [JSONValue] = []
                for value in values {
                    if case .bytes(let packed) = value, Self.isPackable(field.type) {
                        for element in try unpack(packed, field) { items.append(try scalar(element, field)) }
                    } else {
                        items.append(try scalar(value, field))
                    }
                }
                members.append((field.name, .array(items)))
            } else {
                members.append((field.name, try scalar(values[values.count - 1], field)))
            }
        }
        return .object(members)
    }

    private static func isPackable(_ type: UInt64) -> Bool { ![9, 11, 12].contains(type) }

    private func unpack(_ bytes: [UInt8], _ field: ContractSchema.Field) throws(Failure) -> [WireReader.Value] {
        var result: [WireReader.Value] = []
        var index = 0
        func little(_ count: Int) throws(Failure) -> UInt64 {
            guard index + count <= bytes.count else { throw Failure(message: "\(field.name): truncated packed field") }
            defer { index += count }
            return bytes[index..<index + count].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        while index < bytes.count {
            switch field.type {
            case 1, 6, 16: result.append(.fixed64(try little(8)))
            case 2, 7, 15: result.append(.fixed32(UInt32(try little(4))))
            default:
                var value: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard index < bytes.count, shift < 64 else { throw Failure(message: "\(field.name): bad varint") }
                    let byte = bytes[index]
                    index += 1
                    value |= UInt64(byte & 0x7F) << shift
                    if byte < 0x80 { break }
                    shift += 7
                }
                result.append(.varint(value))
            }
        }
        return result
    }

    private func scalar(_ value: WireReader.Value, _ field: ContractSchema.Field) throws(Failure) -> JSONValue {
        let raw = value.integer
        switch field.type {
        case 1: return .number(Self.formatDouble(Double(bitPattern: raw)))
        case 2: return .number(Self.formatDouble(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))))
        case 3, 16: return .string(String(Int64(bitPattern: raw)))
        case 4, 6: return .string(String(raw))
        case 5, 15: return .number(String(Int32(truncatingIfNeeded: raw)))
        case 7, 13: return .number(String(UInt32(truncatingIfNeeded: raw)))
        case 17: return .number(String(Int32(truncatingIfNeeded: Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1))))
        case 18: return .string(String(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)))
        case 8: return .bool(raw != 0)
        case 9: return .string(value.string)
        case 12: return .string(Data(value.data).base64EncodedString())
        case 14:
            let number = Int32(truncatingIfNeeded: raw)
            if let name = schema.enums[field.typeName]?.first(where: { $0.number == number })?.name { return .string(name) }
            return .number(String(number))
        case 11: return try decode(value.data, as: field.typeName)
        default: throw Failure(message: "\(field.name): field type \(field.type) is not supported")
        }
    }

    static func formatRFC3339(seconds: Int64, nanos: Int32) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        if nanos != 0 {
            var fraction = String(format: "%09d", nanos)
            while fraction.hasSuffix("000") { fraction.removeLast(3) }
            text = String(text.dropLast()) + "." + fraction + "Z"
        }
        return text
    }

    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "\"NaN\"" }
        if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

/// JSON with members in a fixed order, printed with two-space indentation.
indirect enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)

    func rendered(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { "\(inner)\(Self.quote($0.0)): \($0.1.rendered(indent: inner))" }.joined(separator: ",\n") + "\n\(indent)}"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + $0.rendered(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .string(let s): return Self.quote(s)
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        }
    }

    static func quote(_ s: String) -> String { JSONString.quoted(s) }
}
