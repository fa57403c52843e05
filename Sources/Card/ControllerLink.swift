import CCardProcess
import CardAgent
import CardHandoff
import CardTLS
import Management
import Platform
import Volumes

/// The firmware's link to its controller: the card agent (mutual TLS,
/// Hello, pushed slices, Applied, heartbeats, the persisted last applied
/// state) on a thread of its own, because its handshakes and reconnects
/// may block; what it applies reaches the run loop through `handoff`,
/// which the loop polls with its other descriptors (Docs/control-plane.md).
public final class ControllerLink: @unchecked Sendable {
  // @unchecked: `thread` is written by `start` and read by `stop`, both on
  // the run loop's thread; the agent is built for use across threads.
  public let agent: CardAgent<SliceApplier>
  public let handoff: CardConfigurationHandoff
  private var thread: UInt = 0
  private var isRunning = false

  public init(settings: ControllerLinkSettings, base: CardConfiguration) throws(ControllerLinkError) {
    let kekPath = settings.pkiDirectory + "/cards/" + settings.agent.cardName + ".kek"
    let kek: CardKeyEncryptionKey?
    do {
      kek = try CardKeyEncryptionKey.read(path: kekPath)
    } catch {
      throw ControllerLinkError(problem: kekPath + ": " + error.description)
    }
    do throws(TLSError) {
      handoff = try CardConfigurationHandoff()
      let context = try TLSContext(
        role: .client, certificateAuthorityPath: settings.pkiDirectory + "/ca.crt",
        certificatePath: settings.pkiDirectory + "/cards/" + settings.agent.cardName + ".crt",
        privateKeyPath: settings.pkiDirectory + "/cards/" + settings.agent.cardName + ".key")
      agent = try CardAgent(
        configuration: settings.agent, context: context,
        target: SliceApplier(
          base: base, handoff: handoff, keyEncryptionKey: kek,
          hostFunctionDirectory: settings.hostFunctionDirectory, volumeDirectory: settings.volumeDirectory))
      agent.linkReport = { StandardError.write("bulkhead-card: " + $0) }
    } catch {
      throw ControllerLinkError(problem: error.description)
    }
  }

  /// Puts the persisted state in force (through the handoff) before the
  /// controller is reached; its generation, or nil.
  public func restorePersistedState() -> UInt64? { agent.restorePersistedState() }

  public func start() throws(ControllerLinkError) {
    precondition(!isRunning, "the link is started once")
    // Unmanaged: the thread owns one reference until its body returns; the
    // link outlives it (`stop` joins the thread).
    let context = Unmanaged.passRetained(self).toOpaque()
    let status = ccp_thread_start(
      { raw in
        guard let raw else { return nil }
        let link = Unmanaged<ControllerLink>.fromOpaque(raw).takeRetainedValue()
        link.agent.run()
        return nil
      }, context, &thread)
    guard status == 0 else {
      Unmanaged<ControllerLink>.fromOpaque(context).release()
      throw ControllerLinkError(problem: "cannot start the management thread: errno " + String(-status))
    }
    isRunning = true
  }

  public func stop() {
    guard isRunning else { return }
    agent.stop()
    _ = ccp_thread_join(thread)
    isRunning = false
  }
}

/// Where the controller is and what the card calls itself: from the
/// command line or the configuration file.
public struct ControllerLinkSettings: Sendable {
  public var agent: CardAgentConfiguration
  /// The folder `dpuctl pki` fills: `ca.crt`, `cards/NAME.crt`, `cards/NAME.key`,
  /// `cards/NAME.kek` (without it the card takes no SAs).
  public var pkiDirectory: String
  /// Where slice volumes' sockets go.
  public var hostFunctionDirectory: String
  /// The only directory slice volumes' file backends may lie in.
  public var volumeDirectory: String?

  public init(
    agent: CardAgentConfiguration, pkiDirectory: String, hostFunctionDirectory: String = ".",
    volumeDirectory: String? = nil
  ) {
    self.agent = agent
    self.pkiDirectory = pkiDirectory
    self.hostFunctionDirectory = hostFunctionDirectory
    self.volumeDirectory = volumeDirectory
  }
}

public struct ControllerLinkError: Error, Sendable, CustomStringConvertible {
  public var problem: String
  public init(problem: String) { self.problem = problem }
  public var description: String { "controller link: " + problem }
}
