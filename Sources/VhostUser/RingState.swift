/// What the front-end has said about one ring so far. The session starts
/// the ring on the device once every part is present.
public struct RingState: Sendable {
  /// Ring size from SET_VRING_NUM; 0 until then.
  public var size: UInt32 = 0
  /// SET_VRING_BASE: for split rings, the next available index; for packed
  /// rings (vhost-user.rst) bits 0–14 the next available slot, bit 15 the
  /// driver ring wrap counter, bits 16–30 the next used slot, bit 31 the
  /// device ring wrap counter.
  public var base: UInt32 = 0
  public var address: VringAddress? = nil
  /// Descriptors received with SET_VRING_KICK/CALL/ERR.
  public var kickFD: Int32? = nil
  public var callFD: Int32? = nil
  public var errorFD: Int32? = nil
  /// SET_VRING_KICK arrived (with an fd, or NOFD: the ring is polled).
  public var hasKick = false
  /// SET_VRING_ENABLE (rings start enabled without protocol features).
  public var isEnabled = false
  /// Handed to the device.
  public var isRunning = false

  public init() {}

  /// Checks a ring's parts lie in guest memory and are aligned (virtio 1.2
  /// §2.7: descriptor table 16, available ring 2, used ring 4), and
  /// translates them to guest-physical addresses.
  static func locate(
    _ a: VringAddress, size: UInt32, memory: MemoryTable
  ) -> (descriptors: UInt64, available: UInt64, used: UInt64)? {
    let n = UInt64(size)
    // virtio 1.2 §2.7: the sizes of the three parts, with the event words.
    return translate(
      [(a.descriptorTable, 16 * n, 16), (a.availableRing, 6 + 2 * n, 2), (a.usedRing, 6 + 8 * n, 4)],
      memory)
  }

  /// The same for a packed ring (virtio 1.2 §2.8.10.1): the descriptor ring
  /// (16-aligned) and the driver and device event suppression structures
  /// (4 bytes each, 4-aligned), which SET_VRING_ADDR carries in the
  /// descriptor, available and used fields.
  static func locatePacked(
    _ a: VringAddress, size: UInt32, memory: MemoryTable
  ) -> (descriptors: UInt64, available: UInt64, used: UInt64)? {
    translate(
      [(a.descriptorTable, 16 * UInt64(size), 16), (a.availableRing, 4, 4), (a.usedRing, 4, 4)], memory)
  }

  /// Three parts (front-end address, length, alignment), each inside one
  /// region, as guest-physical addresses.
  private static func translate(_ parts: [(UInt64, UInt64, UInt64)], _ memory: MemoryTable) -> (
    descriptors: UInt64, available: UInt64, used: UInt64
  )? {
    var guest: [UInt64] = []
    for (address, length, alignment) in parts {
      guard address % alignment == 0, let gpa = memory.guestAddress(forUserAddress: address, length: length)
      else { return nil }
      guest.append(gpa)
    }
    return (guest[0], guest[1], guest[2])
  }
}

extension MemoryTable {
  /// The guest-physical address of `length` bytes at front-end address
  /// `address`, if they lie inside one region.
  public func guestAddress(forUserAddress address: UInt64, length: UInt64) -> UInt64? {
    for r in regions {
      let start = r.description.userAddress
      if address >= start, length <= r.size, address - start <= r.size - length {
        return r.guestAddress + (address - start)
      }
    }
    return nil
  }
}
