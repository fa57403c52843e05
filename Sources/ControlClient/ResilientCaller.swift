import Foundation
import GRPCCore

/// Runs calls under a retry policy and a circuit breaker. The clock and the
/// sleep are injected so tests run without waiting.
public final class ResilientCaller<Random: RandomNumberGenerator & Sendable>: @unchecked Sendable {
  // @unchecked: `breaker` and `random` are only touched under `lock`.
  private let lock = NSLock()
  private var breaker: CircuitBreaker
  private var random: Random
  public let policy: RetryPolicy
  private let now: @Sendable () -> Duration
  private let sleep: @Sendable (Duration) async throws -> Void

  public init(
    policy: RetryPolicy, breaker: CircuitBreaker, random: Random, now: @escaping @Sendable () -> Duration,
    sleep: @escaping @Sendable (Duration) async throws -> Void
  ) {
    self.policy = policy
    self.breaker = breaker
    self.random = random
    self.now = now
    self.sleep = sleep
  }

  public var breakerState: CircuitBreaker.State { lock.withLock { breaker.state } }

  /// Calls `body` until it succeeds, fails for good, or attempts run out.
  public func call<Result: Sendable>(
    safety: CallSafety, _ body: @Sendable () async throws -> Result
  ) async throws -> Result {
    var attempt = 0
    var lastError: RPCError?
    while true {
      let permitted = lock.withLock { breaker.permitsCall(at: now()) }
      // Within one call, the service's own last answer says more than
      // "circuit open".
      guard permitted else { throw lastError ?? CircuitOpenError() }
      do {
        let result = try await body()
        lock.withLock { breaker.recordSuccess() }
        return result
      } catch let error as RPCError {
        lastError = error
        if RetryPolicy.isServiceFailure(error.code) {
          lock.withLock { breaker.recordFailure(at: now()) }
        } else {
          // The service answered: it is up, whatever it said.
          lock.withLock { breaker.recordSuccess() }
        }
        attempt += 1
        guard safety.mayRetry, policy.retryableCodes.contains(error.code), attempt < policy.maximumAttempts
        else {
          throw error
        }
        let delay = lock.withLock { policy.backoff.delay(forAttempt: attempt - 1, using: &random) }
        try await sleep(delay)
      }
    }
  }
}

/// Refused locally: the controller failed repeatedly and the breaker is
/// open.
public struct CircuitOpenError: Error, Equatable {}
