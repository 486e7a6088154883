/// The authorization rule of every method, in one table generated from the
/// contract (`AccessPolicy.standard`, in Generated/AccessTable.swift). A
/// method missing from it is refused (default deny), and the server refuses to
/// start when a registered method has no rule.
struct AccessPolicy: Sendable {
    /// One method's rule.
    struct Method: Sendable {
        /// `package.Service`.
        let service: String
        let method: String
        let rule: AccessRule
        /// Also open to internal services (`services: true` in the contract,
        /// only on read-only rpcs).
        let services: Bool

        init(_ service: String, _ method: String, _ rule: AccessRule, services: Bool = false) {
            self.service = service
            self.method = method
            self.rule = rule
            self.services = services
        }

        /// `package.Service/Method`.
        var name: String { "\(service)/\(method)" }
    }

    /// Every method, in the contract's order.
    let methods: [Method]
    /// The rules by service, then method: looked up on every call without
    /// building a `service/method` string.
    private let byService: [String: [String: Method]]

    init(_ methods: [Method]) {
        self.methods = methods
        var byService: [String: [String: Method]] = [:]
        for entry in methods {
            byService[entry.service, default: [:]][entry.method] = entry
        }
        self.byService = byService
    }

    func rule(service: String, method: String) -> AccessRule? {
        byService[service]?[method]?.rule
    }

    /// The method's entry (its rule and whether internal services may call it).
    func entry(service: String, method: String) -> Method? {
        byService[service]?[method]
    }
}
