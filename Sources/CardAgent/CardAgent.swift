import CardTLS
import Management
import Synchronization

/// The card's end of the management channel. It connects to the
/// controller over mutual TLS (with backoff), says Hello with the
/// generation it runs, applies each DesiredState to `Target` all at once,
/// keeps it in the state file, answers Applied or ErrorReport, and sends
/// Heartbeats. Without a controller the card keeps (and after a restart
/// reloads) its last applied state: static stability.
///
/// `run()` blocks its thread (the firmware gives it one, beside the packet
/// cores); `stop()` may be called from any thread.
public final class CardAgent<Target: DesiredStateTarget>: @unchecked Sendable {
  // @unchecked: `target`, `lastApplied`, `backoff` and `heartbeatSequence`
  // are touched only by the thread in `start`/`run`; other threads use the
  // atomics and the waker.
  public let configuration: CardAgentConfiguration
  public private(set) var target: Target
  private let context: TLSContext
  private let stateFile: StateFile
  private let waker: Waker
  private var lastApplied: DesiredState?
  private var backoff: ReconnectBackoff
  private var heartbeatSequence: UInt64 = 0
  private let stopRequested = Atomic<Bool>(false)
  /// The last connection failure said (each new one is said once).
  private var lastFailure: String?

  /// Told (on the agent's thread) when the link comes up, and when it
  /// fails for a reason other than the last one (a person watching the
  /// card learns why it is not linked without a line per retry). Set
  /// before `run()`.
  public var linkReport: (@Sendable (String) -> Void)?

  /// The generation in force (0: none yet).
  public let appliedGeneration = Atomic<UInt64>(0)
  public let counters = CardAgentCounters()
  /// The data plane's totals each heartbeat carries (the run loop writes
  /// them; `CardCounterBoard`).
  public let dataPlaneCounters = CardCounterBoard()

  public init(configuration: CardAgentConfiguration, context: TLSContext, target: Target) throws(TLSError) {
    self.configuration = configuration
    self.context = context
    self.target = target
    stateFile = StateFile(path: configuration.stateFilePath)
    waker = try Waker()
    backoff = ReconnectBackoff(
      initialMilliseconds: configuration.backoffInitialMilliseconds,
      maximumMilliseconds: configuration.backoffMaximumMilliseconds,
      seed: MonotonicClock.nanoseconds() ^ UInt64(truncatingIfNeeded: configuration.cardName.hashValue))
  }

  /// Puts the persisted state in force, before any controller is reached.
  /// Returns its generation, nil if there was none (or it was unreadable:
  /// then the controller's next push replaces it).
  @discardableResult
  public func restorePersistedState() -> UInt64? {
    let saved: DesiredState?
    do throws(StateFileError) {
      saved = try stateFile.load()
    } catch {
      counters.stateFileFailures.add(1, ordering: .relaxed)
      return nil
    }
    guard let saved else { return nil }
    do throws(ApplyFailure) {
      try target.apply(saved)
    } catch {
      counters.applyFailures.add(1, ordering: .relaxed)
      return nil
    }
    lastApplied = saved
    appliedGeneration.store(saved.generation, ordering: .releasing)
    return saved.generation
  }

  /// Connects, serves a session, and reconnects after backoff, until
  /// `stop()`.
  public func run() {
    while !stopRequested.load(ordering: .acquiring) {
      counters.connectAttempts.add(1, ordering: .relaxed)
      do throws(TLSError) {
        let connection = try TLSConnection.connect(
          host: configuration.controllerHost, port: configuration.controllerPort, context: context,
          expectedPeerName: configuration.controllerName,
          timeoutMilliseconds: configuration.connectTimeoutMilliseconds)
        linkReport?(
          "controller link: connected to " + configuration.controllerHost + ":"
            + String(configuration.controllerPort))
        lastFailure = nil
        serve(connection)
        connection.close()
      } catch {
        counters.connectFailures.add(1, ordering: .relaxed)
        let text = error.description
        if text != lastFailure {
          lastFailure = text
          linkReport?("controller link: " + text + " (retrying with backoff)")
        }
      }
      if stopRequested.load(ordering: .acquiring) { break }
      _ = waker.wait(timeoutMilliseconds: Int32(backoff.nextDelayMilliseconds()))
    }
  }

  public func stop() {
    stopRequested.store(true, ordering: .releasing)
    waker.signal()
  }

  /// One connection's life: Hello, then frames in and heartbeats out until
  /// the connection breaks or the agent stops.
  private func serve(_ connection: TLSConnection) {
    let interval = UInt64(configuration.heartbeatIntervalMilliseconds)
    var decoder = FrameStreamDecoder()
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    do throws(TLSError) {
      try send(
        .hello(
          Hello(
            cardID: configuration.cardName, firmwareVersion: configuration.firmwareVersion,
            capabilities: configuration.capabilities,
            appliedGeneration: appliedGeneration.load(ordering: .acquiring),
            bootState: configuration.bootState)),
        on: connection)
      var nextHeartbeat = MonotonicClock.milliseconds()
      while !stopRequested.load(ordering: .acquiring) {
        let now = MonotonicClock.milliseconds()
        if now >= nextHeartbeat {
          heartbeatSequence += 1
          try send(
            .heartbeat(
              Heartbeat(
                sequence: heartbeatSequence, appliedGeneration: appliedGeneration.load(ordering: .acquiring),
                counters: dataPlaneCounters.heartbeatCounters())),
            on: connection)
          nextHeartbeat = now + interval
          continue
        }
        let ready = connection.wait(waker: waker, timeoutMilliseconds: Int32(nextHeartbeat - now))
        if ready.contains(.waker) { waker.drain() }
        guard ready.contains(.socket) else { continue }
        // Drain what is readable; OpenSSL may hold several records.
        while true {
          let count = try connection.read(into: &buffer)
          if count == 0 { break }
          decoder.append(buffer[..<count])
          while let message = try nextMessage(&decoder, connection) {
            try handle(message, on: connection)
            backoff.reset()
          }
        }
      }
    } catch {
      counters.sessionsLost.add(1, ordering: .relaxed)
    }
  }

  /// A malformed frame ends the session: the stream cannot be trusted to
  /// be in step any more. The controller is told why, best effort.
  private func nextMessage(
    _ decoder: inout FrameStreamDecoder, _ connection: TLSConnection
  ) throws(TLSError) -> ManagementMessage? {
    do throws(ManagementError) {
      return try decoder.nextMessage()
    } catch {
      counters.rejectedFrames.add(1, ordering: .relaxed)
      try? send(.error(ErrorReport(code: .malformedFrame, message: error.description)), on: connection)
      throw .failure("malformed frame from the controller: " + error.description)
    }
  }

  private func handle(_ message: ManagementMessage, on connection: TLSConnection) throws(TLSError) {
    guard case .desiredState(let state) = message else {
      // Hello, Applied, Heartbeat or ErrorReport from the controller: nothing
      // to do (an error is the controller's log entry about us).
      return
    }
    if let lastApplied, lastApplied == state {
      // A repeat (the controller re-pushes after reconnecting): the answer
      // is the same, the work need not be done again.
      try send(.applied(Applied(generation: state.generation)), on: connection)
      return
    }
    do throws(ApplyFailure) {
      try target.apply(state)
    } catch {
      counters.applyFailures.add(1, ordering: .relaxed)
      try send(
        .error(ErrorReport(code: error.code, generation: state.generation, message: error.message)),
        on: connection)
      return
    }
    lastApplied = state
    appliedGeneration.store(state.generation, ordering: .releasing)
    do throws(StateFileError) {
      try stateFile.save(state)
    } catch {
      // In force but not persisted: a restart without a controller would
      // come back with the previous state. Counted; the card keeps going.
      counters.stateFileFailures.add(1, ordering: .relaxed)
    }
    counters.generationsApplied.add(1, ordering: .relaxed)
    try send(.applied(Applied(generation: state.generation)), on: connection)
  }

  private func send(_ message: ManagementMessage, on connection: TLSConnection) throws(TLSError) {
    let frame: [UInt8]
    do throws(ManagementError) {
      frame = try message.encodeFrame()
    } catch {
      // Only our own messages are encoded here; an ErrorReport's text is
      // cut to size by the codec, so this is a bug, not peer input.
      preconditionFailure("cannot encode our own frame")
    }
    try connection.write(frame)
  }
}

/// What the agent counts; read from any thread.
public final class CardAgentCounters: Sendable {
  public let connectAttempts = Atomic<UInt64>(0)
  public let connectFailures = Atomic<UInt64>(0)
  public let sessionsLost = Atomic<UInt64>(0)
  public let rejectedFrames = Atomic<UInt64>(0)
  public let applyFailures = Atomic<UInt64>(0)
  public let generationsApplied = Atomic<UInt64>(0)
  public let stateFileFailures = Atomic<UInt64>(0)
  public init() {}
}
