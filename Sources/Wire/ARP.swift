/// An ARP packet for IPv4 over Ethernet (RFC 826), the only kind carried
/// here: hardware type 1, protocol type 0x0800, lengths 6 and 4.
public struct ARPPacket {
  public enum Field {
    public static let hardwareType = 0
    public static let protocolType = 2
    public static let hardwareLength = 4
    public static let protocolLength = 5
    public static let operation = 6
    public static let senderHardwareAddress = 8
    public static let senderProtocolAddress = 14
    public static let targetHardwareAddress = 18
    public static let targetProtocolAddress = 24
    public static let length = 28
  }

  /// RFC 826 ar$op values.
  public enum Operation: UInt16, Sendable {
    case request = 1
    case reply = 2
  }

  @usableFromInline static let ethernetHardwareType: UInt16 = 1

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.length, let base = bytes.baseAddress else { throw .truncated }
    guard base.loadBigEndian16(at: Field.hardwareType) == Self.ethernetHardwareType,
      base.loadBigEndian16(at: Field.protocolType) == EtherType.ipv4.rawValue,
      base.loadBigEndian8(at: Field.hardwareLength) == 6,
      base.loadBigEndian8(at: Field.protocolLength) == 4
    else { throw .unsupported }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a packet the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  /// The raw ar$op; see `Operation` for the two defined values.
  @inlinable public var operation: UInt16 {
    get { base.loadBigEndian16(at: Field.operation) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.operation) }
  }

  @inlinable public var senderHardwareAddress: MACAddress {
    get { MACAddress(loadingFrom: base + Field.senderHardwareAddress) }
    nonmutating set { newValue.store(to: base + Field.senderHardwareAddress) }
  }

  @inlinable public var senderProtocolAddress: IPv4Address {
    get { IPv4Address(loadingFrom: base + Field.senderProtocolAddress) }
    nonmutating set { newValue.store(to: base + Field.senderProtocolAddress) }
  }

  @inlinable public var targetHardwareAddress: MACAddress {
    get { MACAddress(loadingFrom: base + Field.targetHardwareAddress) }
    nonmutating set { newValue.store(to: base + Field.targetHardwareAddress) }
  }

  @inlinable public var targetProtocolAddress: IPv4Address {
    get { IPv4Address(loadingFrom: base + Field.targetProtocolAddress) }
    nonmutating set { newValue.store(to: base + Field.targetProtocolAddress) }
  }

  @inlinable public var headerLength: Int { Field.length }
}

/// The fields of an Ethernet/IPv4 ARP packet, for building one.
public struct ARPHeader: Hashable, Sendable {
  public var operation: UInt16
  public var senderHardwareAddress: MACAddress
  public var senderProtocolAddress: IPv4Address
  public var targetHardwareAddress: MACAddress
  public var targetProtocolAddress: IPv4Address

  public init(
    operation: ARPPacket.Operation, senderHardwareAddress: MACAddress, senderProtocolAddress: IPv4Address,
    targetHardwareAddress: MACAddress, targetProtocolAddress: IPv4Address
  ) {
    self.operation = operation.rawValue
    self.senderHardwareAddress = senderHardwareAddress
    self.senderProtocolAddress = senderProtocolAddress
    self.targetHardwareAddress = targetHardwareAddress
    self.targetProtocolAddress = targetProtocolAddress
  }

  public init(_ packet: ARPPacket) {
    operation = packet.operation
    senderHardwareAddress = packet.senderHardwareAddress
    senderProtocolAddress = packet.senderProtocolAddress
    targetHardwareAddress = packet.targetHardwareAddress
    targetProtocolAddress = packet.targetProtocolAddress
  }

  public static let headerLength = ARPPacket.Field.length
  public var headerLength: Int { Self.headerLength }

  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = ARPPacket.Field
    precondition(buffer.count >= F.length)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian16(ARPPacket.ethernetHardwareType, at: F.hardwareType)
    base.storeBigEndian16(EtherType.ipv4.rawValue, at: F.protocolType)
    base.storeBigEndian8(6, at: F.hardwareLength)
    base.storeBigEndian8(4, at: F.protocolLength)
    let packet = ARPPacket(unchecked: buffer)
    packet.operation = operation
    packet.senderHardwareAddress = senderHardwareAddress
    packet.senderProtocolAddress = senderProtocolAddress
    packet.targetHardwareAddress = targetHardwareAddress
    packet.targetProtocolAddress = targetProtocolAddress
  }
}
