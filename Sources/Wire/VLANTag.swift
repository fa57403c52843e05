/// An IEEE 802.1Q tag as it follows a 0x8100 (or 802.1ad 0x88a8) EtherType:
/// the tag control information and the EtherType of what comes next. The
/// view starts at the TCI, two bytes after the tag's own TPID.
public struct VLANTag {
  public enum Field {
    public static let tagControl = 0
    public static let etherType = 2
    public static let length = 4
  }

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable @inline(__always)
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.length, let base = bytes.baseAddress else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet; the caller guarantees `Field.length` bytes.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable var tagControl: UInt16 {
    get { base.loadBigEndian16(at: Field.tagControl) }
    nonmutating set { base.storeBigEndian16(newValue, at: Field.tagControl) }
  }

  /// Priority code point (802.1Q §6.9.1), 0...7.
  @inlinable public var priority: UInt8 { UInt8(tagControl >> 13) }
  /// Drop eligible indicator.
  @inlinable public var dropEligible: Bool { tagControl & 0x1000 != 0 }

  /// The 12-bit VLAN identifier.
  @inlinable public var vlanID: UInt16 {
    get { tagControl & 0x0fff }
    nonmutating set { tagControl = tagControl & 0xf000 | newValue & 0x0fff }
  }

  @inlinable public var etherType: EtherType {
    get { EtherType(rawValue: base.loadBigEndian16(at: Field.etherType)) }
    nonmutating set { base.storeBigEndian16(newValue.rawValue, at: Field.etherType) }
  }

  @inlinable public var headerLength: Int { Field.length }

  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: Field.length, count: bytes.count - Field.length)
  }
}

/// The fields of a VLAN tag, for building one.
public struct VLANTagHeader: Hashable, Sendable {
  public var priority: UInt8
  public var dropEligible: Bool
  public var vlanID: UInt16
  public var etherType: EtherType

  public init(priority: UInt8 = 0, dropEligible: Bool = false, vlanID: UInt16, etherType: EtherType) {
    self.priority = priority & 0x7
    self.dropEligible = dropEligible
    self.vlanID = vlanID & 0x0fff
    self.etherType = etherType
  }

  public init(_ tag: VLANTag) {
    self.init(
      priority: tag.priority, dropEligible: tag.dropEligible, vlanID: tag.vlanID,
      etherType: tag.etherType)
  }

  public static let headerLength = VLANTag.Field.length
  public var headerLength: Int { Self.headerLength }

  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= VLANTag.Field.length)
    let tci = UInt16(priority & 0x7) << 13 | (dropEligible ? 0x1000 : 0) | vlanID & 0x0fff
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian16(tci, at: VLANTag.Field.tagControl)
    base.storeBigEndian16(etherType.rawValue, at: VLANTag.Field.etherType)
  }
}
