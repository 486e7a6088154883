import Foundation

/// A wrong password found by a check run through ``UserDirectory/withPasswordCheck(email:peer:password:field:during:_:)``:
/// counted as a failure, then `error` is what the caller gets.
struct WrongPassword: Error {
    var error: DomainError
}

extension UserDirectory {
    /// Runs a password check (`body`, which hashes) the way every path that
    /// checks or hashes a password must: the password's length is checked
    /// first (at most ``PasswordPolicy/maximumBytes`` UTF-8 bytes), then the
    /// ``SignInThrottle`` may refuse a locked `email` before anything is
    /// queued, then the hashing waits for the peer's share of the hashing
    /// threads. `body` throws ``WrongPassword`` for a wrong password: that
    /// failure is counted against the email and the peer and logged (never
    /// with the password), and its `error` is thrown.
    ///
    /// - Parameters:
    ///   - email: the login whose password is guessed; `nil` when `body` only
    ///     hashes a new password (not a guess: nothing to lock).
    ///   - peer: the caller's origin (e.g. `uid:1000`); empty for none.
    ///   - during: what the check is for, for the log (`sign_in`, ...).
    func withPasswordCheck<T: Sendable>(
        email: String?, peer: String, password: String, field: String = "password", during: String,
        _ body: () async throws -> T
    ) async throws -> T {
        try PasswordPolicy.checkLength(password, field: field)
        let attempt: SignInThrottle.Attempt
        do {
            attempt = try signInThrottle.begin(email: email, peer: peer)
        } catch {
            logger.notice("password check refused", metadata: ["during": "\(during)", "peer": "\(peer)", "reason": "\(error.message)"])
            throw error
        }
        do {
            try await signInThrottle.acquireSlot(attempt)
        } catch {
            // The attempt counted as in progress for its email: end it uncounted.
            signInThrottle.finish(attempt, .abandoned)
            logger.notice("password check refused", metadata: ["during": "\(during)", "peer": "\(peer)", "reason": "\(error.message)"])
            throw error
        }
        do {
            let value = try await body()
            signInThrottle.finish(attempt, .succeeded)
            return value
        } catch let wrong as WrongPassword {
            signInThrottle.finish(attempt, .failed)
            logger.notice("password check failed", metadata: ["during": "\(during)", "peer": "\(peer)"])
            throw wrong.error
        } catch {
            signInThrottle.finish(attempt, .abandoned)
            throw error
        }
    }
}
