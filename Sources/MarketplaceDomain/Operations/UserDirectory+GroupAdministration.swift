import Foundation

/// What an update of a group changes: each field set replaces the group's.
public struct GroupChanges: Sendable, Equatable {
    public var name: String?
    public var description: String?
    /// The whole new list.
    public var permissions: [String]?

    public init(name: String? = nil, description: String? = nil, permissions: [String]? = nil) {
        self.name = name
        self.description = description
        self.permissions = permissions
    }
}

// Changing and deleting an account's groups (account administrators).
extension UserDirectory {
    /// Changes a group's name, description or permissions. An update that
    /// changes nothing writes nothing. The administrators' group's permissions
    /// only grow.
    ///
    /// - Throws: `invalidArgument` for a malformed id, a bad name, description
    ///   or permissions (as ``createGroup(accountID:name:description:permissions:isAdministrators:isDefault:actor:access:)``);
    ///   `notFound` for an unknown group (or one outside the caller's account);
    ///   `alreadyExists` when another group of the account has the name
    ///   (ignoring case); `failedPrecondition` when the permissions would lose
    ///   one the administrators' group holds, or the account is disabled (administrators).
    public func updateGroup(id: String, _ changes: GroupChanges, actor: Actor, access: AccessRequirement) async throws -> Group {
        try EntityKind.group.validate(id, field: "group_id")
        let name = try changes.name.map { try Validation.requiredText($0, field: "name", maxLength: Validation.maxNameLength) }
        let description = try changes.description.map {
            try Validation.optionalText($0, field: "description", maxLength: 1000, allowsLineBreaks: true)
        }
        let permissions = try changes.permissions.map { try Validation.permissions($0) }
        let now = now()
        return try await write("update group") { w in
            var group = try Self.requireGroup(w, id, in: Self.authorize(w, access, target: id))
            var changed: [String] = []
            if let name, name != group.name {
                if let taken = try w.group(accountID: group.accountID, named: name), taken.id != id {
                    throw DomainError.alreadyExists(
                        "name: \"\(name)\" is taken: account \(group.accountID) already has the group \"\(taken.name)\" (\(taken.id)); group names are unique within an account, ignoring case")
                }
                group.name = name
                changed.append("name")
            }
            if let description, description != group.description {
                group.description = description
                changed.append("description")
            }
            if let permissions, permissions != group.permissions {
                let removed = group.permissions.filter { !permissions.contains($0) }
                if group.isAdministrators, !removed.isEmpty {
                    throw DomainError.failedPrecondition(
                        "group \(id): is the administrators' group: its permissions cannot be removed (would remove \(removed.joined(separator: ", "))); administrators keep every permission they hold")
                }
                group.permissions = permissions
                changed.append("permissions")
            }
            guard !changed.isEmpty else { return group }
            try w.update(group)
            try Self.audit(w, .groupUpdated, accountID: group.accountID, target: id, actor: actor, at: now, details: "changed=\(changed.joined(separator: ","))")
            return group
        }
    }

    /// Deletes a group; members who hold it lose it.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an
    ///   unknown group (or one outside the caller's account);
    ///   `failedPrecondition` for the administrators' group, a group that is
    ///   the only group of a membership that is not `deleted`, or a disabled
    ///   account (administrators).
    public func deleteGroup(id: String, actor: Actor, access: AccessRequirement) async throws {
        try EntityKind.group.validate(id, field: "group_id")
        let now = now()
        try await write("delete group") { w in
            let group = try Self.requireGroup(w, id, in: Self.authorize(w, access, target: id))
            guard !group.isAdministrators else {
                throw DomainError.failedPrecondition("group \(id): cannot delete the account's administrators' group")
            }
            let sole = try w.soleGroupMemberCount(groupID: id)
            guard sole == 0 else {
                let members = sole == 1 ? "1 member" : "\(sole) members"
                throw DomainError.failedPrecondition(
                    "group \(id): cannot delete: it is the only group of \(members); give them another group first (a member holds at least one)")
            }
            try w.deleteGroup(id: id)
            try Self.audit(w, .groupDeleted, accountID: group.accountID, target: id, actor: actor, at: now, details: "name=\(group.name.debugDescription)")
        }
    }
}
