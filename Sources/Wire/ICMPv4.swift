/// An ICMP message for IPv4 (RFC 792), checked once: the 8-byte header is
/// inside the region. The message runs to the end of the region (the IPv4
/// payload), which is what the checksum covers.
public struct ICMPv4Message {
  public enum Field {
    public static let type = 0
    public static let code = 1
    public static let checksum = 2
    /// Echo: identifier and sequence number.
    public static let identifier = 4
    public static let sequenceNumber = 6
    /// Destination unreachable, code 4 (RFC 1191 §4): next-hop MTU.
    public static let nextHopMTU = 6
    public static let headerLength = 8
  }

  /// RFC 792 message types this module names.
  public enum MessageType {
    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let echoRequest: UInt8 = 8
    public static let timeExceeded: UInt8 = 11
    public static let parameterProblem: UInt8 = 12
  }

  /// Destination unreachable code 4: fragmentation needed and DF set.
  public static let fragmentationNeededCode: UInt8 = 4

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a message the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var type: UInt8 { base.loadBigEndian8(at: Field.type) }
  @inlinable public var code: UInt8 { base.loadBigEndian8(at: Field.code) }

  @inlinable public var checksum: UInt16 {
    get { base.loadBigEndian16(at: Field.checksum) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.checksum) }
  }

  /// The four bytes after the checksum, whose meaning depends on the type.
  @inlinable public var restOfHeader: UInt32 { base.loadBigEndian32(at: Field.identifier) }

  @inlinable public var isEcho: Bool { type == MessageType.echoRequest || type == MessageType.echoReply }

  /// Whether this is an error that quotes an offending packet (RFC 792).
  @inlinable public var isError: Bool {
    type == MessageType.destinationUnreachable || type == MessageType.timeExceeded
      || type == MessageType.parameterProblem
  }

  @inlinable public var identifier: UInt16 {
    get { base.loadBigEndian16(at: Field.identifier) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.identifier) }
  }

  @inlinable public var sequenceNumber: UInt16 { base.loadBigEndian16(at: Field.sequenceNumber) }

  /// RFC 1191 §4: the next-hop MTU of a "fragmentation needed" message
  /// (zero from routers older than RFC 1191).
  @inlinable public var nextHopMTU: UInt16 { base.loadBigEndian16(at: Field.nextHopMTU) }

  @inlinable public var headerLength: Int { Field.headerLength }

  /// The data after the header: echo data, or for errors the offending
  /// packet's IPv4 header and at least its first 8 payload bytes.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: bytes.count - Field.headerLength)
  }

  /// The quoted IPv4 header of an error message, checked like any header
  /// except that its total length may exceed what was quoted (RFC 792
  /// quotes only the first 8 payload bytes; RFC 1812 §4.3.2.3 more): its
  /// `payload` is what was quoted.
  @inlinable
  public func invokingPacketHeader() throws(WireError) -> IPv4Packet {
    guard isError else { throw .unsupported }
    let quoted = payload
    guard quoted.count >= IPv4Packet.Field.minimumHeaderLength, let quotedBase = quoted.baseAddress else {
      throw .truncated
    }
    let first = quotedBase.loadBigEndian8(at: IPv4Packet.Field.versionAndHeaderLength)
    guard first >> 4 == 4 else { throw .badVersion }
    let headerLength = Int(first & 0xf) * 4
    guard headerLength >= IPv4Packet.Field.minimumHeaderLength else { throw .badHeaderLength }
    guard headerLength <= quoted.count else { throw .truncated }
    return IPv4Packet(unchecked: quoted)
  }

  @inlinable public var isChecksumValid: Bool {
    InternetChecksum.isValid(partialSum: InternetChecksum.sum(UnsafeRawBufferPointer(bytes)))
  }

  @inlinable
  public func fillChecksum() {
    checksum = 0
    checksum = InternetChecksum.checksum(UnsafeRawBufferPointer(bytes))
  }
}

/// The header of an ICMPv4 message, for building one.
public struct ICMPv4Header: Hashable, Sendable {
  public var type: UInt8
  public var code: UInt8
  public var restOfHeader: UInt32

  public init(type: UInt8, code: UInt8, restOfHeader: UInt32 = 0) {
    self.type = type
    self.code = code
    self.restOfHeader = restOfHeader
  }

  public init(_ message: ICMPv4Message) {
    self.init(type: message.type, code: message.code, restOfHeader: message.restOfHeader)
  }

  public static func echoRequest(identifier: UInt16, sequenceNumber: UInt16) -> ICMPv4Header {
    ICMPv4Header(
      type: ICMPv4Message.MessageType.echoRequest, code: 0,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequenceNumber))
  }

  public static func echoReply(identifier: UInt16, sequenceNumber: UInt16) -> ICMPv4Header {
    ICMPv4Header(
      type: ICMPv4Message.MessageType.echoReply, code: 0,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequenceNumber))
  }

  /// Destination unreachable, code 4, with the MTU of the next hop.
  public static func fragmentationNeeded(nextHopMTU: UInt16) -> ICMPv4Header {
    ICMPv4Header(
      type: ICMPv4Message.MessageType.destinationUnreachable, code: ICMPv4Message.fragmentationNeededCode,
      restOfHeader: UInt32(nextHopMTU))
  }

  public static func destinationUnreachable(code: UInt8) -> ICMPv4Header {
    ICMPv4Header(type: ICMPv4Message.MessageType.destinationUnreachable, code: code)
  }

  /// Time exceeded; code 0 is "TTL exceeded in transit".
  public static func timeExceeded(code: UInt8 = 0) -> ICMPv4Header {
    ICMPv4Header(type: ICMPv4Message.MessageType.timeExceeded, code: code)
  }

  public static let headerLength = ICMPv4Message.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the header into `message`, the whole message with its data
  /// already in place, and computes the checksum over it.
  public func emit(into message: UnsafeMutableRawBufferPointer) {
    precondition(message.count >= Self.headerLength)
    let base = message.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(type, at: ICMPv4Message.Field.type)
    base.storeBigEndian8(code, at: ICMPv4Message.Field.code)
    base.storeBigEndian32(restOfHeader, at: ICMPv4Message.Field.identifier)
    ICMPv4Message(unchecked: message).fillChecksum()
  }
}
