import ControlClient
import Foundation
import GRPCCore
import Testing

struct SplitMix: RandomNumberGenerator, Sendable {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A monotonic clock that moves only when the code under test sleeps.
final class FakeClock: @unchecked Sendable {
  // @unchecked: fields are only touched under `lock`.
  private let lock = NSLock()
  private var instant = Duration.zero
  private var slept: [Duration] = []

  var now: Duration { lock.withLock { instant } }
  var sleeps: [Duration] { lock.withLock { slept } }

  func advance(_ by: Duration) { lock.withLock { instant += by } }

  func sleep(_ duration: Duration) {
    lock.withLock {
      slept.append(duration)
      instant += duration
    }
  }
}

/// Counts calls and fails the first `failures` of them with `code`.
final class FlakyService: @unchecked Sendable {
  private let lock = NSLock()
  private var calls = 0
  let failures: Int
  let code: RPCError.Code

  init(failures: Int, code: RPCError.Code = .unavailable) {
    self.failures = failures
    self.code = code
  }

  var callCount: Int { lock.withLock { calls } }

  func call() throws -> String {
    let number = lock.withLock {
      calls += 1
      return calls
    }
    if number <= failures { throw RPCError(code: code, message: "attempt \(number) failed") }
    return "ok after \(number)"
  }
}

func caller(
  _ clock: FakeClock, attempts: Int = 4, threshold: Int = 10, open: Duration = .seconds(10)
) -> ResilientCaller<SplitMix> {
  ResilientCaller(
    policy: RetryPolicy(
      maximumAttempts: attempts, backoff: Backoff(base: .milliseconds(100), cap: .seconds(1))),
    breaker: CircuitBreaker(failureThreshold: threshold, openDuration: open), random: SplitMix(state: 1),
    now: { clock.now }, sleep: { clock.sleep($0) })
}

@Test func backoffCeilingsGrowExponentiallyUpToTheCap() {
  let backoff = Backoff(base: .milliseconds(100), cap: .seconds(1))
  let ceilings = (0..<6).map { backoff.ceiling(forAttempt: $0) }
  let expected: [Duration] = [
    .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
  ]
  #expect(ceilings == expected)
  var random = SplitMix(state: 42)
  let delays = (0..<200).map { _ in backoff.delay(forAttempt: 3, using: &random) }
  #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(800) })
  // Full jitter spreads delays over the whole range, not near the ceiling.
  #expect(delays.contains { $0 < .milliseconds(200) } && delays.contains { $0 > .milliseconds(600) })
}

@Test func safeCallsAreRetriedWithBackoffUntilTheySucceed() async throws {
  let clock = FakeClock()
  let service = FlakyService(failures: 2)
  let result = try await caller(clock).call(safety: .safe) { try service.call() }
  #expect(result == "ok after 3")
  #expect(clock.sleeps.count == 2)
  #expect(clock.sleeps[0] <= .milliseconds(100) && clock.sleeps[1] <= .milliseconds(200))
}

@Test func unsafeCallsAreNeverRetried() async throws {
  let clock = FakeClock()
  let service = FlakyService(failures: 1)
  await #expect(throws: RPCError.self) {
    try await caller(clock).call(safety: .unsafe) { try service.call() }
  }
  #expect(service.callCount == 1)
  #expect(clock.sleeps.isEmpty)
}

@Test func finalStatusesAreNotRetried() async throws {
  let clock = FakeClock()
  let service = FlakyService(failures: 5, code: .invalidArgument)
  await #expect(throws: RPCError.self) { try await caller(clock).call(safety: .safe) { try service.call() } }
  #expect(service.callCount == 1)
}

@Test func attemptsAreBounded() async throws {
  let clock = FakeClock()
  let service = FlakyService(failures: 100)
  await #expect(throws: RPCError.self) {
    try await caller(clock, attempts: 3).call(safety: .idempotentWithRequestID) { try service.call() }
  }
  #expect(service.callCount == 3)
}

@Test func breakerOpensAfterConsecutiveFailuresThenProbesOnce() {
  var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(5))
  var permitted: Bool
  for second in 0..<2 {
    permitted = breaker.permitsCall(at: .seconds(second))
    #expect(permitted)
    breaker.recordFailure(at: .seconds(second))
  }
  #expect(breaker.state == .closed(consecutiveFailures: 2))
  breaker.recordFailure(at: .seconds(2))
  #expect(breaker.state == .open(until: .seconds(7)))
  permitted = breaker.permitsCall(at: .seconds(6))
  #expect(!permitted)
  // After the open period exactly one trial call goes out.
  permitted = breaker.permitsCall(at: .seconds(7))
  #expect(permitted)
  #expect(breaker.state == .halfOpen)
  permitted = breaker.permitsCall(at: .seconds(7))
  #expect(!permitted)
  breaker.recordFailure(at: .seconds(8))
  #expect(breaker.state == .open(until: .seconds(13)))
  permitted = breaker.permitsCall(at: .seconds(13))
  #expect(permitted)
  breaker.recordSuccess()
  #expect(breaker.state == .closed(consecutiveFailures: 0))
  permitted = breaker.permitsCall(at: .seconds(13))
  #expect(permitted)
}

@Test func anOpenBreakerRefusesCallsWithoutTouchingTheService() async throws {
  let clock = FakeClock()
  let service = FlakyService(failures: 100)
  let resilient = caller(clock, attempts: 1, threshold: 2, open: .seconds(30))
  for _ in 0..<2 {
    await #expect(throws: RPCError.self) { try await resilient.call(safety: .safe) { try service.call() } }
  }
  await #expect(throws: CircuitOpenError.self) {
    try await resilient.call(safety: .safe) { try service.call() }
  }
  #expect(service.callCount == 2)
  clock.advance(.seconds(30))
  await #expect(throws: RPCError.self) { try await resilient.call(safety: .safe) { try service.call() } }
  #expect(service.callCount == 3)
}

@Test func controllerAddressesParse() {
  #expect(ControllerAddress("unix:/run/b.sock")?.kind == .unixSocket(path: "/run/b.sock"))
  #expect(ControllerAddress("127.0.0.1:50051")?.kind == .tcp(host: "127.0.0.1", port: 50051))
  #expect(ControllerAddress("localhost") == nil)
  #expect(ControllerAddress("host:99999") == nil)
  #expect(ControllerAddress("unix:") == nil)
}
