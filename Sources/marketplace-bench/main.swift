import Foundation

// marketplace-bench: the load driver and seeder behind Scripts/bench.
//
//   marketplace-bench seed DATA_DIR [--users N] [--accounts N] [--big N]
//   marketplace-bench load --socket PATH --scenario NAME [--callers N] [--connections N]
//                          [--seconds S] [--warmup S] [--signin-callers N]
//
//   marketplace-bench staleness --socket PATH --sessions FILE [--rounds N]
//
// Scenarios: health, getuser, list, invite, signin, getuser-under-signin,
// checkaccess (needs --sessions FILE, the seeded tokens).
// `load` prints one JSON line; Scripts/bench runs the matrix and the table.

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: marketplace-bench seed DATA_DIR | load --socket PATH --scenario NAME ...\n".utf8))
    exit(64)
}

let command = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
let arguments = Array(CommandLine.arguments.dropFirst(2))

func value(_ name: String) -> String? {
    let arguments = Array(CommandLine.arguments.dropFirst(2))
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

var size = Seed.Size()
if let v = value("--users").flatMap(Int.init) { size.users = v }
if let v = value("--accounts").flatMap(Int.init) { size.accounts = v }
if let v = value("--big").flatMap(Int.init) { size.bigMembers = v }

do {
    switch command {
    case "seed":
        guard let directory = arguments.first, !directory.hasPrefix("--") else { usage() }
        try await Seed.run(dataDirectory: directory, size: size)
    case "load":
        var o = Load.Options()
        o.size = size
        guard let socket = value("--socket") else { usage() }
        o.socket = socket
        o.scenario = value("--scenario") ?? o.scenario
        if let v = value("--callers").flatMap(Int.init) { o.callers = v }
        if let v = value("--connections").flatMap(Int.init) { o.connections = v }
        if let v = value("--seconds").flatMap(Double.init) { o.seconds = v }
        if let v = value("--warmup").flatMap(Double.init) { o.warmup = v }
        if let v = value("--signin-callers").flatMap(Int.init) { o.signInCallers = v }
        if let file = value("--sessions") { Load.sessionTokens = try Staleness.tokens(file) }
        try await Load.run(o)
    case "staleness":
        guard let socket = value("--socket"), let file = value("--sessions") else { usage() }
        try await Staleness.run(socket: socket, tokens: try Staleness.tokens(file), rounds: value("--rounds").flatMap(Int.init) ?? 200)
    default:
        usage()
    }
} catch {
    FileHandle.standardError.write(Data("marketplace-bench: \(error)\n".utf8))
    exit(1)
}
