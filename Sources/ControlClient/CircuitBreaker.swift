/// Stops calling a controller that keeps failing, so a CLI loop or an
/// automation does not pile retries onto an overloaded or dead service
/// (Nygard, "Release It!", ch. 5). Closed: calls flow, consecutive failures
/// are counted. Open: calls are refused until `openDuration` has passed.
/// Half-open: one trial call; success closes, failure opens again.
///
/// Times are instants of a monotonic clock, passed in, so tests control them.
public struct CircuitBreaker: Sendable, Equatable {
  public enum State: Sendable, Equatable {
    case closed(consecutiveFailures: Int)
    case open(until: Duration)
    case halfOpen
  }

  public let failureThreshold: Int
  public let openDuration: Duration
  public private(set) var state: State = .closed(consecutiveFailures: 0)

  public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(10)) {
    precondition(failureThreshold >= 1)
    self.failureThreshold = failureThreshold
    self.openDuration = openDuration
  }

  /// Whether a call may go out at `now`; moves open to half-open once the
  /// open period is over.
  public mutating func permitsCall(at now: Duration) -> Bool {
    switch state {
    case .closed: return true
    case .halfOpen: return false  // the trial call is still out
    case .open(let until):
      guard now >= until else { return false }
      state = .halfOpen
      return true
    }
  }

  public mutating func recordSuccess() { state = .closed(consecutiveFailures: 0) }

  /// Records a failure that says the service is unwell (unreachable,
  /// deadline exceeded), not a refusal of a bad request.
  public mutating func recordFailure(at now: Duration) {
    switch state {
    case .closed(let failures) where failures + 1 < failureThreshold:
      state = .closed(consecutiveFailures: failures + 1)
    case .closed, .halfOpen, .open:
      state = .open(until: now + openDuration)
    }
  }
}
