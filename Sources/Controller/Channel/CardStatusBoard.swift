import Foundation
import Management

/// What the controller knows about each card's channel: the firmware its
/// Hello reported, the generation it should run and the one it reported
/// applied. The reconciler writes it; the Cards service reads it.
public final class CardStatusBoard: @unchecked Sendable {
  // @unchecked: `statuses` is only touched under `lock`.
  private let lock = NSLock()
  private var statuses: [String: CardChannelStatus] = [:]

  public init() {}

  public func status(of card: String) -> CardChannelStatus? {
    lock.lock()
    defer { lock.unlock() }
    return statuses[card]
  }

  public func update(_ card: String, _ change: (inout CardChannelStatus) -> Void) {
    lock.lock()
    defer { lock.unlock() }
    change(&statuses[card, default: CardChannelStatus()])
  }

  public var all: [String: CardChannelStatus] {
    lock.lock()
    defer { lock.unlock() }
    return statuses
  }
}

public struct CardChannelStatus: Sendable, Equatable {
  public var firmwareVersion = ""
  /// The boot state the card's Hello reported (slot, fallback and why).
  public var bootState = ""
  public var capabilities: Capabilities = []
  public var desiredGeneration: UInt64 = 0
  public var appliedGeneration: UInt64 = 0
  public var isConnected = false
  public var lastHeartbeat: Date?
  public var lastError: String?
  /// The data-plane totals of the latest heartbeat that carried any, by
  /// `CardCounter` name (`counter-N` for a number this controller does not
  /// know), and when it arrived.
  public var counters: [String: UInt64] = [:]
  public var countersTime: Date?

  public init() {}

  /// Keeps a heartbeat's counters; one without any (an older card) leaves
  /// the last ones standing.
  public mutating func record(_ counters: [Heartbeat.Counter], at time: Date) {
    guard !counters.isEmpty else { return }
    var named: [String: UInt64] = [:]
    for counter in counters { named[CardCounter.name(of: counter.id)] = counter.value }
    self.counters = named
    countersTime = time
  }
}
