import Foundation
import MarketplaceClient

/// The contract's services, methods, messages and enums, read from the
/// `FileDescriptorSet` the generator embeds (`ContractDescriptors`): what
/// `marketplace-users call` needs to call any method by name.
struct ContractSchema: Sendable {
    struct Field: Sendable {
        var name = ""
        var jsonName = ""
        var number: UInt64 = 0
        var label: UInt64 = 1  // 1 optional, 3 repeated
        var type: UInt64 = 0  // FieldDescriptorProto.Type
        var typeName = ""
        var isRepeated: Bool { label == 3 }
    }

    struct Message: Sendable {
        var fullName = ""
        var fields: [Field] = []
    }

    struct Method: Sendable {
        var service = ""
        var name = ""
        var input = ""
        var output = ""
        var idempotency: Idempotency = .unknown
    }

    private(set) var messages: [String: Message] = [:]
    /// Enum full name -> values (name, number) in declaration order.
    private(set) var enums: [String: [(name: String, number: Int32)]] = [:]
    private(set) var methods: [Method] = []

    static let contract: ContractSchema = {
        let bytes = [UInt8](Data(base64Encoded: ContractDescriptors.fileDescriptorSetBase64) ?? Data())
        return ContractSchema(fileDescriptorSet: bytes)
    }()

    init(fileDescriptorSet bytes: [UInt8]) {
        for (number, value) in WireReader.fields(bytes) where number == 1 {
            if case .bytes(let file) = value { readFile(file) }
        }
    }

    /// The method named `Service/Method`; the service by its full name or its last part.
    func method(_ name: String) -> Method? {
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let candidates = methods.filter {
            $0.name == parts[1] && ($0.service == parts[0] || $0.service.hasSuffix("." + parts[0]))
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    private mutating func readFile(_ bytes: [UInt8]) {
        var package = ""
        for (number, value) in WireReader.fields(bytes) where number == 2 {
            package = value.string
        }
        let prefix = package.isEmpty ? "" : "." + package
        for (number, value) in WireReader.fields(bytes) {
            switch number {
            case 4: readMessage(value.data, parent: prefix)
            case 5: readEnum(value.data, parent: prefix)
            case 6: readService(value.data, package: package)
            default: break
            }
        }
    }

    private mutating func readMessage(_ bytes: [UInt8], parent: String) {
        var message = Message()
        var name = ""
        for (number, value) in WireReader.fields(bytes) where number == 1 { name = value.string }
        message.fullName = parent + "." + name
        for (number, value) in WireReader.fields(bytes) {
            switch number {
            case 2:
                var field = Field()
                for (n, v) in WireReader.fields(value.data) {
                    switch n {
                    case 1: field.name = v.string
                    case 3: field.number = v.integer
                    case 4: field.label = v.integer
                    case 5: field.type = v.integer
                    case 6: field.typeName = v.string
                    case 10: field.jsonName = v.string
                    default: break
                    }
                }
                if field.jsonName.isEmpty { field.jsonName = field.name }
                message.fields.append(field)
            case 3: readMessage(value.data, parent: message.fullName)
            case 4: readEnum(value.data, parent: message.fullName)
            default: break
            }
        }
        messages[message.fullName] = message
    }

    private mutating func readEnum(_ bytes: [UInt8], parent: String) {
        var name = ""
        var values: [(name: String, number: Int32)] = []
        for (number, value) in WireReader.fields(bytes) {
            if number == 1 { name = value.string }
            if number == 2 {
                var valueName = "", valueNumber: Int32 = 0
                for (n, v) in WireReader.fields(value.data) {
                    if n == 1 { valueName = v.string }
                    if n == 2 { valueNumber = Int32(truncatingIfNeeded: v.integer) }
                }
                values.append((valueName, valueNumber))
            }
        }
        enums[parent + "." + name] = values
    }

    private mutating func readService(_ bytes: [UInt8], package: String) {
        var name = ""
        for (number, value) in WireReader.fields(bytes) where number == 1 { name = value.string }
        let service = package.isEmpty ? name : package + "." + name
        for (number, value) in WireReader.fields(bytes) where number == 2 {
            var method = Method(service: service)
            for (n, v) in WireReader.fields(value.data) {
                switch n {
                case 1: method.name = v.string
                case 2: method.input = v.string
                case 3: method.output = v.string
                case 4:
                    for (o, level) in WireReader.fields(v.data) where o == 34 {
                        method.idempotency = level.integer == 1 ? .noSideEffects : level.integer == 2 ? .idempotent : .unknown
                    }
                default: break
                }
            }
            methods.append(method)
        }
    }
}

/// Protobuf wire format, read: (field number, value) pairs of one message.
enum WireReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])

        var integer: UInt64 {
            switch self {
            case .varint(let v), .fixed64(let v): v
            case .fixed32(let v): UInt64(v)
            case .bytes: 0
            }
        }
        var data: [UInt8] { if case .bytes(let b) = self { b } else { [] } }
        var string: String { String(decoding: data, as: UTF8.self) }
    }

    struct Malformed: Error {}

    /// The fields in order; stops at the first malformed byte (descriptors are ours).
    static func fields(_ bytes: [UInt8]) -> [(UInt64, Value)] {
        (try? parse(bytes)) ?? []
    }

    static func parse(_ bytes: [UInt8]) throws -> [(UInt64, Value)] {
        var result: [(UInt64, Value)] = []
        var index = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ count: Int) throws -> [UInt8] {
            guard count >= 0, index + count <= bytes.count else { throw Malformed() }
            defer { index += count }
            return Array(bytes[index..<index + count])
        }
        func little(_ raw: [UInt8]) -> UInt64 { raw.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        while index < bytes.count {
            let key = try varint()
            let number = key >> 3
            switch key & 7 {
            case 0: result.append((number, .varint(try varint())))
            case 1: result.append((number, .fixed64(little(try take(8)))))
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count) else { throw Malformed() }
                result.append((number, .bytes(try take(Int(length)))))
            case 5: result.append((number, .fixed32(UInt32(little(try take(4))))))
            default: throw Malformed()
            }
        }
        return result
    }
}
