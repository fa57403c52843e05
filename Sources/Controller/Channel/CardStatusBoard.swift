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
  public var capabilities: Capabilities = []
  public var desiredGeneration: UInt64 = 0
  public var appliedGeneration: UInt64 = 0
  public var isConnected = false
  public var lastHeartbeat: Date?
  public var lastError: String?
}
