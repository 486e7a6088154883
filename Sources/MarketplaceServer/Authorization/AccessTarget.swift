import MarketplaceProtos

/// The request field that names what an account administrator's call acts on
/// (`account_id`, `account_user_id` or `group_id`), read through the concrete
/// request type. Generated from the rpc's `target` in the contract, so a
/// renamed or missing field is a generation or compile error, never a request
/// that goes unchecked.
struct AccessTarget: Sendable {
    /// The field's name in the .proto.
    let field: String
    /// The request message's Swift type name, for messages.
    let requestType: String
    private let read: @Sendable (any ProtoMessage) -> String?

    init<Request: ProtoMessage>(field: String, of _: Request.Type, _ read: @escaping @Sendable (Request) -> String) {
        self.field = field
        self.requestType = String(describing: Request.self)
        self.read = { request in (request as? Request).map(read) }
    }

    /// The id `request` names in the target field; nil when `request` is not
    /// of the method's request type (a wiring bug: the caller refuses the call).
    func id(in request: any ProtoMessage) -> String? {
        read(request)
    }
}
