import FuzzSupport
import MarketplaceClient

/// Fuzz target: the payload decoding of every message of the contract.
///
/// Input: byte 0 picks the type (`allMessageTypes[byte % count]`), the rest is
/// its payload. Properties checked besides "no crash": a payload that decodes
/// re-encodes to bytes that decode again, and that second encoding is stable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayloads(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let entry = allMessageTypes[Int(data[0]) % allMessageTypes.count]
    roundTrip(entry.type, UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfAsked(Seeds.payloadInputs)
    return 0
}

private func roundTrip<M: ProtoMessage>(_ type: M.Type, _ payload: UnsafeRawBufferPointer) {
    guard let message = try? M(serializedBytes: payload) else { return }
    let encoded = message.serializedBytes()
    let again: M
    do {
        again = try M(serializedBytes: encoded)
    } catch {
        fuzzFailure("\(M.self) decoded, but its re-encoding does not: \(error)")
    }
    if again.serializedBytes() != encoded {
        fuzzFailure("\(M.self) encoding is not stable across a decode")
    }
}
