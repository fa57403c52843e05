import Foundation

/// The phi-accrual failure detector (Hayashibara et al., "The φ Accrual
/// Failure Detector", 2004), as Cassandra and Akka use it: instead of a
/// yes/no timeout it gives a suspicion level φ = -log10(P(a heartbeat
/// arrives later than now)), from a normal fit of recent inter-arrival
/// times. φ = 8 means about one chance in 10^8 that the card is alive and
/// merely late.
///
/// Times are monotonic instants measured from any fixed origin, passed in by
/// the caller, so tests drive a controlled clock.
public struct PhiAccrualDetector: Sendable {
  public var threshold: Double
  /// Inter-arrival samples kept (a sliding window).
  public let windowSize: Int
  /// Floor under the fitted deviation, so perfectly regular heartbeats do
  /// not make the detector trip on the first few milliseconds of delay.
  public let minimumStandardDeviation: Duration
  /// Added to the mean: pauses (GC, a busy slow path) that are not failures.
  public let acceptableHeartbeatPause: Duration
  /// Cold start: the interval assumed before real samples exist.
  public let firstHeartbeatEstimate: Duration

  private var intervals: [Double] = []  // seconds
  private var sum = 0.0
  private var squaredSum = 0.0
  private var lastHeartbeat: Duration?

  public init(
    threshold: Double = 8, windowSize: Int = 100, minimumStandardDeviation: Duration = .milliseconds(100),
    acceptableHeartbeatPause: Duration = .zero, firstHeartbeatEstimate: Duration = .seconds(1)
  ) {
    precondition(windowSize >= 2, "a window needs at least two samples")
    self.threshold = threshold
    self.windowSize = windowSize
    self.minimumStandardDeviation = minimumStandardDeviation
    self.acceptableHeartbeatPause = acceptableHeartbeatPause
    self.firstHeartbeatEstimate = firstHeartbeatEstimate
  }

  /// Records a heartbeat that arrived at `now`.
  public mutating func heartbeat(at now: Duration) {
    if let last = lastHeartbeat {
      if now > last { record((now - last).seconds) }
    } else {
      // Cold start: seed the window with the expected interval ± a quarter
      // of it (as Akka does), so φ is meaningful from the second interval.
      let estimate = firstHeartbeatEstimate.seconds
      record(estimate - estimate / 4)
      record(estimate + estimate / 4)
    }
    lastHeartbeat = now
  }

  /// Suspicion at `now`; 0 before the first heartbeat (nothing to expect
  /// yet: the card is "pending", not "failed").
  public func phi(at now: Duration) -> Double {
    guard let last = lastHeartbeat, !intervals.isEmpty else { return 0 }
    let elapsed = max(0, (now - last).seconds)
    let count = Double(intervals.count)
    let mean = sum / count + acceptableHeartbeatPause.seconds
    let variance = max(0, squaredSum / count - (sum / count) * (sum / count))
    let deviation = max(variance.squareRoot(), minimumStandardDeviation.seconds)
    // Logistic approximation of the normal tail (Bowling et al. 2009), the
    // form Akka uses; accurate to about 1e-4 and never infinite.
    let y = (elapsed - mean) / deviation
    let e = exp(-y * (1.5976 + 0.070566 * y * y))
    let phi = elapsed > mean ? -log10(e / (1 + e)) : -log10(1 - 1 / (1 + e))
    return phi.isFinite ? phi : Double.greatestFiniteMagnitude
  }

  public func isAvailable(at now: Duration) -> Bool { phi(at: now) < threshold }

  private mutating func record(_ interval: Double) {
    if intervals.count == windowSize {
      let dropped = intervals.removeFirst()
      sum -= dropped
      squaredSum -= dropped * dropped
    }
    intervals.append(interval)
    sum += interval
    squaredSum += interval * interval
  }
}
