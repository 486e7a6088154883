#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (RLIMIT_NOFILE), raised at start to what the
/// connection limit needs: past it, accept fails with EMFILE long before the
/// connection limit is reached (systemd's default soft limit is 1024).
enum DescriptorLimit {
    /// Descriptors kept beside connections: the listener, the database and its
    /// WAL files, the key file, the event loops' epoll/eventfd/timerfd, stdio.
    static let reserve = 64

    /// Raises the soft limit to `maxConnections + reserve` (up to the hard
    /// limit, which an unprivileged process cannot raise).
    /// - Returns: the soft limit now in force.
    /// - Throws: a message naming both numbers when the hard limit is too low.
    static func raise(forConnections maxConnections: Int) throws(RPCServer.StartError) -> Int {
        let needed = maxConnections + reserve
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw RPCServer.StartError(description: "cannot read RLIMIT_NOFILE: \(String(cString: strerror(errno)))")
        }
        if limit.rlim_cur != rlim_t.max, limit.rlim_cur < rlim_t(needed) {
            let hard = limit.rlim_max
            guard hard == rlim_t.max || hard >= rlim_t(needed) else {
                throw RPCServer.StartError(description:
                    "max connections \(maxConnections) need \(needed) open files, but RLIMIT_NOFILE allows at most \(hard); "
                    + "raise the limit (ulimit -n, systemd LimitNOFILE=) or lower --max-connections to \(max(1, Int(hard) - reserve))")
            }
            var raised = limit
            raised.rlim_cur = rlim_t(needed)
            guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else {
                throw RPCServer.StartError(description:
                    "max connections \(maxConnections) need \(needed) open files; raising RLIMIT_NOFILE from \(limit.rlim_cur) failed: \(String(cString: strerror(errno)))")
            }
            return needed
        }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(limit.rlim_cur)
    }
}
