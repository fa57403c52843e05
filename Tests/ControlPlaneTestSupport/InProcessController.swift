import CardTLS
import Controller
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ProviderPKI

/// A whole controller in this process, as `bulkhead-controller` runs it:
/// the provider API over gRPC on a unix socket, the SQLite store, the
/// reconciler and the management channel on a loopback TCP port.
public final class InProcessController: @unchecked Sendable {
  // @unchecked: set up once in `start`, then read-only until `stop`.
  public let channel: ManagementChannelServer
  public let reconciler: CardReconciler
  public let apiSocket: String
  private let server: GRPCServer<HTTP2ServerTransport.Posix>
  private var tasks: [Task<Void, Never>] = []

  public static let adminToken = "admin-secret"

  public init(
    databasePath: String, authority: ProviderCertificateAuthority, apiSocket: String,
    managementPort: UInt16 = 0,
    retryInterval: Duration = .seconds(2)
  ) throws {
    let store = ObservedDesiredStateStore(try SQLiteDesiredStateStore(path: databasePath))
    reconciler = CardReconciler(store: store, retryInterval: retryInterval)
    let reconciler = reconciler
    store.onCommit { reconciler.storeChanged() }
    let identity = authority.controllerIdentity
    let context = try TLSContext(
      role: .server, certificateAuthorityPath: authority.certificatePath,
      certificatePath: identity.certificatePath,
      privateKeyPath: identity.keyPath)
    channel = try ManagementChannelServer(host: "127.0.0.1", port: managementPort, context: context)
    self.apiSocket = apiSocket
    try? FileManager.default.removeItem(atPath: apiSocket)
    server = GRPCServer(
      transport: .http2NIOPosix(address: .unixDomainSocket(path: apiSocket), transportSecurity: .plaintext),
      services: providerAPIServices(
        resources: ResourceService(store: store),
        authenticator: Authenticator(tokens: [Self.adminToken: .providerAdmin]), reconciler: reconciler))
  }

  /// Serves until `stop()`; returns once the API listens.
  public func start() async throws {
    let server = server
    tasks.append(Task { try? await server.serve() })
    _ = try await server.listeningAddress
    // Know the registered cards before the first one connects.
    try await reconciler.reconcile()
    channel.start(delegate: reconciler)
    let reconciler = reconciler
    tasks.append(Task { await reconciler.run(resyncInterval: .milliseconds(250)) })
  }

  /// As a controller process dying: the API stops, every card connection
  /// is closed, the listening port is freed.
  public func stop() async {
    server.beginGracefulShutdown()
    channel.stop()
    for task in tasks { task.cancel() }
    for task in tasks { await task.value }
    tasks.removeAll()
  }
}

/// Waits for `condition` to hold, checking every few milliseconds, at most
/// `timeout`; returns whether it held. (The events come from other threads
/// and processes; the timeout only bounds a failing test.)
public func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while clock.now < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(5))
  }
  return condition()
}
