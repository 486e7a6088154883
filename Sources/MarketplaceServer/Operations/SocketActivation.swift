#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// systemd socket activation (sd_listen_fds(3)): the listening socket passed
/// by the service manager in `LISTEN_FDS`/`LISTEN_PID`, served instead of one
/// the daemon binds. The first passed descriptor (3) must be a listening Unix
/// stream socket; the daemon never unlinks its path (the socket unit owns it).
public struct SocketActivation: Sendable {
    /// The inherited listening socket.
    public let fileDescriptor: Int32
    /// Its path, as the kernel reports it (empty if unnamed).
    public let path: String

    /// The first descriptor systemd passes (SD_LISTEN_FDS_START).
    static let firstDescriptor: Int32 = 3

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads `LISTEN_PID` and `LISTEN_FDS`, then removes them (and
    /// `LISTEN_FDNAMES`) from the environment so no child inherits them.
    /// Returns nil when the variables are absent or meant for another process.
    /// - Throws: when the variables are malformed or the descriptor is not a
    ///   listening Unix stream socket.
    public static func fromEnvironment() throws(Problem) -> SocketActivation? {
        let environment = ProcessInfo.processInfo.environment
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pidText = environment["LISTEN_PID"], let countText = environment["LISTEN_FDS"] else { return nil }
        guard let pid = Int32(pidText) else { throw Problem(description: "LISTEN_PID is not a process id: '\(pidText)'") }
        guard pid == getpid() else { return nil }
        guard let count = Int(countText), count >= 0 else {
            throw Problem(description: "LISTEN_FDS is not a count: '\(countText)'")
        }
        guard count >= 1 else { return nil }
        guard count == 1 else {
            throw Problem(description: "LISTEN_FDS passes \(count) sockets; the service serves exactly one (one ListenStream= in the socket unit)")
        }
        let fd = firstDescriptor
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw Problem(description: "LISTEN_FDS: descriptor \(fd) is not a socket")
        }
        var listening: Int32 = 0
        length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length)
        var address = sockaddr_un()
        var addressLength = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &addressLength) }
        }
        guard named == 0, address.sun_family == sa_family_t(AF_UNIX), type == Int32(SOCK_STREAM.rawValue), listening == 1 else {
            throw Problem(description: "LISTEN_FDS: descriptor \(fd) is not a listening Unix stream socket (ListenStream= with a path)")
        }
        let path = withUnsafeBytes(of: address.sun_path) { raw -> String in
            let bytes = raw.prefix(while: { $0 != 0 })
            return String(decoding: bytes, as: UTF8.self)
        }
        return SocketActivation(fileDescriptor: fd, path: path)
    }
}
