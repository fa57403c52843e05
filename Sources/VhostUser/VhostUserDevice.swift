/// What the vhost-user back-end needs from the device it serves
/// (virtio-net, virtio-blk, ...). The back-end is generic over it: no
/// existential, one specialisation per device.
public protocol VhostUserDevice {
  /// Virtio feature bits the device offers (VIRTIO_F_VERSION_1 and the
  /// device's own). The back-end adds VHOST_USER_F_PROTOCOL_FEATURES.
  var offeredFeatures: UInt64 { get }
  /// Virtqueues the device has (GET_QUEUE_NUM, and the bound on ring indices).
  var queueCount: Int { get }
  /// The largest ring size accepted (split rings: at most 32768).
  var maximumQueueSize: UInt16 { get }
  /// The device's config space (virtio 1.2 §4.1.4.3: device-specific).
  func readConfig(offset: Int, count: Int) -> [UInt8]?
  /// Writes to the config space; false if the range is not writable.
  mutating func writeConfig(offset: Int, bytes: [UInt8]) -> Bool
  /// The front-end settled on these virtio features (SET_FEATURES).
  mutating func negotiated(features: UInt64)
  /// A ring is ready: memory mapped, addresses checked, kick set, enabled.
  /// Returns false if the device cannot serve it (the session refuses).
  mutating func start(_ ring: ActiveRing, memory: MemoryTable) -> Bool
  /// The ring stops (GET_VRING_BASE, disconnect, new memory table); returns
  /// where to resume, as GET_VRING_BASE's number: a split ring's next
  /// available index, or a packed ring's slots and wrap counters
  /// (vhost-user.rst).
  mutating func stop(queue: Int) -> UInt32
  /// The front-end went away or reset the device: forget negotiated state.
  mutating func reset()
  /// Processes what running ring `queue` has (a batch; the per-packet
  /// work is inside). Called after a kick and while the ring is polled.
  mutating func service(queue: Int) -> RingActivity
  /// Turns the guest's notifications for ring `queue` on or off (virtio 1.2
  /// §2.7.10: VIRTQ_USED_F_NO_NOTIFY, or the avail event index). Returns
  /// true if buffers are waiting, so the caller polls again before sleeping.
  mutating func setNotifications(queue: Int, enabled: Bool) -> Bool
  /// True if the device's config space can change under a running driver
  /// (a volume's capacity): the back-end then offers BACKEND_REQ, so that
  /// it can tell the front-end (CONFIG_CHANGE_MSG).
  var announcesConfigurationChanges: Bool { get }
  /// Why running ring `queue` is broken (the guest or the front-end broke
  /// it; the device reports NEEDS_RESET), or nil while it serves. Per batch.
  func brokenReason(queue: Int) -> String?
}

extension VhostUserDevice {
  public var announcesConfigurationChanges: Bool { false }
  public func brokenReason(queue: Int) -> String? { nil }
}

/// What servicing a ring did.
public struct RingActivity: Equatable, Sendable {
  /// Buffers were taken or returned.
  public var didWork: Bool
  /// Rings whose driver must be interrupted (bit n: ring n's call eventfd);
  /// servicing one ring may complete buffers on another.
  public var interrupts: UInt64
  public init(didWork: Bool, interrupts: UInt64) {
    self.didWork = didWork
    self.interrupts = interrupts
  }
  public static let idle = RingActivity(didWork: false, interrupts: 0)
}

/// A ring the session has checked and handed to the device: its parts as
/// guest-physical addresses (translate them with the `MemoryTable`).
/// Sendable by hand: `positionRecord` is written only by whoever serves
/// the ring.
public struct ActiveRing: @unchecked Sendable {
  public var queue: Int
  public var size: UInt16
  public var descriptorTableAddress: UInt64
  public var availableRingAddress: UInt64
  public var usedRingAddress: UInt64
  /// Where the device resumes reading the available ring (virtio 1.2
  /// §2.7.6: last_avail_idx).
  public var nextAvailableIndex: UInt16
  /// Packed rings: the driver ring wrap counter at `nextAvailableIndex`
  /// (§2.8.1); the device's used position starts there too.
  public var availableWrapCounter: Bool = true
  /// The used ring's idx as found in guest memory when the ring started.
  public var usedIndex: UInt16
  /// Negotiated features the ring needs to know (EVENT_IDX, packed, ...).
  public var features: UInt64
  /// Packed rings: where the queue keeps its used position across a
  /// back-end restart (`RingResumeRecord`), if the server keeps one.
  public var positionRecord: UnsafeMutablePointer<UInt64>? = nil
}
