import CardAgent
import CardTLS
import Foundation
import Management
import ProviderPKI

/// Every state a card's agent applied, in order; read from other threads.
public final class AppliedStates: @unchecked Sendable {
  // @unchecked: `states` is only touched under `lock`.
  private let lock = NSLock()
  private var states: [DesiredState] = []
  private var refusing = false

  public init() {}

  func append(_ state: DesiredState) { lock.withLock { states.append(state) } }
  /// While set, the target refuses every state (as a card out of table
  /// space would).
  public var isRefusing: Bool {
    get { lock.withLock { refusing } }
    set { lock.withLock { refusing = newValue } }
  }
  public var all: [DesiredState] { lock.withLock { states } }
  public var last: DesiredState? { lock.withLock { states.last } }
}

/// The test double of the firmware's run loop: records what it is given.
public struct RecordingTarget: DesiredStateTarget {
  public let log: AppliedStates
  public init(log: AppliedStates) { self.log = log }
  public mutating func apply(_ state: DesiredState) throws(ApplyFailure) {
    if log.isRefusing { throw ApplyFailure(code: .outOfResources, message: "flow table full (test)") }
    log.append(state)
  }
}

/// A card agent on its own thread, as the firmware runs it, with a
/// recording target and its state file in `folder`.
public final class SimulatedCard: @unchecked Sendable {
  public let name: String
  public let agent: CardAgent<RecordingTarget>
  public let log = AppliedStates()
  private let done = DispatchSemaphore(value: 0)
  private var running = false

  public init(
    name: String, authority: ProviderCertificateAuthority, controllerPort: UInt16, folder: URL,
    heartbeatMilliseconds: UInt32 = 200
  ) throws {
    self.name = name
    let identity = authority.cardIdentity(name)
    if !FileManager.default.fileExists(atPath: identity.certificatePath) { try authority.issueCard(name) }
    let context = try TLSContext(
      role: .client, certificateAuthorityPath: authority.certificatePath,
      certificatePath: identity.certificatePath,
      privateKeyPath: identity.keyPath)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    agent = try CardAgent(
      configuration: CardAgentConfiguration(
        cardName: name, firmwareVersion: "test-1.0", controllerHost: "127.0.0.1",
        controllerPort: controllerPort,
        stateFilePath: folder.appendingPathComponent(name + ".state").path,
        heartbeatIntervalMilliseconds: heartbeatMilliseconds, connectTimeoutMilliseconds: 2_000,
        backoffInitialMilliseconds: 20, backoffMaximumMilliseconds: 200),
      context: context, target: RecordingTarget(log: log))
  }

  /// Restores the persisted state, then connects (on a new thread).
  public func start() {
    agent.restorePersistedState()
    running = true
    let thread = Thread { [self] in
      agent.run()
      done.signal()
    }
    thread.name = "card-" + name
    thread.start()
  }

  public func stop() {
    guard running else { return }
    running = false
    agent.stop()
    done.wait()
  }

  public var appliedGeneration: UInt64 { agent.appliedGeneration.load(ordering: .acquiring) }
}
