import Foundation
import Management
import ProviderAPI

/// Keeps every connected card running its slice of the desired state.
///
/// When the store's revision moves (an API write, or the periodic resync
/// for writers elsewhere) it reads the store once, builds each registered
/// card's slice with `CardSliceBuilder`, and gives a card whose slice
/// changed a new generation: the store revision, so generations only grow,
/// also across controller restarts. It pushes a card its slice whenever the
/// card's applied generation differs from the desired one: on change, when
/// the card (re)connects, and again after `retryInterval` if no Applied came.
/// Heartbeats feed the card's phi-accrual detector.
public final class CardReconciler: CardSessionDelegate, @unchecked Sendable {
  // @unchecked: every mutable field is guarded by `lock`; the async
  // `reconcile()` is run by one task at a time (`run`).
  public let store: any DesiredStateStore
  public let board: CardStatusBoard
  public let health: CardHealthTracker
  public let retryInterval: Duration
  /// Makes, pushes and rotates the card-pair ESP keys; nil without the
  /// provider's key seed (then slices carry no SAs).
  public let keyring: UnderlayKeyring?
  private let now: @Sendable () -> Duration
  private let wallClock: @Sendable () -> Date
  /// The card pairs of the last build (what the keyring keys).
  private var neededPairs: Set<UnderlayKeyring.Pair> = []
  private var pairsKnown = false
  private let lock = NSLock()
  private var registered: Set<String> = []
  private var slices: [String: DesiredState] = [:]
  private var sessions: [String: CardSession] = [:]
  private var lastPush: [String: (generation: UInt64, at: Duration)] = [:]
  private var reconciledRevision: Int64 = -1
  private let wakeups: AsyncStream<Void>
  private let wake: AsyncStream<Void>.Continuation

  public init(
    store: any DesiredStateStore, board: CardStatusBoard = CardStatusBoard(),
    health: CardHealthTracker = CardHealthTracker(), retryInterval: Duration = .seconds(2),
    keyring: UnderlayKeyring? = nil, now: @escaping @Sendable () -> Duration = CardsService.monotonicNow,
    wallClock: @escaping @Sendable () -> Date = { Date() }
  ) {
    self.store = store
    self.board = board
    self.health = health
    self.retryInterval = retryInterval
    self.keyring = keyring
    self.now = now
    self.wallClock = wallClock
    (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
  }

  private var lastReconciledRevision: Int64 {
    lock.lock()
    defer { lock.unlock() }
    return reconciledRevision
  }

  /// Asks for a reconcile pass soon (after a commit); cheap, any thread.
  public func storeChanged() { wake.yield() }

  /// Reconciles on every wake-up and every `resyncInterval`, until
  /// cancelled. A failed pass (the store unreadable) is retried at the next.
  public func run(resyncInterval: Duration = .seconds(1)) async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { [wake] in
        while !Task.isCancelled {
          try? await Task.sleep(for: resyncInterval)
          wake.yield()
        }
      }
      group.addTask { [self] in
        for await _ in wakeups {
          if Task.isCancelled { break }
          try? await reconcile()
        }
      }
      wake.yield()
      await group.next()
      group.cancelAll()
    }
  }

  /// One pass: move the key rotation on (its changes are store writes),
  /// recompute slices if the store moved, then push what is due.
  public func reconcile() async throws {
    // Not before a first build has said which pairs there are: an empty
    // set would retire every stored key of a restarted controller.
    var keysMoved = false
    if let keyring, let needed = lock.withLock({ pairsKnown ? neededPairs : nil }) {
      keysMoved = try await keyring.advance(
        needed: needed, now: wallClock(), running: { [self] in isRunning($0, spi: $1, direction: $2) },
        store: store)
    }
    let snapshot = try await StoreSnapshot.take(of: store, prefix: "resource/")
    if snapshot.revision != lastReconciledRevision || keysMoved {
      let builder = CardSliceBuilder(store: snapshot, keyring: keyring)
      let cards = try await StoreTransaction(store: snapshot).resources(under: "", as: Bulkhead_V1_Card.self)
        .map(\.name)
      var built = try await builder.build(forCards: cards)
      for (card, problems) in built.problems {
        if let problem = problems.first { board.update(Self.cardID(card)) { $0.lastError = problem } }
      }
      if let keyring {
        for card in cards {
          built.slices[card]?.securityAssociations = try keyring.associations(
            forCard: card, address: { built.addresses[$0] })
          // Its tunnels to outside sites, with their manual keys.
          if let tunnels = built.tunnels[card], let address = built.addresses[card] {
            let site = try keyring.sites(forCard: card, tunnels: tunnels, address: address)
            built.slices[card]?.sites = site.sites
            built.slices[card]?.securityAssociations += site.associations
            if let problem = site.problems.first {
              board.update(Self.cardID(card)) { $0.lastError = problem }
            }
          }
        }
        let pairs = built.pairs
        let pairsChanged = lock.withLock {
          defer {
            neededPairs = pairs
            pairsKnown = true
          }
          return !pairsKnown || neededPairs != pairs
        }
        // New or gone pairs: key them now, then build again.
        if pairsChanged { storeChanged() }
      }
      install(built.slices, cards: cards, revision: snapshot.revision)
    }
    pushAllDue()
  }

  /// The slice the card `id` should run (nil: not registered or not built yet).
  public func desiredSlice(forCard id: String) -> DesiredState? {
    lock.lock()
    defer { lock.unlock() }
    return slices[id]
  }

  /// Whether `card` runs (applied == desired) a slice holding the SA.
  private func isRunning(_ card: String, spi: UInt32, direction: SecurityAssociationSlice.Direction) -> Bool {
    let id = Self.cardID(card)
    lock.lock()
    defer { lock.unlock() }
    guard let slice = slices[id], board.status(of: id)?.appliedGeneration == slice.generation else {
      return false
    }
    return slice.securityAssociations.contains { $0.spi == spi && $0.direction == direction }
  }

  /// Takes freshly built slices: a slice whose content changed gets the
  /// revision as its new generation.
  private func install(_ built: [String: DesiredState], cards: [String], revision: Int64) {
    let generation = UInt64(max(revision, 1))
    lock.lock()
    defer { lock.unlock() }
    registered = Set(cards.map(Self.cardID))
    var next: [String: DesiredState] = [:]
    for (name, var slice) in built {
      let id = Self.cardID(name)
      if var previous = slices[id] {
        let previousGeneration = previous.generation
        previous.generation = 0
        slice.generation = previous == slice ? previousGeneration : generation
      } else {
        slice.generation = generation
      }
      next[id] = slice
      let desired = slice.generation
      board.update(id) { $0.desiredGeneration = desired }
    }
    slices = next
    // A deregistered card loses its session.
    for (id, session) in sessions where !registered.contains(id) { session.close() }
    reconciledRevision = revision
  }

  private func pushAllDue() {
    lock.lock()
    defer { lock.unlock() }
    for id in sessions.keys { pushIfDue(id) }
  }

  /// Reads the store and builds every card's slice without pushing (what
  /// a pass costs when everything changed; bench-control measures it).
  @discardableResult
  public func rebuildAll() async throws -> Int {
    let snapshot = try await StoreSnapshot.take(of: store, prefix: "resource/")
    let builder = CardSliceBuilder(store: snapshot, keyring: keyring)
    let cards = try await StoreTransaction(store: snapshot).resources(under: "", as: Bulkhead_V1_Card.self)
    return try await builder.desiredStates(forCards: cards.map(\.name), generation: 0).count
  }

  /// Card names are `cards/<id>`; the channel uses the id (the
  /// certificate's common name).
  static func cardID(_ name: String) -> String {
    name.hasPrefix("cards/") ? String(name.dropFirst("cards/".count)) : name
  }

  /// Sends the card its slice if it does not run it and none was sent
  /// recently. Called under `lock`.
  private func pushIfDue(_ id: String) {
    guard let session = sessions[id], let slice = slices[id] else { return }
    let applied = board.status(of: id)?.appliedGeneration ?? 0
    guard applied != slice.generation else { return }
    let at = now()
    if let last = lastPush[id], last.generation == slice.generation, at - last.at < retryInterval { return }
    guard let frame = try? ManagementMessage.desiredState(slice).encodeFrame() else {
      board.update(id) { $0.lastError = "desired state too large to encode" }
      return
    }
    lastPush[id] = (slice.generation, at)
    session.send(frame)
  }

  // MARK: CardSessionDelegate (called on session threads)

  public func isRegistered(card: String) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    return registered.contains(card)
  }

  public func sessionOpened(_ session: CardSession, hello: Hello) {
    let id = session.cardName
    health.heartbeat(card: id, at: now())
    lock.lock()
    defer { lock.unlock() }
    // A card that reconnects replaces its old session.
    if let old = sessions[id], old !== session { old.close() }
    sessions[id] = session
    lastPush[id] = nil
    board.update(id) {
      $0.firmwareVersion = hello.firmwareVersion
      $0.bootState = hello.bootState
      $0.capabilities = hello.capabilities
      $0.appliedGeneration = hello.appliedGeneration
      $0.isConnected = true
      $0.lastHeartbeat = Date()
    }
    pushIfDue(id)
  }

  public func session(_ session: CardSession, received message: ManagementMessage) {
    let id = session.cardName
    switch message {
    case .applied(let applied):
      board.update(id) {
        $0.appliedGeneration = applied.generation
        $0.lastError = nil
      }
    case .heartbeat(let heartbeat):
      health.heartbeat(card: id, at: now())
      let arrival = Date()
      board.update(id) {
        $0.appliedGeneration = heartbeat.appliedGeneration
        $0.lastHeartbeat = arrival
        $0.record(heartbeat.counters, at: arrival)
      }
      // Retry a push that got no answer.
      lock.lock()
      if sessions[id] === session { pushIfDue(id) }
      lock.unlock()
    case .error(let report):
      board.update(id) { $0.lastError = report.message }
    case .hello, .desiredState:
      break
    }
  }

  public func sessionClosed(_ session: CardSession) {
    let id = session.cardName
    lock.lock()
    defer { lock.unlock() }
    guard sessions[id] === session else { return }
    sessions[id] = nil
    board.update(id) { $0.isConnected = false }
  }
}
