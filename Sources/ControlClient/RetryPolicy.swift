import GRPCCore

/// Whether a call may be sent again after a failure whose outcome is
/// unknown (the request may or may not have been applied).
public enum CallSafety: Sendable, Equatable {
  /// Reads: Get, List.
  case safe
  /// Mutations that carry a request id: the server answers a repeat with
  /// the first result, so resending is harmless.
  case idempotentWithRequestID
  /// Anything else: never resent.
  case unsafe

  var mayRetry: Bool { self != .unsafe }
}

/// When and how often to retry.
public struct RetryPolicy: Sendable {
  public var maximumAttempts: Int
  public var backoff: Backoff
  /// Statuses that mean "the service did not get to it or is unwell",
  /// worth another try; others (bad argument, not found, denied) are final.
  public var retryableCodes: Set<RPCError.Code>

  public init(
    maximumAttempts: Int = 4, backoff: Backoff = Backoff(),
    retryableCodes: Set<RPCError.Code> = [.unavailable, .deadlineExceeded, .aborted, .resourceExhausted]
  ) {
    self.maximumAttempts = maximumAttempts
    self.backoff = backoff
    self.retryableCodes = retryableCodes
  }

  public static let none = RetryPolicy(maximumAttempts: 1)

  /// Failures that count against the circuit breaker: the service being
  /// unwell, not the caller being wrong.
  static func isServiceFailure(_ code: RPCError.Code) -> Bool {
    code == .unavailable || code == .deadlineExceeded
  }
}
