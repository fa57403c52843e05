/// An IPv4 packet (RFC 791 §3.1), checked once on creation:
/// version 4, IHL ≥ 5, the header and `totalLength` inside the region.
/// Bytes after `totalLength` (Ethernet padding) are not part of `payload`.
public struct IPv4Packet {
  public enum Field {
    public static let versionAndHeaderLength = 0
    public static let typeOfService = 1
    public static let totalLength = 2
    public static let identification = 4
    public static let flagsAndFragmentOffset = 6
    public static let timeToLive = 8
    public static let `protocol` = 9
    public static let headerChecksum = 10
    public static let source = 12
    public static let destination = 16
    public static let minimumHeaderLength = 20
    public static let maximumHeaderLength = 60
  }

  /// RFC 791 §3.1 flag bits within the flags/fragment-offset word.
  @usableFromInline static let dontFragmentBit: UInt16 = 0x4000
  @usableFromInline static let moreFragmentsBit: UInt16 = 0x2000
  @usableFromInline static let fragmentOffsetMask: UInt16 = 0x1fff

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.minimumHeaderLength, let base = bytes.baseAddress else {
      throw .truncated
    }
    let first = base.loadBigEndian8(at: Field.versionAndHeaderLength)
    guard first >> 4 == 4 else { throw .badVersion }
    let headerLength = Int(first & 0xf) * 4
    guard headerLength >= Field.minimumHeaderLength else { throw .badHeaderLength }
    guard headerLength <= bytes.count else { throw .truncated }
    let totalLength = Int(base.loadBigEndian16(at: Field.totalLength))
    guard totalLength >= headerLength else { throw .badTotalLength }
    guard totalLength <= bytes.count else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a packet the caller has already checked with
  /// `init(checking:)` (or built itself); no check is repeated.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var version: UInt8 { base.loadBigEndian8(at: Field.versionAndHeaderLength) >> 4 }

  /// IHL × 4, in bytes (20...60).
  @inlinable public var headerLength: Int {
    Int(base.loadBigEndian8(at: Field.versionAndHeaderLength) & 0xf) * 4
  }

  /// Differentiated services code point (RFC 2474), the upper six bits.
  @inlinable public var dscp: UInt8 { base.loadBigEndian8(at: Field.typeOfService) >> 2 }
  /// Explicit congestion notification (RFC 3168), the lower two bits.
  @inlinable public var ecn: UInt8 { base.loadBigEndian8(at: Field.typeOfService) & 0x3 }

  @inlinable public var totalLength: Int {
    get { Int(base.loadBigEndian16(at: Field.totalLength)) }
    nonmutating set { base.storeBigEndian16(UInt16(truncatingIfNeeded: newValue), at: Field.totalLength) }
  }

  @inlinable public var identification: UInt16 {
    get { base.loadBigEndian16(at: Field.identification) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.identification) }
  }

  @inlinable var flagsAndFragmentOffset: UInt16 { base.loadBigEndian16(at: Field.flagsAndFragmentOffset) }

  @inlinable public var dontFragment: Bool { flagsAndFragmentOffset & Self.dontFragmentBit != 0 }
  @inlinable public var moreFragments: Bool { flagsAndFragmentOffset & Self.moreFragmentsBit != 0 }
  /// The fragment offset field, in units of 8 bytes.
  @inlinable public var fragmentOffset: UInt16 { flagsAndFragmentOffset & Self.fragmentOffsetMask }
  /// The offset of this fragment's data in the original datagram, in bytes.
  @inlinable public var fragmentByteOffset: Int { Int(fragmentOffset) * 8 }
  /// Whether this is any fragment of a larger datagram (first, middle or
  /// last): its upper-layer header may be absent or incomplete.
  @inlinable public var isFragment: Bool {
    flagsAndFragmentOffset & (Self.moreFragmentsBit | Self.fragmentOffsetMask) != 0
  }

  @inlinable public var timeToLive: UInt8 {
    get { base.loadBigEndian8(at: Field.timeToLive) }
    nonmutating set { base.storeBigEndian8(newValue, at: Field.timeToLive) }
  }

  @inlinable public var `protocol`: IPProtocol {
    get { IPProtocol(rawValue: base.loadBigEndian8(at: Field.protocol)) }
    nonmutating set { base.storeBigEndian8(newValue.rawValue, at: Field.protocol) }
  }

  @inlinable public var headerChecksum: UInt16 {
    get { base.loadBigEndian16(at: Field.headerChecksum) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.headerChecksum) }
  }

  @inlinable public var source: IPv4Address {
    get { IPv4Address(loadingFrom: base + Field.source) }
    nonmutating set { newValue.store(to: base + Field.source) }
  }

  @inlinable public var destination: IPv4Address {
    get { IPv4Address(loadingFrom: base + Field.destination) }
    nonmutating set { newValue.store(to: base + Field.destination) }
  }

  /// The options, between the fixed header and `headerLength`.
  @inlinable public var options: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.minimumHeaderLength, count: headerLength - Field.minimumHeaderLength)
  }

  /// The payload, up to `totalLength`, or to the region's end when that
  /// comes first (only for a header quoted in an ICMP error, see
  /// `ICMPv4Message.invokingPacketHeader()`; a checked packet always holds
  /// `totalLength` bytes).
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: headerLength, count: min(totalLength, bytes.count) - headerLength)
  }

  /// RFC 791 §3.1: the header, checksum included, sums to all ones.
  @inlinable public var isChecksumValid: Bool {
    InternetChecksum.isValid(partialSum: InternetChecksum.sum(UnsafeRawPointer(base), count: headerLength))
  }

  /// Recomputes the header checksum over the whole header.
  @inlinable @inline(__always)
  public func fillChecksum() {
    headerChecksum = 0
    headerChecksum = InternetChecksum.finish(
      InternetChecksum.sum(UnsafeRawPointer(base), count: headerLength))
  }

  /// Decrements the TTL and patches the checksum (RFC 1624 eqn. 3, as
  /// RFC 1812 §5.3.1 allows). Per packet; the caller has checked TTL > 1.
  @inlinable @inline(__always)
  public func decrementTimeToLive() {
    let old = base.loadBigEndian16(at: Field.timeToLive)
    let new = old &- 0x0100
    base.storeBigEndian16(new, at: Field.timeToLive)
    headerChecksum = InternetChecksum.update(headerChecksum, replacing: old, with: new)
  }

  /// Replaces the source address and patches the header checksum (not the
  /// upper layer's, whose pseudo-header also covers it).
  @inlinable @inline(__always)
  public func replaceSource(with address: IPv4Address) {
    headerChecksum = InternetChecksum.update(
      headerChecksum, replacing: source.rawValue, with: address.rawValue)
    source = address
  }

  /// Replaces the destination address and patches the header checksum.
  @inlinable @inline(__always)
  public func replaceDestination(with address: IPv4Address) {
    headerChecksum = InternetChecksum.update(
      headerChecksum, replacing: destination.rawValue, with: address.rawValue)
    destination = address
  }

  /// The partial sum of this packet's pseudo-header for its upper layer.
  @inlinable public var pseudoHeaderSum: UInt32 {
    InternetChecksum.pseudoHeaderSum(
      source: source, destination: destination, protocol: self.protocol,
      length: totalLength - headerLength)
  }
}

/// The fields of an IPv4 header without options, for building one.
public struct IPv4Header: Hashable, Sendable {
  public var dscp: UInt8
  public var ecn: UInt8
  public var identification: UInt16
  public var dontFragment: Bool
  public var moreFragments: Bool
  /// In units of 8 bytes.
  public var fragmentOffset: UInt16
  public var timeToLive: UInt8
  public var `protocol`: IPProtocol
  public var source: IPv4Address
  public var destination: IPv4Address
  /// Bytes after the header; `totalLength` is `20 + payloadLength`.
  public var payloadLength: Int

  public init(
    source: IPv4Address, destination: IPv4Address, protocol proto: IPProtocol,
    payloadLength: Int, timeToLive: UInt8 = 64, identification: UInt16 = 0,
    dontFragment: Bool = false, moreFragments: Bool = false, fragmentOffset: UInt16 = 0,
    dscp: UInt8 = 0, ecn: UInt8 = 0
  ) {
    self.source = source
    self.destination = destination
    self.protocol = proto
    self.payloadLength = payloadLength
    self.timeToLive = timeToLive
    self.identification = identification
    self.dontFragment = dontFragment
    self.moreFragments = moreFragments
    self.fragmentOffset = fragmentOffset
    self.dscp = dscp
    self.ecn = ecn
  }

  /// The fields of `packet` (its options are not kept).
  public init(_ packet: IPv4Packet) {
    self.init(
      source: packet.source, destination: packet.destination, protocol: packet.protocol,
      payloadLength: packet.totalLength - packet.headerLength, timeToLive: packet.timeToLive,
      identification: packet.identification, dontFragment: packet.dontFragment,
      moreFragments: packet.moreFragments, fragmentOffset: packet.fragmentOffset,
      dscp: packet.dscp, ecn: packet.ecn)
  }

  public static let headerLength = IPv4Packet.Field.minimumHeaderLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the 20-byte header, checksum included, at the start of
  /// `buffer`. Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = IPv4Packet.Field
    precondition(buffer.count >= F.minimumHeaderLength && payloadLength <= 65535 - F.minimumHeaderLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(0x45, at: F.versionAndHeaderLength)
    base.storeBigEndian8(dscp << 2 | ecn & 0x3, at: F.typeOfService)
    base.storeBigEndian16(UInt16(F.minimumHeaderLength + payloadLength), at: F.totalLength)
    base.storeBigEndian16(identification, at: F.identification)
    var flags = fragmentOffset & IPv4Packet.fragmentOffsetMask
    if dontFragment { flags |= IPv4Packet.dontFragmentBit }
    if moreFragments { flags |= IPv4Packet.moreFragmentsBit }
    base.storeBigEndian16(flags, at: F.flagsAndFragmentOffset)
    base.storeBigEndian8(timeToLive, at: F.timeToLive)
    base.storeBigEndian8(self.protocol.rawValue, at: F.protocol)
    base.storeBigEndian16(0, at: F.headerChecksum)
    source.store(to: base + F.source)
    destination.store(to: base + F.destination)
    let sum = InternetChecksum.sum(UnsafeRawPointer(base), count: F.minimumHeaderLength)
    base.storeBigEndian16(InternetChecksum.finish(sum), at: F.headerChecksum)
  }
}
