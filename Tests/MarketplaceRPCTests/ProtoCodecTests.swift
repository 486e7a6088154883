import Foundation
import MarketplaceProtos
import Testing

@Suite("protobuf-c codec")
struct ProtoCodecTests {
    @Test("every field kind round-trips: strings, bytes, int64, repeated messages, enums")
    func roundTrip() throws {
        var request = TTRPCRequest(
            service: "marketplace.health.v1.Health", method: "Check", payload: [0, 1, 2, 255],
            timeoutNano: 1_500_000_000)
        request.metadata = [TTRPCKeyValue(key: "authorization", value: "Bearer x"), TTRPCKeyValue(key: "k", value: "ünïcødé")]
        let decoded = try TTRPCRequest(serializedBytes: request.serializedBytes())
        #expect(decoded == request)

        let response = HealthCheckResponse(status: .notServing, version: "1.2.3")
        #expect(try HealthCheckResponse(serializedBytes: response.serializedBytes()) == response)
    }

    @Test("encoding matches protobuf's wire format byte for byte")
    func wireBytes() {
        // field 1 (string) "a", field 2 (string) "b": 0a 01 61 12 01 62
        #expect(TTRPCKeyValue(key: "a", value: "b").serializedBytes() == [0x0A, 0x01, 0x61, 0x12, 0x01, 0x62])
        // proto3 defaults are not encoded
        #expect(HealthCheckResponse().serializedBytes() == [])
        #expect(HealthCheckResponse(status: .serving).serializedBytes() == [0x08, 0x01])
    }

    @Test("an enum value this version does not know survives a round trip")
    func unknownEnum() throws {
        let decoded = try HealthCheckResponse(serializedBytes: [0x08, 0x2A])
        #expect(decoded.status == .unrecognized(42))
        #expect(decoded.serializedBytes() == [0x08, 0x2A])
    }

    @Test("garbage and truncated input are refused with the message type named", arguments: [
        [0x0A, 0x05, 0x61] as [UInt8],  // length-delimited field longer than the input
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // overlong varint tag
        [0x0B],  // start group: wire type 3
    ])
    func garbage(bytes: [UInt8]) {
        #expect(throws: ProtoDecodingError.self) { try TTRPCRequest(serializedBytes: bytes) }
        do {
            _ = try TTRPCRequest(serializedBytes: bytes)
        } catch {
            #expect(error.messageType == "ttrpc.Request")
        }
    }

    @Test("a string that is not valid UTF-8 is refused, naming the field")
    func invalidUTF8() {
        do {
            _ = try TTRPCKeyValue(serializedBytes: [0x0A, 0x02, 0xC3, 0x28])
            Issue.record("invalid UTF-8 decoded")
        } catch {
            #expect(error.messageType == "ttrpc.KeyValue.key")
            #expect(error.reason.contains("UTF-8"))
        }
    }

    @Test("empty input decodes to the default message")
    func emptyInput() throws {
        #expect(try TTRPCRequest(serializedBytes: [UInt8]()) == TTRPCRequest())
    }

    @Test("large repeated fields and long strings round-trip (arena grows past its block size)")
    func large() throws {
        var request = TTRPCRequest(service: String(repeating: "s", count: 10_000))
        request.metadata = (0..<2_000).map { TTRPCKeyValue(key: "k\($0)", value: String(repeating: "v", count: $0 % 50)) }
        request.payload = Array(repeating: 0x5A, count: 100_000)
        #expect(try TTRPCRequest(serializedBytes: request.serializedBytes()) == request)
    }
}
