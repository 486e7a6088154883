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
        let emailKey = email.map(SignInThrottle.emailKey)
        let stored = try await storedSignInFailures(emailKey: emailKey)
        let attempt: SignInThrottle.Attempt
        do {
            attempt = try signInThrottle.begin(email: email, peer: peer, storedFailures: stored)
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
            if let emailKey, !stored.isEmpty { await storeSignInOutcome(emailKey: emailKey, failed: false) }
            return value
        } catch let wrong as WrongPassword {
            signInThrottle.finish(attempt, .failed)
            logger.notice("password check failed", metadata: ["during": "\(during)", "peer": "\(peer)"])
            if let emailKey { await storeSignInOutcome(emailKey: emailKey, failed: true) }
            throw wrong.error
        } catch {
            signInThrottle.finish(attempt, .abandoned)
            throw error
        }
    }

    /// How many failures the store keeps per email at most in one answer.
    private var storedFailuresRead: Int { signInThrottle.limits.failuresPerEmail + 64 }

    /// The email's failures within the throttle's window recorded by any
    /// daemon of the store, oldest first.
    private func storedSignInFailures(emailKey: String?) async throws -> [Date] {
        guard let emailKey else { return [] }
        let since = now().addingTimeInterval(-signInThrottle.limits.window.timeInterval)
        let limit = storedFailuresRead
        return try await read { r in try r.signInFailures(emailKey: emailKey, since: since, limit: limit) }
    }

    /// Records a wrong password for the email in the store (purging a few
    /// failures that left the window), or forgets its failures after a right
    /// one. A storage failure here is logged, not thrown: this process's
    /// own throttle has already counted the outcome.
    private func storeSignInOutcome(emailKey: String, failed: Bool) async {
        let now = now()
        let cutoff = now.addingTimeInterval(-signInThrottle.limits.window.timeInterval)
        do {
            try await write(failed ? "record sign-in failure" : "clear sign-in failures") { w in
                if failed {
                    try w.recordSignInFailure(emailKey: emailKey, at: now)
                    try w.deleteSignInFailures(before: cutoff, limit: 16)
                } else {
                    try w.clearSignInFailures(emailKey: emailKey)
                }
            }
        } catch {
            logger.warning("could not store a sign-in outcome", metadata: ["error": "\(error)"])
        }
    }
}
