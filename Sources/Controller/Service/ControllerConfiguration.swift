import Foundation

/// Knobs of the controller's API layer.
public struct ControllerConfiguration: Sendable {
  /// How long a request id is remembered; a retry after that is new work.
  public var idempotencyTTL: Duration
  /// VNIs the controller hands to VPCs (24-bit, RFC 7348 §5; 0 reserved).
  public var vniRange: ClosedRange<UInt32>
  public var defaultPageSize: Int
  public var maximumPageSize: Int
  /// Optimistic-commit attempts before answering ABORTED.
  public var commitAttempts: Int
  /// The wall clock (injected so tests can move time).
  public var now: @Sendable () -> Date
  /// Where the cards keep a tenant's volume when the provider names no
  /// backend: `file://ROOT/TENANT/VOLUME.img` (tenants never choose a
  /// backend themselves).
  public var volumeRoot: String

  public static let defaultVolumeRoot = "/var/lib/bulkhead/volumes"

  public init(
    idempotencyTTL: Duration = .seconds(24 * 3600), vniRange: ClosedRange<UInt32> = 4096...0xFF_FFFF,
    defaultPageSize: Int = 100, maximumPageSize: Int = 1000, commitAttempts: Int = 16,
    volumeRoot: String = ControllerConfiguration.defaultVolumeRoot,
    now: @escaping @Sendable () -> Date = { Date() }
  ) {
    self.volumeRoot = volumeRoot
    self.idempotencyTTL = idempotencyTTL
    self.vniRange = vniRange
    self.defaultPageSize = defaultPageSize
    self.maximumPageSize = maximumPageSize
    self.commitAttempts = commitAttempts
    self.now = now
  }
}
