/// Delays between connection attempts: exponential with full jitter, so a
/// thousand cards that lost a restarting controller do not come back in one
/// burst ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
public struct ReconnectBackoff: Sendable {
  public let initialMilliseconds: UInt32
  public let maximumMilliseconds: UInt32
  private var attempt: UInt32 = 0
  private var random: UInt64

  public init(initialMilliseconds: UInt32 = 100, maximumMilliseconds: UInt32 = 5_000, seed: UInt64) {
    precondition(initialMilliseconds > 0 && maximumMilliseconds >= initialMilliseconds)
    self.initialMilliseconds = initialMilliseconds
    self.maximumMilliseconds = maximumMilliseconds
    random = seed | 1
  }

  /// The delay before the next attempt: uniform in [ceiling/2, ceiling],
  /// the ceiling doubling per failure up to the maximum. (Half the ceiling
  /// at least, so attempts do not come back to back.)
  public mutating func nextDelayMilliseconds() -> UInt32 {
    let shift = min(attempt, 20)
    let ceiling = UInt32(min(UInt64(initialMilliseconds) << UInt64(shift), UInt64(maximumMilliseconds)))
    attempt += 1
    // xorshift64: no libc, same on the card and the host.
    random ^= random << 13
    random ^= random >> 7
    random ^= random << 17
    let half = ceiling / 2
    return half + UInt32(random % UInt64(ceiling - half + 1))
  }

  /// After a session that got through the handshake and Hello.
  public mutating func reset() { attempt = 0 }
}
