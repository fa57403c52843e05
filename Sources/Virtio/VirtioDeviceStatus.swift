/// The device status field (virtio 1.2 §2.1).
public struct VirtioDeviceStatus: OptionSet, Equatable, Hashable, Sendable {
  public var rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let acknowledge = VirtioDeviceStatus(rawValue: 1)
  public static let driver = VirtioDeviceStatus(rawValue: 2)
  public static let driverOK = VirtioDeviceStatus(rawValue: 4)
  public static let featuresOK = VirtioDeviceStatus(rawValue: 8)
  /// §2.1.2: the device hit an error it cannot recover from; the driver
  /// must reset it.
  public static let needsReset = VirtioDeviceStatus(rawValue: 64)
  public static let failed = VirtioDeviceStatus(rawValue: 128)
}
