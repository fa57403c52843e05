/// An Ethernet II frame (IEEE 802.3 §3.2) seen through its first 14 bytes:
/// destination, source, EtherType. VLAN tags after the EtherType are read
/// with `VLANTag`. The FCS is not part of the region (NICs strip it).
public struct EthernetFrame {
  public enum Field {
    public static let destination = 0
    public static let source = 6
    public static let etherType = 12
    public static let headerLength = 14
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  /// Checks that `bytes` holds a whole header.
  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else {
      throw .truncated
    }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a frame the caller has already checked (at least
  /// `Field.headerLength` bytes); no check is repeated.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var destination: MACAddress {
    get { MACAddress(loadingFrom: base + Field.destination) }
    nonmutating set { newValue.store(to: base + Field.destination) }
  }

  @inlinable public var source: MACAddress {
    get { MACAddress(loadingFrom: base + Field.source) }
    nonmutating set { newValue.store(to: base + Field.source) }
  }

  @inlinable public var etherType: EtherType {
    get { EtherType(rawValue: base.loadBigEndian16(at: Field.etherType)) }
    nonmutating set { base.storeBigEndian16(newValue.rawValue, at: Field.etherType) }
  }

  @inlinable public var headerLength: Int { Field.headerLength }

  /// Everything after the 14-byte header (a VLAN tag or the payload).
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: bytes.count - Field.headerLength)
  }
}

/// The fields of an Ethernet II header, for building one.
public struct EthernetHeader: Hashable, Sendable {
  public var destination: MACAddress
  public var source: MACAddress
  public var etherType: EtherType

  public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
    self.destination = destination
    self.source = source
    self.etherType = etherType
  }

  public init(_ frame: EthernetFrame) {
    self.init(destination: frame.destination, source: frame.source, etherType: frame.etherType)
  }

  public static let headerLength = EthernetFrame.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the header at the start of `buffer`, which must hold it.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= EthernetFrame.Field.headerLength)
    let frame = EthernetFrame(unchecked: buffer)
    frame.destination = destination
    frame.source = source
    frame.etherType = etherType
  }
}
