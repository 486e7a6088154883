import Foundation
internal import CMarketplaceProtos

/// Copies fields out of protobuf-c's unpacked structs into Swift values, with the
/// checks protobuf-c leaves to its caller (UTF-8, timestamp ranges).
enum CDecode {
    static func string(_ p: UnsafeMutablePointer<CChar>?, field: String) throws(ProtoDecodingError) -> String {
        guard let p else { return "" }
        guard let s = String(validatingCString: p) else {
            throw ProtoDecodingError(messageType: field, reason: "string field is not valid UTF-8")
        }
        return s
    }

    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard let base = data.data, data.len > 0 else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }

    static func date(
        _ p: UnsafeMutablePointer<Google__Protobuf__Timestamp>?, field: String
    ) throws(ProtoDecodingError) -> Date? {
        guard let p else { return nil }
        return try requiredDate(p, field: field)
    }

    static func requiredDate(
        _ p: UnsafeMutablePointer<Google__Protobuf__Timestamp>?, field: String
    ) throws(ProtoDecodingError) -> Date {
        let ts = try required(p, field: field).pointee
        // google.protobuf.Timestamp's documented range: 0001-01-01 to 9999-12-31.
        guard ts.seconds >= -62_135_596_800, ts.seconds <= 253_402_300_799,
              ts.nanos >= 0, ts.nanos < 1_000_000_000
        else {
            throw ProtoDecodingError(messageType: field, reason: "timestamp out of range")
        }
        return Date(timeIntervalSince1970: Double(ts.seconds) + Double(ts.nanos) / 1e9)
    }

    static func required<T>(_ p: UnsafeMutablePointer<T>?, field: String) throws(ProtoDecodingError) -> UnsafeMutablePointer<T> {
        guard let p else {
            throw ProtoDecodingError(messageType: field, reason: "null element in repeated field")
        }
        return p
    }

    static func array<C, S>(
        _ p: UnsafeMutablePointer<C>?, count: Int, _ transform: (C) throws(ProtoDecodingError) -> S
    ) throws(ProtoDecodingError) -> [S] {
        guard let p, count > 0 else { return [] }
        var result: [S] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            result.append(try transform(p[i]))
        }
        return result
    }
}
