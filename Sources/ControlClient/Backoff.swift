/// Exponential backoff with full jitter ("Exponential Backoff and Jitter",
/// AWS Architecture Blog, 2015): the n-th retry waits a uniformly random
/// time in [0, min(cap, base·2^n)], which spreads retries of many clients
/// instead of synchronising them.
public struct Backoff: Sendable, Equatable {
  public let base: Duration
  public let cap: Duration

  public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
    self.base = base
    self.cap = cap
  }

  /// The ceiling of the wait before retry number `attempt` (0 = first retry).
  public func ceiling(forAttempt attempt: Int) -> Duration {
    let factor = 1 << min(attempt, 30)
    let grown = base * factor
    return grown < cap ? grown : cap
  }

  /// The wait before retry `attempt`, drawn from `random`.
  public func delay(forAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
    let ceiling = ceiling(forAttempt: attempt)
    let nanoseconds =
      ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
    return .nanoseconds(Int64.random(in: 0...max(0, nanoseconds), using: &random))
  }
}
