/// The ESP header (RFC 4303 §2.1-2.2): SPI and sequence number. The rest
/// (IV, ciphertext, trailer, ICV) is opaque until decrypted; the decrypted
/// trailer is read with `ESPTrailer`.
public struct ESPPacket {
  public enum Field {
    public static let spi = 0
    public static let sequenceNumber = 4
    public static let headerLength = 8
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a packet the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  /// RFC 4303 §2.1: 0 is reserved and never on the wire; 1-255 are
  /// reserved by IANA. The SA lookup rejects both.
  @inlinable public var spi: UInt32 {
    get { base.loadBigEndian32(at: Field.spi) }
    nonmutating set { base.storeBigEndian32(newValue, at: Field.spi) }
  }

  /// The low 32 bits of the sequence number (ESN high bits are implicit, §2.2.1).
  @inlinable public var sequenceNumber: UInt32 {
    get { base.loadBigEndian32(at: Field.sequenceNumber) }
    nonmutating set { base.storeBigEndian32(newValue, at: Field.sequenceNumber) }
  }

  @inlinable public var headerLength: Int { Field.headerLength }

  /// IV, ciphertext and ICV.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: bytes.count - Field.headerLength)
  }
}

/// An ESP header, for building one.
public struct ESPHeader: Hashable, Sendable {
  public var spi: UInt32
  public var sequenceNumber: UInt32

  public init(spi: UInt32, sequenceNumber: UInt32) {
    self.spi = spi
    self.sequenceNumber = sequenceNumber
  }

  public init(_ packet: ESPPacket) { self.init(spi: packet.spi, sequenceNumber: packet.sequenceNumber) }

  public static let headerLength = ESPPacket.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= ESPPacket.Field.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian32(spi, at: ESPPacket.Field.spi)
    base.storeBigEndian32(sequenceNumber, at: ESPPacket.Field.sequenceNumber)
  }
}
