/// The transport and ring feature bits (virtio 1.2 §6), at their bit
/// positions, so a negotiated 64-bit feature word converts directly.
public struct VirtqueueFeatures: OptionSet, Equatable, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// VIRTIO_F_INDIRECT_DESC (28): descriptor tables in guest memory.
  public static let indirectDescriptors = VirtqueueFeatures(rawValue: 1 << 28)
  /// VIRTIO_F_EVENT_IDX (29): used_event / avail_event (§2.7.10) and
  /// descriptor-based suppression for packed rings (§2.8.10).
  public static let eventIndex = VirtqueueFeatures(rawValue: 1 << 29)
  /// VIRTIO_F_VERSION_1 (32): little-endian, the 1.x layout.
  public static let version1 = VirtqueueFeatures(rawValue: 1 << 32)
  /// VIRTIO_F_ACCESS_PLATFORM (33).
  public static let accessPlatform = VirtqueueFeatures(rawValue: 1 << 33)
  /// VIRTIO_F_RING_PACKED (34).
  public static let ringPacked = VirtqueueFeatures(rawValue: 1 << 34)
  /// VIRTIO_F_IN_ORDER (35): not offered; buffers complete out of order.
  public static let inOrder = VirtqueueFeatures(rawValue: 1 << 35)
  /// VIRTIO_F_ORDER_PLATFORM (36).
  public static let orderPlatform = VirtqueueFeatures(rawValue: 1 << 36)
  /// VIRTIO_F_NOTIFICATION_DATA (38): not offered.
  public static let notificationData = VirtqueueFeatures(rawValue: 1 << 38)

  /// What this implementation's queues support and a device may offer.
  public static let supported: VirtqueueFeatures = [
    .indirectDescriptors, .eventIndex, .version1, .ringPacked, .orderPlatform,
  ]
}
