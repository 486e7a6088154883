#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks on the socket path before binding: a stale socket file is removed,
/// a live server or a file that is not a socket is refused.
enum SocketPath {
    enum Problem: Error, CustomStringConvertible {
        case alreadyServing(String)
        case notASocket(String)
        case tooLong(String, Int)
        case cannotRemove(String, Int32)
        case missingDirectory(String)

        var description: String {
            switch self {
            case .alreadyServing(let path):
                "another server is already listening on \(path); stop it or choose another --socket"
            case .notASocket(let path):
                "\(path) exists and is not a socket; refusing to replace it"
            case .tooLong(let path, let max):
                "socket path \(path) is longer than the \(max) bytes a Unix socket address holds"
            case .cannotRemove(let path, let errno):
                "cannot remove stale socket \(path): \(String(cString: strerror(errno)))"
            case .missingDirectory(let dir):
                "the socket's directory \(dir) does not exist"
            }
        }
    }

    static let maxLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Makes `path` ready to bind, or says why it is not.
    static func prepare(_ path: String) throws(Problem) {
        guard path.utf8.count <= maxLength else { throw .tooLong(path, maxLength) }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var st = stat()
        if !directory.isEmpty, stat(directory, &st) != 0 { throw .missingDirectory(directory) }
        guard lstat(path, &st) == 0 else { return }  // nothing there
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw .notASocket(path) }
        if isServing(path) { throw .alreadyServing(path) }
        guard unlink(path) == 0 || errno == ENOENT else { throw .cannotRemove(path, errno) }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isServing(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(maxLength))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
