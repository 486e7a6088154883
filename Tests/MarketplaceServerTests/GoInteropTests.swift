import Foundation
import MarketplaceTestSupport
import Testing

/// containerd's own Go ttrpc client calls the real server.
@Suite("Interop with containerd's Go ttrpc client")
struct GoInteropTests {
    /// Builds Tests/Interop/ttrpc-health-client offline: Go messages from Protos/
    /// by protoc-gen-gofast, ttrpc and its dependencies from Debian's gocode tree.
    private func buildClient(in directory: TemporaryDirectory) async throws -> String {
        let gopath = directory.appending("go")
        try FileManager.default.createDirectory(atPath: gopath + "/src/interopclient", withIntermediateDirectories: true)
        // One protoc run per Go package: the health contract, and the options it
        // imports for its access rule (their descriptor.proto import mapped to
        // gogo's descriptor package, which Debian's gocode tree has).
        for proto in ["marketplace/health/v1/health.proto", "marketplace/options/v1/access.proto"] {
            let protoc = try await runProcess(
                "/usr/bin/protoc",
                ["-I\(repositoryRoot)/Protos", "-I/usr/include",
                 "--gofast_out=Mgoogle/protobuf/descriptor.proto=github.com/gogo/protobuf/protoc-gen-gogo/descriptor:\(gopath)/src",
                 "\(repositoryRoot)/Protos/\(proto)"])
            try #require(protoc.status == 0, "protoc --gofast_out failed for \(proto): \(protoc.stderr)")
        }
        try FileManager.default.copyItem(
            atPath: repositoryRoot + "/Tests/Interop/ttrpc-health-client/main.go",
            toPath: gopath + "/src/interopclient/main.go")
        let binary = directory.appending("ttrpc-health-client")
        let build = try await runProcess(
            "/usr/bin/go", ["build", "-o", binary, "interopclient"],
            environment: [
                "GOPATH": "\(gopath):/usr/share/gocode", "GO111MODULE": "off", "GOFLAGS": "",
                "GOCACHE": ProcessInfo.processInfo.environment["GOCACHE"] ?? (NSHomeDirectory() + "/.cache/go-build"),
            ])
        try #require(build.status == 0, "go build failed: \(build.stderr)")
        return binary
    }

    @Test("Health/Check, an unknown method and an unknown service, and 64 concurrent calls")
    func goClient() async throws {
        let directory = try TemporaryDirectory(prefix: "goi")
        defer { directory.remove() }
        let client = try await buildClient(in: directory)
        try await withUsersServer { server, _ in
            let run = try await runProcess(client, [server.configuration.rpc.socketPath])
            #expect(run.status == 0, "client failed: \(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("check code=0 status=SERVING version=0.1.0"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("unknown-method code=12 ") && $0.contains("NoSuchMethod") }, "\(lines)")
            #expect(lines.contains("unknown-service code=12"), "\(lines)")
            #expect(lines.contains("concurrent ok=64"), "\(lines)")
        }
    }
}
