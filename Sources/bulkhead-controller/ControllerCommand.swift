import ArgumentParser
import Controller
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Serves the provider API over gRPC (HTTP/2, plaintext on loopback or a
/// unix socket for now; TLS comes with the management channel).
@main
struct ControllerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bulkhead-controller",
    abstract: "Serve Bulkhead's provider API from a desired-state store.",
    discussion: """
      Examples:
        bulkhead-controller --database state.sqlite --tokens tokens.json
        bulkhead-controller --database state.sqlite --tokens tokens.json --unix /run/bulkhead.sock

      The token file maps bearer tokens to principals:
        { "tokens": [ { "token": "s3cret", "role": "provider-admin" },
                      { "token": "acme-token", "tenant": "acme" } ] }
      """)

  @Option(help: "SQLite file holding the desired state (created if missing).")
  var database: String

  @Option(help: "JSON file of bearer tokens.")
  var tokens: String

  @Option(help: "Listen on HOST:PORT (loopback by default; port 0 picks a free port).")
  var listen: String = "127.0.0.1:50051"

  @Option(help: "Listen on this unix socket instead of TCP.")
  var unix: String?

  @Option(help: "VNIs to allocate to VPCs, FIRST-LAST.")
  var vniRange: String = "4096-16777215"

  @Option(help: "Seconds a request id is remembered for retries.")
  var idempotencyTtl: Int = 86_400

  func run() async throws {
    let bounds = vniRange.split(separator: "-").compactMap { UInt32($0) }
    guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1], bounds[1] <= 0xFF_FFFF else {
      throw ValidationError("--vni-range '\(vniRange)' is not FIRST-LAST within 1-16777215")
    }
    let store = try SQLiteDesiredStateStore(path: database)
    let authenticator = try Authenticator(file: tokens)
    let resources = ResourceService(
      store: store,
      configuration: ControllerConfiguration(
        idempotencyTTL: .seconds(idempotencyTtl), vniRange: bounds[0]...bounds[1]))
    let address: GRPCNIOTransportCore.SocketAddress
    if let unix {
      // A stale socket from an earlier run would make bind fail.
      try? FileManager.default.removeItem(atPath: unix)
      address = .unixDomainSocket(path: unix)
    } else {
      guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...])
      else {
        throw ValidationError("--listen '\(listen)' is not HOST:PORT")
      }
      address = .ipv4(host: String(listen[..<colon]), port: port)
    }
    let server = GRPCServer(
      transport: .http2NIOPosix(address: address, transportSecurity: .plaintext),
      services: providerAPIServices(resources: resources, authenticator: authenticator))
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask { try await server.serve() }
      if let bound = try await server.listeningAddress {
        // Scripts and tests wait for this line.
        // Written straight to the descriptor: stdout is block-buffered in a pipe.
        FileHandle.standardOutput.write(Data("bulkhead-controller: listening on \(bound)\n".utf8))
      }
      group.addTask {
        // Forget request ids past their time, once a minute.
        while !Task.isCancelled {
          try await Task.sleep(for: .seconds(60))
          _ = try await store.purgeIdempotencyRecords(expiredBefore: Date())
        }
      }
    }
  }
}
