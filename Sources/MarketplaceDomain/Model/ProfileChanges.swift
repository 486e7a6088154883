/// Changes a user makes to their own profile; `nil` leaves a field unchanged.
public struct ProfileChanges: Sendable, Equatable {
    /// 1 to 100 characters.
    public var firstName: String?
    /// 1 to 100 characters.
    public var lastName: String?
    /// A country prefix and number (see ``Validation/phone(_:field:)``); `""` clears it.
    public var phone: String?
    /// A language tag such as `en` or `fr-CA`.
    public var language: String?
    /// A locale tag such as `en-US` or `fr_CA`.
    public var locale: String?
    /// A short name or URL of the user's icon, at most 500 characters; `""` clears it.
    public var icon: String?

    public init(
        firstName: String? = nil, lastName: String? = nil, phone: String? = nil, language: String? = nil,
        locale: String? = nil, icon: String? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
        self.language = language
        self.locale = locale
        self.icon = icon
    }

    /// Whether no field is to change.
    public var isEmpty: Bool {
        firstName == nil && lastName == nil && phone == nil && language == nil && locale == nil && icon == nil
    }
}
