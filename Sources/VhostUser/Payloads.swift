/// Payload structures (vhost-user.rst, "Message Specification").

/// A ring's index and a number: SET_VRING_NUM, SET/GET_VRING_BASE,
/// SET_VRING_ENABLE.
public struct VringState: Equatable, Sendable {
  public static let size = 8
  public var index: UInt32
  public var number: UInt32
  public init(index: UInt32, number: UInt32) {
    self.index = index
    self.number = number
  }
}

/// SET_VRING_ADDR: the ring's parts as front-end (QEMU) virtual addresses.
public struct VringAddress: Equatable, Sendable {
  public static let size = 40
  /// Flags bit 0: log used-ring writes (needs dirty logging; refused).
  public static let logFlag: UInt32 = 1
  public var index: UInt32
  public var flags: UInt32
  public var descriptorTable: UInt64
  public var usedRing: UInt64
  public var availableRing: UInt64
  public var log: UInt64
  public init(
    index: UInt32, flags: UInt32 = 0, descriptorTable: UInt64, usedRing: UInt64, availableRing: UInt64,
    log: UInt64 = 0
  ) {
    self.index = index
    self.flags = flags
    self.descriptorTable = descriptorTable
    self.usedRing = usedRing
    self.availableRing = availableRing
    self.log = log
  }
}

/// One region of guest memory, backed by the fd sent with the message.
public struct MemoryRegionDescription: Equatable, Sendable {
  public static let size = 32
  public var guestAddress: UInt64
  public var size: UInt64
  /// Where the front-end mapped it (ring addresses are given in this space).
  public var userAddress: UInt64
  /// Offset of the region in its file.
  public var mmapOffset: UInt64
  public init(guestAddress: UInt64, size: UInt64, userAddress: UInt64, mmapOffset: UInt64 = 0) {
    self.guestAddress = guestAddress
    self.size = size
    self.userAddress = userAddress
    self.mmapOffset = mmapOffset
  }
}

/// GET/SET_CONFIG: a window on the device's config space.
public struct ConfigAccess: Equatable, Sendable {
  /// offset, size, flags, then up to 256 bytes.
  public static let headerSize = 12
  public static let maximumSize: UInt32 = 256
  public var offset: UInt32
  public var flags: UInt32
  public var bytes: [UInt8]
  public init(offset: UInt32, flags: UInt32 = 0, bytes: [UInt8]) {
    self.offset = offset
    self.flags = flags
    self.bytes = bytes
  }
}

/// The u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring, bit 8 "no fd"
/// (polling, or no notification).
public struct VringFileRequest: Equatable, Sendable {
  public static let indexMask: UInt64 = 0xFF
  public static let noFDFlag: UInt64 = 1 << 8
  public var index: UInt32
  public var hasFD: Bool
  public init(index: UInt32, hasFD: Bool) {
    self.index = index
    self.hasFD = hasFD
  }
  public var encoded: UInt64 { UInt64(index) | (hasFD ? 0 : VringFileRequest.noFDFlag) }
}
