import Management
import Synchronization

/// The data plane's totals, handed from the run loop's thread to the
/// agent's: one atomic slot per `CardCounter`. The run loop stores the
/// totals now and then (no lock, no allocation); the agent loads them when
/// it sends a heartbeat. A load may see one slot from a newer store than
/// another: each is a total that only grows, so a heartbeat is at worst a
/// little behind in some of them.
public final class CardCounterBoard: Sendable {
  private let rxPackets = Atomic<UInt64>(0)
  private let txPackets = Atomic<UInt64>(0)
  private let rxBytes = Atomic<UInt64>(0)
  private let txBytes = Atomic<UInt64>(0)
  private let pipelineDrops = Atomic<UInt64>(0)
  private let portDrops = Atomic<UInt64>(0)
  private let volumeReads = Atomic<UInt64>(0)
  private let volumeWrites = Atomic<UInt64>(0)
  private let volumeErrors = Atomic<UInt64>(0)
  /// Whether anything was ever stored: a board nobody writes (a card
  /// without a data plane) sends no counters rather than zeros.
  private let isPublished = Atomic<Bool>(false)

  public init() {}

  /// On the run loop's thread: `value` is `counter`'s new total.
  public func store(_ counter: CardCounter, _ value: UInt64) {
    switch counter {
    case .rxPackets: rxPackets.store(value, ordering: .relaxed)
    case .txPackets: txPackets.store(value, ordering: .relaxed)
    case .rxBytes: rxBytes.store(value, ordering: .relaxed)
    case .txBytes: txBytes.store(value, ordering: .relaxed)
    case .pipelineDrops: pipelineDrops.store(value, ordering: .relaxed)
    case .portDrops: portDrops.store(value, ordering: .relaxed)
    case .volumeReads: volumeReads.store(value, ordering: .relaxed)
    case .volumeWrites: volumeWrites.store(value, ordering: .relaxed)
    case .volumeErrors: volumeErrors.store(value, ordering: .relaxed)
    }
  }

  /// After a round of `store`s: the board has something to say.
  public func markPublished() {
    if !isPublished.load(ordering: .relaxed) { isPublished.store(true, ordering: .releasing) }
  }

  public func load(_ counter: CardCounter) -> UInt64 {
    switch counter {
    case .rxPackets: rxPackets.load(ordering: .relaxed)
    case .txPackets: txPackets.load(ordering: .relaxed)
    case .rxBytes: rxBytes.load(ordering: .relaxed)
    case .txBytes: txBytes.load(ordering: .relaxed)
    case .pipelineDrops: pipelineDrops.load(ordering: .relaxed)
    case .portDrops: portDrops.load(ordering: .relaxed)
    case .volumeReads: volumeReads.load(ordering: .relaxed)
    case .volumeWrites: volumeWrites.load(ordering: .relaxed)
    case .volumeErrors: volumeErrors.load(ordering: .relaxed)
    }
  }

  /// What a heartbeat carries: every counter, or none before the run loop
  /// first published.
  public func heartbeatCounters() -> [Heartbeat.Counter] {
    guard isPublished.load(ordering: .acquiring) else { return [] }
    return CardCounter.allCases.map { Heartbeat.Counter(id: $0.rawValue, value: load($0)) }
  }
}
