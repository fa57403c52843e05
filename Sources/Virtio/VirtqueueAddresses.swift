/// Where a virtqueue lives in guest memory (virtio 1.2 §2.6): guest-physical
/// addresses of its three areas and its size in descriptors.
///
/// For a split ring the driver area is the available ring and the device
/// area the used ring; for a packed ring they are the driver and device
/// event suppression structures (§2.8.10).
public struct VirtqueueAddresses: Equatable, Hashable, Sendable {
  public var size: UInt16
  public var descriptorTable: UInt64
  public var driverArea: UInt64
  public var deviceArea: UInt64

  public init(size: UInt16, descriptorTable: UInt64, driverArea: UInt64, deviceArea: UInt64) {
    self.size = size
    self.descriptorTable = descriptorTable
    self.driverArea = driverArea
    self.deviceArea = deviceArea
  }
}
