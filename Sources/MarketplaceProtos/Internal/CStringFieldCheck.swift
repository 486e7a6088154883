internal import CMarketplaceProtos
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// protobuf-c unpacks a `string` field into a NUL-terminated C string, so an
/// embedded NUL (U+0000) would silently cut the value short ("Acme\0Evil"
/// read as "Acme"). This walks the length-delimited wire bytes of a message
/// that protobuf-c accepted, with its descriptor, and refuses any `string`
/// field (at any depth) whose bytes contain a NUL, naming the field.
enum CStringFieldCheck {
    /// Nesting deeper than this is refused (protobuf-c's own limit is similar).
    static let maxDepth = 64

    static func check(
        _ bytes: UnsafeRawBufferPointer, messageType: String, descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(ProtoDecodingError) {
        // Without a 0 byte anywhere, no string can hold one: skip the walk.
        guard let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil else { return }
        try walk(bytes, messageType: messageType, descriptor: descriptor, depth: 0)
    }

    private static func walk(
        _ bytes: UnsafeRawBufferPointer, messageType: String, descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        depth: Int
    ) throws(ProtoDecodingError) {
        let malformed = ProtoDecodingError(messageType: messageType, reason: "not a valid protobuf encoding")
        guard depth <= maxDepth else { throw ProtoDecodingError(messageType: messageType, reason: "messages nested too deeply") }
        var index = 0
        func varint() throws(ProtoDecodingError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                guard shift < 64 else { throw malformed }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            throw malformed
        }
        while index < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: _ = try varint()
            case 1: index += 8
            case 5: index += 4
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count - index) else { throw malformed }
                let start = index
                index += Int(length)
                guard key >> 3 <= UInt64(UInt32.max),
                      let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(key >> 3))
                else { continue }
                let value = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                if field.pointee.type == PROTOBUF_C_TYPE_STRING {
                    if let base = value.baseAddress, memchr(base, 0, value.count) != nil {
                        let name = String(cString: field.pointee.name)
                        throw ProtoDecodingError(messageType: messageType, reason: "\(name): must not contain a NUL character (U+0000)")
                    }
                } else if field.pointee.type == PROTOBUF_C_TYPE_MESSAGE, let nested = field.pointee.descriptor {
                    do {
                        try walk(
                            value, messageType: messageType,
                            descriptor: nested.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), depth: depth + 1)
                    } catch {
                        // Name the field path only when refusing (no strings built otherwise).
                        throw ProtoDecodingError(messageType: messageType, reason: String(cString: field.pointee.name) + "." + error.reason)
                    }
                }
            default:
                throw malformed
            }
            guard index <= bytes.count else { throw malformed }
        }
    }
}
