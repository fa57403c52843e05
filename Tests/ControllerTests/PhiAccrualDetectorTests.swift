import ProviderAPI
import Testing

@testable import Controller

/// A deterministic generator (SplitMix64) for jitter, so runs repeat.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Test func coldStartHasNoSuspicionUntilTheFirstHeartbeat() {
  let detector = PhiAccrualDetector()
  #expect(detector.phi(at: .seconds(1000)) == 0)
  #expect(detector.isAvailable(at: .seconds(1000)))
}

@Test func phiStaysLowUnderJitterAndRisesWithinAFewIntervalsOfSilence() {
  var detector = PhiAccrualDetector(threshold: 8)
  var random = SplitMix(state: 7)
  var now = Duration.zero
  var highest = 0.0
  for _ in 0..<200 {
    // 1 s heartbeats with up to ±200 ms of jitter.
    let jitter = Duration.milliseconds(Int64.random(in: -200...200, using: &random))
    now += .seconds(1) + jitter
    highest = max(highest, detector.phi(at: now))
    detector.heartbeat(at: now)
  }
  #expect(highest < 8, "phi reached \(highest) with only jitter")
  // Silence: suspicion grows with time and crosses 8 within 4 intervals.
  let afterTwo = detector.phi(at: now + .seconds(2))
  let afterFour = detector.phi(at: now + .seconds(4))
  #expect(afterTwo < afterFour)
  #expect(!detector.isAvailable(at: now + .seconds(4)))
}

@Test func theFirstIntervalsUseTheEstimate() {
  var detector = PhiAccrualDetector(firstHeartbeatEstimate: .seconds(1))
  detector.heartbeat(at: .seconds(10))
  #expect(detector.phi(at: .seconds(11)) < 1)
  #expect(detector.phi(at: .seconds(15)) > 8)
}

@Test func cardHealthGoesFromPendingToHealthyToUnreachable() {
  let tracker = CardHealthTracker()
  #expect(tracker.health(of: "cards/c1", at: .seconds(5)).health == .pending)
  for second in 1...30 { tracker.heartbeat(card: "cards/c1", at: .seconds(second)) }
  #expect(tracker.health(of: "cards/c1", at: .seconds(31)).health == .healthy)
  let states = stride(from: 31.0, through: 40, by: 0.25).map {
    tracker.health(of: "cards/c1", at: .milliseconds(Int64($0 * 1000))).health
  }
  // Silence passes through suspect before unreachable, and never goes back.
  #expect(states.contains(.suspect))
  #expect(states.last == .unreachable)
  let order: [ProviderAPI.Bulkhead_V1_CardHealth] = [.healthy, .suspect, .unreachable]
  let ranks = states.map { order.firstIndex(of: $0)! }
  #expect(ranks == ranks.sorted())
  #expect(tracker.health(of: "cards/other", at: .seconds(40)).health == .pending)
}
