import Wire

/// How a virtio-net device is set up (value type; the card agent builds it
/// from a NIC's configuration).
public struct VirtioNetConfiguration: Equatable {
  public var mac: MACAddress
  public var mtu: UInt16
  /// Queue pairs offered (max_virtqueue_pairs); MQ is offered when ≥ 2.
  public var queuePairs: Int
  public var maximumQueueSize: UInt16
  /// Segments one TSO chain may become.
  public var maximumSegments: Int
  public var isLinkUp: Bool
  /// Device features to offer (the ring features come from `Virtio`).
  public var features: VirtioNetFeatures

  public static let defaultFeatures: VirtioNetFeatures = [
    .checksum, .guestChecksum, .mtu, .mac, .hostTSO4, .hostTSO6, .hostECN, .mergeableReceiveBuffers, .status,
    .controlQueue, .controlReceiveMode, .controlMACAddress, .multiqueue,
  ]

  public init(
    mac: MACAddress, mtu: UInt16 = 1500, queuePairs: Int = 2, maximumQueueSize: UInt16 = 1024,
    maximumSegments: Int = 128, isLinkUp: Bool = true, features: VirtioNetFeatures = defaultFeatures
  ) {
    self.mac = mac
    self.mtu = mtu
    self.queuePairs = queuePairs
    self.maximumQueueSize = maximumQueueSize
    self.maximumSegments = maximumSegments
    self.isLinkUp = isLinkUp
    self.features = features
  }
}
