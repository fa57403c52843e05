import Foundation
import ProviderAPI

/// Keeps one phi-accrual detector per card and turns its suspicion into the
/// `CardHealth` the API shows. The management channel calls `heartbeat`
/// for each Heartbeat frame; the Cards service reads `health`.
public final class CardHealthTracker: @unchecked Sendable {
  // @unchecked: `detectors` is only touched under `lock`.
  private let lock = NSLock()
  private var detectors: [String: PhiAccrualDetector] = [:]
  private let template: PhiAccrualDetector
  /// Below this φ a card is healthy; from it up to the detector's threshold
  /// it is suspect (late, not yet given up on).
  public let suspicionLevel: Double

  public init(detector: PhiAccrualDetector = PhiAccrualDetector(), suspicionLevel: Double = 3) {
    template = detector
    self.suspicionLevel = suspicionLevel
  }

  public func heartbeat(card: String, at now: Duration) {
    lock.lock()
    defer { lock.unlock() }
    detectors[card, default: template].heartbeat(at: now)
  }

  public func forget(card: String) {
    lock.lock()
    defer { lock.unlock() }
    detectors[card] = nil
  }

  /// The card's health and φ at `now`; a card never heard from is pending.
  public func health(of card: String, at now: Duration) -> (health: Bulkhead_V1_CardHealth, phi: Double) {
    lock.lock()
    defer { lock.unlock() }
    guard let detector = detectors[card] else { return (.pending, 0) }
    let phi = detector.phi(at: now)
    if phi < suspicionLevel { return (.healthy, phi) }
    return (phi < detector.threshold ? .suspect : .unreachable, phi)
  }
}
