import CardAgent
import CardTLS
import Foundation
import Management
import ProviderPKI
import Synchronization

/// Many simulated card endpoints sharing a few threads, for fleet-size
/// measurements (1000 cards) where a thread and an `fsync`ed state file per
/// card would measure the test machine instead of the controller.
///
/// Each endpoint is a real management-channel client: its own certificate,
/// its own mutual-TLS 1.3 connection, Hello, Heartbeats, and an Applied for
/// every DesiredState it receives. It is a simulation in what it does with
/// a state: it records the generation and keeps nothing else (no pipeline,
/// no state file). `SimulatedCard` is the full agent.
public final class SimulatedCardFleet: @unchecked Sendable {
  // @unchecked: each endpoint's connection and decoder belong to one
  // worker thread; other threads read only the atomics.
  public let names: [String]
  private let endpoints: [FleetEndpoint]
  private let workerCount: Int
  private let heartbeatMilliseconds: Int
  private let stopRequested = Atomic<Bool>(false)
  private let finished = DispatchSemaphore(value: 0)
  private var started = 0

  /// Issues a certificate per card (when missing) and connects every
  /// endpoint to the controller's management port.
  public init(
    names: [String], authority: ProviderCertificateAuthority, controllerPort: UInt16, workers: Int = 4,
    heartbeatMilliseconds: Int = 1_000
  ) throws {
    self.names = names
    workerCount = max(1, min(workers, names.count))
    self.heartbeatMilliseconds = heartbeatMilliseconds
    var endpoints: [FleetEndpoint] = []
    for name in names {
      let identity = authority.cardIdentity(name)
      if !FileManager.default.fileExists(atPath: identity.certificatePath) { try authority.issueCard(name) }
      let context = try TLSContext(
        role: .client, certificateAuthorityPath: authority.certificatePath,
        certificatePath: identity.certificatePath, privateKeyPath: identity.keyPath)
      let connection = try TLSConnection.connect(
        host: "127.0.0.1", port: controllerPort, context: context,
        expectedPeerName: CardAgentConfiguration.defaultControllerName,
        timeoutMilliseconds: 10_000)
      let endpoint = FleetEndpoint(name: name, connection: connection)
      try endpoint.send(
        .hello(Hello(cardID: name, firmwareVersion: "fleet-sim-1.0", capabilities: [.geneve, .vxlan])))
      endpoints.append(endpoint)
    }
    self.endpoints = endpoints
  }

  /// The generation each card last acknowledged, in `names` order.
  public var appliedGenerations: [UInt64] {
    endpoints.map { $0.appliedGeneration.load(ordering: .acquiring) }
  }

  /// Endpoints whose connection broke (the controller closed it or sent
  /// something the codec refused).
  public var brokenCount: Int {
    endpoints.reduce(0) { $0 + ($1.isBroken.load(ordering: .acquiring) ? 1 : 0) }
  }

  /// Starts the worker threads; each serves every `workers`-th endpoint.
  public func start() {
    for worker in 0..<workerCount {
      let mine = stride(from: worker, to: endpoints.count, by: workerCount).map { endpoints[$0] }
      let thread = Thread { [self] in
        serve(mine)
        finished.signal()
      }
      thread.name = "card-fleet-\(worker)"
      thread.start()
      started += 1
    }
  }

  public func stop() {
    stopRequested.store(true, ordering: .releasing)
    for _ in 0..<started { finished.wait() }
    started = 0
    for endpoint in endpoints { endpoint.connection.close() }
  }

  /// One worker: poll its sockets, drain what is readable, answer every
  /// DesiredState with Applied, send heartbeats on time.
  private func serve(_ endpoints: [FleetEndpoint]) {
    var descriptors = endpoints.map {
      pollfd(fd: $0.connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
    }
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var nextHeartbeat = Self.nowMilliseconds() + heartbeatMilliseconds
    while !stopRequested.load(ordering: .acquiring) {
      let now = Self.nowMilliseconds()
      if now >= nextHeartbeat {
        for endpoint in endpoints where !endpoint.isBroken.load(ordering: .relaxed) {
          endpoint.heartbeat()
        }
        nextHeartbeat = now + heartbeatMilliseconds
      }
      // At most 50 ms, so that `stop()` is seen promptly.
      let timeout = Int32(max(0, min(50, nextHeartbeat - now)))
      guard poll(&descriptors, nfds_t(descriptors.count), timeout) > 0 else { continue }
      for index in descriptors.indices where descriptors[index].revents != 0 {
        descriptors[index].revents = 0
        let endpoint = endpoints[index]
        guard !endpoint.isBroken.load(ordering: .relaxed) else { continue }
        endpoint.drain(&buffer)
        if endpoint.isBroken.load(ordering: .relaxed) { descriptors[index].fd = -1 }
      }
    }
  }

  static func nowMilliseconds() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return time.tv_sec * 1_000 + time.tv_nsec / 1_000_000
  }
}

/// One simulated card's end of the channel.
final class FleetEndpoint: @unchecked Sendable {
  // @unchecked: `decoder` and `sequence` are used by one worker thread.
  let name: String
  let connection: TLSConnection
  let appliedGeneration = Atomic<UInt64>(0)
  let isBroken = Atomic<Bool>(false)
  private var decoder = FrameStreamDecoder()
  private var sequence: UInt64 = 0

  init(name: String, connection: TLSConnection) {
    self.name = name
    self.connection = connection
  }

  func send(_ message: ManagementMessage) throws {
    try connection.write(try message.encodeFrame())
  }

  func heartbeat() {
    sequence += 1
    do {
      try send(
        .heartbeat(
          Heartbeat(sequence: sequence, appliedGeneration: appliedGeneration.load(ordering: .relaxed))))
    } catch {
      isBroken.store(true, ordering: .releasing)
    }
  }

  /// Reads until OpenSSL has nothing more, and handles every whole frame.
  func drain(_ buffer: inout [UInt8]) {
    do {
      while true {
        let count = try connection.read(into: &buffer)
        if count == 0 { return }
        decoder.append(buffer[..<count])
        while let message = try decoder.nextMessage() {
          guard case .desiredState(let state) = message else { continue }
          appliedGeneration.store(state.generation, ordering: .releasing)
          try send(.applied(Applied(generation: state.generation)))
        }
      }
    } catch {
      isBroken.store(true, ordering: .releasing)
    }
  }
}
