import Synchronization

/// What the management channel refused or lost, per reason; shown in logs
/// and read by tests. Hostile or broken peers are counted here, never
/// trapped on.
public final class ChannelCounters: Sendable {
  /// TLS handshakes that failed: no certificate, another CA, expired...
  public let handshakeFailures = Atomic<UInt64>(0)
  /// Valid certificates whose name is not a registered card.
  public let unknownCards = Atomic<UInt64>(0)
  /// A Hello whose card id is not the certificate's name, or no Hello.
  public let identityMismatches = Atomic<UInt64>(0)
  /// Frames that failed to decode (the session is closed).
  public let rejectedFrames = Atomic<UInt64>(0)
  /// Frames a card has no business sending (DesiredState).
  public let unexpectedMessages = Atomic<UInt64>(0)
  public let errorReports = Atomic<UInt64>(0)
  public let sessionsOpened = Atomic<UInt64>(0)
  public let sessionsClosed = Atomic<UInt64>(0)

  public init() {}

  static func bump(_ counter: borrowing Atomic<UInt64>) { counter.add(1, ordering: .relaxed) }
}
