/// A UDP datagram (RFC 768), checked once: 8 ≤ length ≤ region. `payload`
/// ends at `length`, not at the region's end.
public struct UDPDatagram {
  public enum Field {
    public static let sourcePort = 0
    public static let destinationPort = 2
    public static let length = 4
    public static let checksum = 6
    public static let headerLength = 8
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    let length = Int(base.loadBigEndian16(at: Field.length))
    // A zero length is only meaningful in IPv6 jumbograms (RFC 2675), which
    // this module does not carry.
    guard length >= Field.headerLength else { throw .badLength }
    guard length <= bytes.count else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a datagram the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var sourcePort: UInt16 {
    get { base.loadBigEndian16(at: Field.sourcePort) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.sourcePort) }
  }

  @inlinable public var destinationPort: UInt16 {
    get { base.loadBigEndian16(at: Field.destinationPort) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.destinationPort) }
  }

  /// Header plus payload, in bytes.
  @inlinable public var length: Int {
    get { Int(base.loadBigEndian16(at: Field.length)) }
    nonmutating set { base.storeBigEndian16(UInt16(truncatingIfNeeded: newValue), at: Field.length) }
  }

  @inlinable public var checksum: UInt16 {
    get { base.loadBigEndian16(at: Field.checksum) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.checksum) }
  }

  @inlinable public var headerLength: Int { Field.headerLength }

  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: length - Field.headerLength)
  }

  /// Whether the datagram, with the pseudo-header summed into
  /// `pseudoHeaderSum`, checks. A zero checksum means "none" over IPv4
  /// (RFC 768) and is the caller's decision; this only checks the sum.
  @inlinable
  public func isChecksumValid(pseudoHeaderSum: UInt32) -> Bool {
    InternetChecksum.isValid(
      partialSum: InternetChecksum.sum(UnsafeRawPointer(base), count: length, initial: pseudoHeaderSum))
  }

  /// Computes and stores the checksum. RFC 768: a computed zero is sent as
  /// all ones, since zero means "no checksum".
  @inlinable @inline(__always)
  public func fillChecksum(pseudoHeaderSum: UInt32) {
    checksum = 0
    let value = InternetChecksum.finish(
      InternetChecksum.sum(UnsafeRawPointer(base), count: length, initial: pseudoHeaderSum))
    checksum = value == 0 ? 0xffff : value
  }
}

/// The fields of a UDP header, for building one.
public struct UDPHeader: Hashable, Sendable {
  public var sourcePort: UInt16
  public var destinationPort: UInt16
  public var payloadLength: Int

  public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
    self.payloadLength = payloadLength
  }

  public init(_ datagram: UDPDatagram) {
    self.init(
      sourcePort: datagram.sourcePort, destinationPort: datagram.destinationPort,
      payloadLength: datagram.length - UDPDatagram.Field.headerLength)
  }

  public static let headerLength = UDPDatagram.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the header with a zero checksum; call
  /// `UDPDatagram.fillChecksum(pseudoHeaderSum:)` once the payload is in
  /// place. Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = UDPDatagram.Field
    precondition(buffer.count >= F.headerLength && payloadLength <= 65535 - F.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian16(sourcePort, at: F.sourcePort)
    base.storeBigEndian16(destinationPort, at: F.destinationPort)
    base.storeBigEndian16(UInt16(F.headerLength + payloadLength), at: F.length)
    base.storeBigEndian16(0, at: F.checksum)
  }
}
