/// virtio-net device feature bits (virtio 1.2 §5.1.3).
public struct VirtioNetFeatures: OptionSet, Equatable, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// The device completes checksums the driver leaves (NEEDS_CSUM on TX).
  public static let checksum = VirtioNetFeatures(rawValue: 1 << 0)
  /// The driver accepts partially checksummed / DATA_VALID packets on RX.
  public static let guestChecksum = VirtioNetFeatures(rawValue: 1 << 1)
  public static let controlGuestOffloads = VirtioNetFeatures(rawValue: 1 << 2)
  public static let mtu = VirtioNetFeatures(rawValue: 1 << 3)
  public static let mac = VirtioNetFeatures(rawValue: 1 << 5)
  public static let guestTSO4 = VirtioNetFeatures(rawValue: 1 << 7)
  public static let guestTSO6 = VirtioNetFeatures(rawValue: 1 << 8)
  public static let guestECN = VirtioNetFeatures(rawValue: 1 << 9)
  /// The device segments TCP over IPv4 / IPv6 the driver hands it whole.
  public static let hostTSO4 = VirtioNetFeatures(rawValue: 1 << 11)
  public static let hostTSO6 = VirtioNetFeatures(rawValue: 1 << 12)
  public static let hostECN = VirtioNetFeatures(rawValue: 1 << 13)
  /// RX packets may span several buffers (num_buffers, §5.1.6.3.1).
  public static let mergeableReceiveBuffers = VirtioNetFeatures(rawValue: 1 << 15)
  public static let status = VirtioNetFeatures(rawValue: 1 << 16)
  public static let controlQueue = VirtioNetFeatures(rawValue: 1 << 17)
  public static let controlReceiveMode = VirtioNetFeatures(rawValue: 1 << 18)
  public static let controlVLAN = VirtioNetFeatures(rawValue: 1 << 19)
  public static let guestAnnounce = VirtioNetFeatures(rawValue: 1 << 21)
  public static let multiqueue = VirtioNetFeatures(rawValue: 1 << 22)
  public static let controlMACAddress = VirtioNetFeatures(rawValue: 1 << 23)
}
