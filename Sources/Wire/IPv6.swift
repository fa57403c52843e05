/// An IPv6 packet (RFC 8200 §3), checked once: version 6 and the 40-byte
/// header plus `payloadLength` inside the region. Extension headers are
/// walked by `upperLayer()`.
public struct IPv6Packet {
  public enum Field {
    public static let versionClassAndFlowLabel = 0
    public static let payloadLength = 4
    public static let nextHeader = 6
    public static let hopLimit = 7
    public static let source = 8
    public static let destination = 24
    public static let headerLength = 40
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    guard base.loadBigEndian8(at: Field.versionClassAndFlowLabel) >> 4 == 6 else { throw .badVersion }
    // A zero payload length with a jumbo payload option (RFC 2675) is
    // treated as an empty payload: jumbograms do not cross this card.
    guard Field.headerLength + Int(base.loadBigEndian16(at: Field.payloadLength)) <= bytes.count else {
      throw .truncated
    }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a packet the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable var firstWord: UInt32 { base.loadBigEndian32(at: Field.versionClassAndFlowLabel) }

  @inlinable public var version: UInt8 { UInt8(firstWord >> 28) }
  @inlinable public var trafficClass: UInt8 { UInt8(truncatingIfNeeded: firstWord >> 20) }
  @inlinable public var flowLabel: UInt32 { firstWord & 0xf_ffff }

  @inlinable public var payloadLength: Int {
    get { Int(base.loadBigEndian16(at: Field.payloadLength)) }
    nonmutating set { base.storeBigEndian16(UInt16(truncatingIfNeeded: newValue), at: Field.payloadLength) }
  }

  /// The first next-header value: an extension header or the upper layer.
  @inlinable public var nextHeader: IPProtocol {
    get { IPProtocol(rawValue: base.loadBigEndian8(at: Field.nextHeader)) }
    nonmutating set { base.storeBigEndian8(newValue.rawValue, at: Field.nextHeader) }
  }

  @inlinable public var hopLimit: UInt8 {
    get { base.loadBigEndian8(at: Field.hopLimit) }
    nonmutating set { base.storeBigEndian8(newValue, at: Field.hopLimit) }
  }

  @inlinable public var source: IPv6Address {
    get { IPv6Address(loadingFrom: base + Field.source) }
    nonmutating set { newValue.store(to: base + Field.source) }
  }

  @inlinable public var destination: IPv6Address {
    get { IPv6Address(loadingFrom: base + Field.destination) }
    nonmutating set { newValue.store(to: base + Field.destination) }
  }

  @inlinable public var headerLength: Int { Field.headerLength }

  /// Everything after the fixed header up to `payloadLength`, extension
  /// headers included.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: payloadLength)
  }

  /// Walks the extension headers to the upper layer. Per packet.
  @inlinable
  public func upperLayer() throws(WireError) -> IPv6UpperLayer {
    try IPv6UpperLayer(walking: UnsafeRawBufferPointer(payload), firstHeader: nextHeader)
  }

  /// The partial sum of the pseudo-header for an upper layer of `length`
  /// bytes (RFC 8200 §8.1; the length excludes extension headers).
  @inlinable
  public func pseudoHeaderSum(protocol proto: IPProtocol, length: Int) -> UInt32 {
    InternetChecksum.pseudoHeaderSum(
      source: source, destination: destination, protocol: proto, length: length)
  }
}

/// The fields of an IPv6 header, for building one.
public struct IPv6Header: Hashable, Sendable {
  public var trafficClass: UInt8
  public var flowLabel: UInt32
  public var nextHeader: IPProtocol
  public var hopLimit: UInt8
  public var source: IPv6Address
  public var destination: IPv6Address
  /// Bytes after the fixed header, extension headers included.
  public var payloadLength: Int

  public init(
    source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol, payloadLength: Int,
    hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
  ) {
    self.source = source
    self.destination = destination
    self.nextHeader = nextHeader
    self.payloadLength = payloadLength
    self.hopLimit = hopLimit
    self.trafficClass = trafficClass
    self.flowLabel = flowLabel & 0xf_ffff
  }

  public init(_ packet: IPv6Packet) {
    self.init(
      source: packet.source, destination: packet.destination, nextHeader: packet.nextHeader,
      payloadLength: packet.payloadLength, hopLimit: packet.hopLimit, trafficClass: packet.trafficClass,
      flowLabel: packet.flowLabel)
  }

  public static let headerLength = IPv6Packet.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the 40-byte header at the start of `buffer`. Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = IPv6Packet.Field
    precondition(buffer.count >= F.headerLength && payloadLength <= 65535)
    let base = buffer.baseAddress.unsafelyUnwrapped
    let first = UInt32(6) << 28 | UInt32(trafficClass) << 20 | flowLabel & 0xf_ffff
    base.storeBigEndian32(first, at: F.versionClassAndFlowLabel)
    base.storeBigEndian16(UInt16(payloadLength), at: F.payloadLength)
    base.storeBigEndian8(nextHeader.rawValue, at: F.nextHeader)
    base.storeBigEndian8(hopLimit, at: F.hopLimit)
    source.store(to: base + F.source)
    destination.store(to: base + F.destination)
  }
}
