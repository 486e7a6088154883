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

        init(_ service: String, _ method: String, _ rule: AccessRule) {
            self.service = service
            self.method = method
            self.rule = rule
        }

        /// `package.Service/Method`.
        var name: String { "\(service)/\(method)" }
    }

    /// Every method, in the contract's order.
    let methods: [Method]
    /// The rules by service, then method: looked up on every call without
    /// building a `service/method` string.
    private let byService: [String: [String: AccessRule]]

    init(_ methods: [Method]) {
        self.methods = methods
        var byService: [String: [String: AccessRule]] = [:]
        for entry in methods {
            byService[entry.service, default: [:]][entry.method] = entry.rule
        }
        self.byService = byService
    }

    func rule(service: String, method: String) -> AccessRule? {
        byService[service]?[method]
    }
}
