/// A VXLAN header (RFC 7348 §5): flags with the I bit, 24-bit VNI. The
/// inner Ethernet frame follows. Checked once: 8 bytes and the I bit set.
public struct VXLANPacket {
  public enum Field {
    public static let flags = 0
    public static let vni = 4
    public static let headerLength = 8
  }

  /// RFC 7348 §5: "I" flag, which must be 1 for a valid VNI.
  public static let vniValidFlag: UInt8 = 0x08
  /// RFC 7348 §5: the UDP destination port.
  public static let udpPort: UInt16 = 4789

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    // The other flag bits and reserved fields are ignored on receipt (§5).
    guard base.loadBigEndian8(at: Field.flags) & Self.vniValidFlag != 0 else { throw .badFlags }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a header the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var flags: UInt8 { base.loadBigEndian8(at: Field.flags) }

  /// The 24-bit VXLAN network identifier.
  @inlinable public var vni: UInt32 {
    get { base.loadBigEndian32(at: Field.vni) >> 8 }
    nonmutating set {
      let reserved = base.loadBigEndian32(at: Field.vni) & 0xff
      base.storeBigEndian32(newValue << 8 | reserved, at: Field.vni)
    }
  }

  @inlinable public var headerLength: Int { Field.headerLength }

  /// The inner Ethernet frame.
  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.headerLength, count: bytes.count - Field.headerLength)
  }
}

/// A VXLAN header, for building one.
public struct VXLANHeader: Hashable, Sendable {
  public var vni: UInt32

  public init(vni: UInt32) {
    precondition(vni <= 0xff_ffff)
    self.vni = vni
  }

  public init(_ packet: VXLANPacket) { vni = packet.vni }

  public static let headerLength = VXLANPacket.Field.headerLength
  public var headerLength: Int { Self.headerLength }

  /// Writes the 8-byte header (reserved fields zero). Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= VXLANPacket.Field.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian32(UInt32(VXLANPacket.vniValidFlag) << 24, at: VXLANPacket.Field.flags)
    base.storeBigEndian32(vni << 8, at: VXLANPacket.Field.vni)
  }
}
