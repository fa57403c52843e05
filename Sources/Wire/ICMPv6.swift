/// An ICMPv6 message (RFC 4443), checked once: at least the 8-byte header
/// that every defined type has, and the fixed part of the neighbour
/// messages (24 bytes) and router advertisements (16) are inside the
/// region. Accessors of type-specific fields return zero for other types,
/// so that none reads past the fixed part the check covered. The checksum
/// covers an IPv6 pseudo-header (RFC 4443 §2.3).
public struct ICMPv6Message {
  public enum Field {
    public static let type = 0
    public static let code = 1
    public static let checksum = 2
    /// Echo (RFC 4443 §4): identifier and sequence number.
    public static let identifier = 4
    public static let sequenceNumber = 6
    /// Packet too big (RFC 4443 §3.2).
    public static let mtu = 4
    /// Neighbour solicitation/advertisement (RFC 4861 §4.3-4.4).
    public static let neighborFlags = 4
    public static let targetAddress = 8
    public static let neighborOptions = 24
    /// Router solicitation/advertisement (RFC 4861 §4.1-4.2).
    public static let routerSolicitationOptions = 8
    public static let currentHopLimit = 4
    public static let routerFlags = 5
    public static let routerLifetime = 6
    public static let reachableTime = 8
    public static let retransmitTimer = 12
    public static let routerAdvertisementOptions = 16
    public static let headerLength = 8
  }

  public enum MessageType {
    public static let destinationUnreachable: UInt8 = 1
    public static let packetTooBig: UInt8 = 2
    public static let timeExceeded: UInt8 = 3
    public static let parameterProblem: UInt8 = 4
    public static let echoRequest: UInt8 = 128
    public static let echoReply: UInt8 = 129
    public static let routerSolicitation: UInt8 = 133
    public static let routerAdvertisement: UInt8 = 134
    public static let neighborSolicitation: UInt8 = 135
    public static let neighborAdvertisement: UInt8 = 136
  }

  /// RFC 4861 §4.4 flag bits in the first byte after the checksum.
  public enum NeighborFlag {
    public static let router: UInt8 = 0x80
    public static let solicited: UInt8 = 0x40
    public static let override: UInt8 = 0x20
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    guard bytes.count >= Self.fixedLength(type: base.loadBigEndian8(at: Field.type)) else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a message the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  /// The length of the fixed part of a message of `type`, options excluded.
  @inlinable
  static func fixedLength(type: UInt8) -> Int {
    switch type {
    case MessageType.neighborSolicitation, MessageType.neighborAdvertisement: return Field.neighborOptions
    case MessageType.routerAdvertisement: return Field.routerAdvertisementOptions
    default: return Field.headerLength
    }
  }

  @inlinable public var type: UInt8 { base.loadBigEndian8(at: Field.type) }
  @inlinable public var code: UInt8 { base.loadBigEndian8(at: Field.code) }

  @inlinable public var checksum: UInt16 {
    get { base.loadBigEndian16(at: Field.checksum) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.checksum) }
  }

  /// RFC 4443 §2.1: types below 128 are errors.
  @inlinable public var isError: Bool { type < 128 }

  /// The four bytes after the checksum, read as echo identifier and
  /// sequence number or as the packet-too-big MTU.
  @inlinable public var identifier: UInt16 { base.loadBigEndian16(at: Field.identifier) }
  @inlinable public var sequenceNumber: UInt16 { base.loadBigEndian16(at: Field.sequenceNumber) }
  @inlinable public var mtu: UInt32 { base.loadBigEndian32(at: Field.mtu) }
  @inlinable public var restOfHeader: UInt32 { base.loadBigEndian32(at: Field.identifier) }

  @inlinable var isNeighborMessage: Bool {
    type == MessageType.neighborSolicitation || type == MessageType.neighborAdvertisement
  }

  @inlinable var isRouterAdvertisement: Bool { type == MessageType.routerAdvertisement }

  /// Neighbour messages: the target address and the R/S/O flags.
  @inlinable public var targetAddress: IPv6Address {
    isNeighborMessage ? IPv6Address(loadingFrom: base + Field.targetAddress) : .unspecified
  }
  @inlinable public var neighborFlags: UInt8 {
    isNeighborMessage ? base.loadBigEndian8(at: Field.neighborFlags) : 0
  }

  /// Router advertisements (RFC 4861 §4.2).
  @inlinable public var currentHopLimit: UInt8 {
    isRouterAdvertisement ? base.loadBigEndian8(at: Field.currentHopLimit) : 0
  }
  @inlinable public var routerFlags: UInt8 {
    isRouterAdvertisement ? base.loadBigEndian8(at: Field.routerFlags) : 0
  }
  @inlinable public var routerLifetime: UInt16 {
    isRouterAdvertisement ? base.loadBigEndian16(at: Field.routerLifetime) : 0
  }
  @inlinable public var reachableTime: UInt32 {
    isRouterAdvertisement ? base.loadBigEndian32(at: Field.reachableTime) : 0
  }
  @inlinable public var retransmitTimer: UInt32 {
    isRouterAdvertisement ? base.loadBigEndian32(at: Field.retransmitTimer) : 0
  }

  /// For errors and echo: the data after the 8-byte header (the quoted
  /// packet, or the echo data). Empty for other types.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    let start = Self.fixedLength(type: type)
    return bytes.region(from: start, count: bytes.count - start)
  }

  /// The neighbour-discovery options of NS, NA, RS and RA messages
  /// (RFC 4861 §4.6); empty for other types.
  @inlinable public var options: NDPOptions {
    switch type {
    case MessageType.neighborSolicitation, MessageType.neighborAdvertisement,
      MessageType.routerSolicitation, MessageType.routerAdvertisement:
      return NDPOptions(UnsafeRawBufferPointer(payload))
    default:
      return NDPOptions(UnsafeRawBufferPointer(start: nil, count: 0))
    }
  }

  @inlinable
  public func isChecksumValid(pseudoHeaderSum: UInt32) -> Bool {
    InternetChecksum.isValid(
      partialSum: InternetChecksum.sum(UnsafeRawBufferPointer(bytes), initial: pseudoHeaderSum))
  }

  @inlinable
  public func fillChecksum(pseudoHeaderSum: UInt32) {
    checksum = 0
    checksum = InternetChecksum.finish(
      InternetChecksum.sum(UnsafeRawBufferPointer(bytes), initial: pseudoHeaderSum))
  }
}

/// The fixed part of an ICMPv6 message, for building one: type, code and
/// the four bytes after the checksum; neighbour messages add a target.
public struct ICMPv6Header: Hashable, Sendable {
  public var type: UInt8
  public var code: UInt8
  public var restOfHeader: UInt32
  /// Written for neighbour solicitations and advertisements only.
  public var targetAddress: IPv6Address

  public init(
    type: UInt8, code: UInt8 = 0, restOfHeader: UInt32 = 0, targetAddress: IPv6Address = .unspecified
  ) {
    self.type = type
    self.code = code
    self.restOfHeader = restOfHeader
    self.targetAddress = targetAddress
  }

  public init(_ message: ICMPv6Message) {
    let isNeighbor = ICMPv6Message.fixedLength(type: message.type) == ICMPv6Message.Field.neighborOptions
    self.init(
      type: message.type, code: message.code, restOfHeader: message.restOfHeader,
      targetAddress: isNeighbor ? message.targetAddress : .unspecified)
  }

  public static func echoRequest(identifier: UInt16, sequenceNumber: UInt16) -> ICMPv6Header {
    ICMPv6Header(
      type: ICMPv6Message.MessageType.echoRequest,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequenceNumber))
  }

  public static func echoReply(identifier: UInt16, sequenceNumber: UInt16) -> ICMPv6Header {
    ICMPv6Header(
      type: ICMPv6Message.MessageType.echoReply,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequenceNumber))
  }

  public static func packetTooBig(mtu: UInt32) -> ICMPv6Header {
    ICMPv6Header(type: ICMPv6Message.MessageType.packetTooBig, restOfHeader: mtu)
  }

  public static func neighborSolicitation(target: IPv6Address) -> ICMPv6Header {
    ICMPv6Header(type: ICMPv6Message.MessageType.neighborSolicitation, targetAddress: target)
  }

  /// `flags` is a combination of `ICMPv6Message.NeighborFlag` bits.
  public static func neighborAdvertisement(target: IPv6Address, flags: UInt8) -> ICMPv6Header {
    ICMPv6Header(
      type: ICMPv6Message.MessageType.neighborAdvertisement, restOfHeader: UInt32(flags) << 24,
      targetAddress: target)
  }

  public static func routerSolicitation() -> ICMPv6Header {
    ICMPv6Header(type: ICMPv6Message.MessageType.routerSolicitation)
  }

  /// The fixed part's length: 24 for neighbour messages, 8 otherwise.
  public var headerLength: Int {
    ICMPv6Message.fixedLength(type: type) == ICMPv6Message.Field.neighborOptions
      ? ICMPv6Message.Field.neighborOptions : ICMPv6Message.Field.headerLength
  }

  /// Writes the fixed part with a zero checksum; call
  /// `ICMPv6Message.fillChecksum(pseudoHeaderSum:)` once the rest is in place.
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(type, at: ICMPv6Message.Field.type)
    base.storeBigEndian8(code, at: ICMPv6Message.Field.code)
    base.storeBigEndian16(0, at: ICMPv6Message.Field.checksum)
    base.storeBigEndian32(restOfHeader, at: ICMPv6Message.Field.identifier)
    if headerLength == ICMPv6Message.Field.neighborOptions {
      targetAddress.store(to: base + ICMPv6Message.Field.targetAddress)
    }
  }
}
