/// Where a queue resumes: the next available index the device will read
/// and, for packed rings, the driver ring wrap counter (§2.8.1). vhost-user
/// carries both in one word (SET/GET_VRING_BASE): bit 15 is the wrap
/// counter for packed rings.
public struct VirtqueueStart: Equatable, Sendable {
  public var lastAvailIndex: UInt16
  public var wrapCounter: Bool

  public init(lastAvailIndex: UInt16 = 0, wrapCounter: Bool = true) {
    self.lastAvailIndex = lastAvailIndex
    self.wrapCounter = wrapCounter
  }

  /// From vhost-user's `num` field: split rings use all 16 bits; packed
  /// rings the low 15 and the wrap counter in bit 15.
  public init(vhostRingBase: UInt32, packed: Bool) {
    if packed {
      lastAvailIndex = UInt16(truncatingIfNeeded: vhostRingBase & 0x7fff)
      wrapCounter = vhostRingBase & 0x8000 != 0
    } else {
      lastAvailIndex = UInt16(truncatingIfNeeded: vhostRingBase)
      wrapCounter = true
    }
  }

  public func vhostRingBase(packed: Bool) -> UInt32 {
    packed ? UInt32(lastAvailIndex & 0x7fff) | (wrapCounter ? 0x8000 : 0) : UInt32(lastAvailIndex)
  }
}
