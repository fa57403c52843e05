import ArgumentParser
import CardTLS
import Controller
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ProviderPKI

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
        bulkhead-controller --database state.sqlite --tokens tokens.json --pki pki --management-listen 0.0.0.0:7443

      --pki names the folder `dpuctl pki init` made (ca.crt, controller.crt,
      controller.key, key-seed); with it the controller serves the cards'
      management channel (mutual TLS 1.3) and pushes each card its desired
      state. With key-seed it also makes the ESP keys of every two cards
      that serve a common VPC, pushes them wrapped with each card's
      key-encryption key, and rotates them every --underlay-rekey-seconds
      (make-before-break: no packet is lost).

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

  @Option(
    help:
      "Folder with ca.crt, controller.crt and controller.key (dpuctl pki); enables the management channel.")
  var pki: String?

  @Option(help: "Where cards connect: IP:PORT (port 0 picks a free port).")
  var managementListen: String = "127.0.0.1:7443"

  @Option(help: "Seconds each card-pair ESP key is used before the next one replaces it.")
  var underlayRekeySeconds: Int = 3600

  @Option(
    help: """
      Where a volume lives when its creator names no backend (tenants never do): \
      file://DIR/TENANT/VOLUME.img on the card; start the cards with --volume-dir at or above it.
      """)
  var volumeRoot: String = ControllerConfiguration.defaultVolumeRoot

  func run() async throws {
    let bounds = vniRange.split(separator: "-").compactMap { UInt32($0) }
    guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1], bounds[1] <= 0xFF_FFFF else {
      throw ValidationError("--vni-range '\(vniRange)' is not FIRST-LAST within 1-16777215")
    }
    let store = ObservedDesiredStateStore(try SQLiteDesiredStateStore(path: database))
    let authenticator = try Authenticator(file: tokens)
    guard volumeRoot.hasPrefix("/"),
      !volumeRoot.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
    else {
      throw ValidationError("--volume-root '\(volumeRoot)' is not an absolute directory without '.' or '..'")
    }
    let resources = ResourceService(
      store: store,
      configuration: ControllerConfiguration(
        idempotencyTTL: .seconds(idempotencyTtl), vniRange: bounds[0]...bounds[1],
        volumeRoot: volumeRoot.count > 1 && volumeRoot.hasSuffix("/")
          ? String(volumeRoot.dropLast()) : volumeRoot))
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
    guard underlayRekeySeconds >= 1 else {
      throw ValidationError("--underlay-rekey-seconds must be 1 or more")
    }
    var keyring: UnderlayKeyring? = nil
    if let pki, FileManager.default.fileExists(atPath: pki + "/key-seed") {
      do {
        keyring = UnderlayKeyring(
          seed: try ProviderKeySeed.load(from: pki + "/key-seed"),
          settings: UnderlayKeyring.Settings(rotationInterval: .seconds(underlayRekeySeconds)))
      } catch {
        throw ValidationError("\(error)")
      }
    } else if let pki {
      FileHandle.standardError.write(
        Data(
          "bulkhead-controller: no \(pki)/key-seed: the underlay between cards is not encrypted; `dpuctl pki issue-card` makes it (then re-issue the cards)\n"
            .utf8))
    }
    let reconciler = CardReconciler(store: store, keyring: keyring)
    store.onCommit { reconciler.storeChanged() }
    let channel = try pki.map { try managementChannel(folder: $0) }
    let server = GRPCServer(
      transport: .http2NIOPosix(address: address, transportSecurity: .plaintext),
      services: providerAPIServices(
        resources: resources, authenticator: authenticator, reconciler: reconciler))
    try await withThrowingDiscardingTaskGroup { group in
      if let channel {
        // Know the registered cards before the first one connects.
        try await reconciler.reconcile()
        channel.start(delegate: reconciler)
        group.addTask { await reconciler.run() }
        FileHandle.standardOutput.write(
          Data("bulkhead-controller: management channel on port \(channel.port)\n".utf8))
      }
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

extension ControllerCommand {
  func managementChannel(folder: String) throws -> ManagementChannelServer {
    let base = URL(fileURLWithPath: folder)
    guard let colon = managementListen.lastIndex(of: ":"),
      let port = UInt16(managementListen[managementListen.index(after: colon)...])
    else {
      throw ValidationError("--management-listen '\(managementListen)' is not IP:PORT")
    }
    do {
      let context = try TLSContext(
        role: .server, certificateAuthorityPath: base.appendingPathComponent("ca.crt").path,
        certificatePath: base.appendingPathComponent("controller.crt").path,
        privateKeyPath: base.appendingPathComponent("controller.key").path)
      return try ManagementChannelServer(
        host: String(managementListen[..<colon]), port: port, context: context)
    } catch {
      throw ValidationError(
        "management channel: \(error); make the files with `dpuctl pki init --dir \(folder)` and `dpuctl pki issue-controller --dir \(folder)`"
      )
    }
  }
}
