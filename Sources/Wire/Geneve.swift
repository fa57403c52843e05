/// A Geneve header (RFC 8926 §3.4), checked once: version 0 and the
/// header with its options inside the region. Options are walked with
/// `GeneveOptions`.
public struct GenevePacket {
  public enum Field {
    /// Ver (2 bits) | Opt Len (6 bits, 4-byte units).
    public static let versionAndOptionsLength = 0
    /// O | C | Rsvd (6 bits).
    public static let flags = 1
    public static let protocolType = 2
    public static let vni = 4
    public static let headerLength = 8
  }

  public static let oamFlag: UInt8 = 0x80
  public static let criticalOptionsFlag: UInt8 = 0x40
  /// RFC 8926 §3.3: the UDP destination port.
  public static let udpPort: UInt16 = 6081

  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  @inlinable
  public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
    guard bytes.count >= Field.headerLength, let base = bytes.baseAddress else { throw .truncated }
    // RFC 8926 §3.4: a packet with an unknown version must be dropped.
    guard base.loadBigEndian8(at: Field.versionAndOptionsLength) >> 6 == 0 else { throw .badVersion }
    let total = Field.headerLength + Int(base.loadBigEndian8(at: Field.versionAndOptionsLength) & 0x3f) * 4
    guard total <= bytes.count else { throw .truncated }
    self.bytes = bytes
    self.base = base
  }

  /// Per packet, for a header the caller has already checked.
  @inlinable @inline(__always)
  public init(unchecked bytes: UnsafeMutableRawBufferPointer) {
    self.bytes = bytes
    self.base = bytes.baseAddress.unsafelyUnwrapped
  }

  @inlinable public var version: UInt8 { base.loadBigEndian8(at: Field.versionAndOptionsLength) >> 6 }

  /// The options' length in bytes (Opt Len × 4).
  @inlinable public var optionsLength: Int {
    Int(base.loadBigEndian8(at: Field.versionAndOptionsLength) & 0x3f) * 4
  }

  /// RFC 8926 §3.4: O, a control packet that must not be forwarded to a tenant.
  @inlinable public var isOAM: Bool { base.loadBigEndian8(at: Field.flags) & Self.oamFlag != 0 }
  /// C: at least one option is critical.
  @inlinable public var hasCriticalOptions: Bool {
    base.loadBigEndian8(at: Field.flags) & Self.criticalOptionsFlag != 0
  }

  /// The EtherType of the payload (0x6558 for an Ethernet frame).
  @inlinable public var protocolType: EtherType {
    EtherType(rawValue: base.loadBigEndian16(at: Field.protocolType))
  }

  @inlinable public var vni: UInt32 {
    get { base.loadBigEndian32(at: Field.vni) >> 8 }
    nonmutating set {
      let reserved = base.loadBigEndian32(at: Field.vni) & 0xff
      base.storeBigEndian32(newValue << 8 | reserved, at: Field.vni)
    }
  }

  /// The fixed header plus options.
  @inlinable public var headerLength: Int { Field.headerLength + optionsLength }

  @inlinable public var options: GeneveOptions {
    GeneveOptions(UnsafeRawBufferPointer(bytes.region(from: Field.headerLength, count: optionsLength)))
  }

  @inlinable public var payload: UnsafeMutableRawBufferPointer {
    bytes.region(from: headerLength, count: bytes.count - headerLength)
  }
}

/// One Geneve option (RFC 8926 §3.5).
public struct GeneveOption {
  public let optionClass: UInt16
  /// The type byte; its high bit marks the option critical.
  public let type: UInt8
  /// The option data (Length × 4 bytes).
  public let data: UnsafeRawBufferPointer

  @inlinable
  public init(optionClass: UInt16, type: UInt8, data: UnsafeRawBufferPointer) {
    self.optionClass = optionClass
    self.type = type
    self.data = data
  }

  @inlinable public var isCritical: Bool { type & 0x80 != 0 }
}

/// The options of a Geneve header, walked in place. Per packet.
public struct GeneveOptions {
  @usableFromInline static let optionHeaderLength = 4
  @usableFromInline let bytes: UnsafeRawBufferPointer
  @usableFromInline var offset = 0

  @inlinable
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  /// The next option, nil at the end, `badOption` if an option header or
  /// its data runs past the options length (RFC 8926 §3.5: lengths are
  /// checked against Opt Len).
  @inlinable
  public mutating func next() throws(WireError) -> GeneveOption? {
    guard offset < bytes.count else { return nil }
    guard offset + Self.optionHeaderLength <= bytes.count, let base = bytes.baseAddress else {
      throw .badOption
    }
    let length = Self.optionHeaderLength + Int(base.loadBigEndian8(at: offset + 3) & 0x1f) * 4
    guard offset + length <= bytes.count else { throw .badOption }
    let option = GeneveOption(
      optionClass: base.loadBigEndian16(at: offset), type: base.loadBigEndian8(at: offset + 2),
      data: UnsafeRawBufferPointer(rebasing: bytes[(offset + Self.optionHeaderLength)..<(offset + length)]))
    offset += length
    return option
  }
}

/// A Geneve header, for building one. The options area (`optionsLength`
/// bytes) follows the fixed header; write it with `GeneveOptionHeader`.
public struct GeneveHeader: Hashable, Sendable {
  public var isOAM: Bool
  public var hasCriticalOptions: Bool
  public var protocolType: EtherType
  public var vni: UInt32
  /// In bytes, a multiple of 4 up to 252.
  public var optionsLength: Int

  public init(
    vni: UInt32, protocolType: EtherType = .transparentEthernetBridging, optionsLength: Int = 0,
    isOAM: Bool = false, hasCriticalOptions: Bool = false
  ) {
    precondition(vni <= 0xff_ffff && optionsLength % 4 == 0 && optionsLength <= 252)
    self.vni = vni
    self.protocolType = protocolType
    self.optionsLength = optionsLength
    self.isOAM = isOAM
    self.hasCriticalOptions = hasCriticalOptions
  }

  public init(_ packet: GenevePacket) {
    self.init(
      vni: packet.vni, protocolType: packet.protocolType, optionsLength: packet.optionsLength,
      isOAM: packet.isOAM, hasCriticalOptions: packet.hasCriticalOptions)
  }

  /// The fixed header plus options.
  public var headerLength: Int { GenevePacket.Field.headerLength + optionsLength }

  /// Writes the fixed 8-byte header. Per packet.
  @inlinable
  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    typealias F = GenevePacket.Field
    precondition(buffer.count >= F.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian8(UInt8(optionsLength / 4), at: F.versionAndOptionsLength)
    var flags: UInt8 = 0
    if isOAM { flags |= GenevePacket.oamFlag }
    if hasCriticalOptions { flags |= GenevePacket.criticalOptionsFlag }
    base.storeBigEndian8(flags, at: F.flags)
    base.storeBigEndian16(protocolType.rawValue, at: F.protocolType)
    base.storeBigEndian32(vni << 8, at: F.vni)
  }
}

/// The 4-byte header of one Geneve option; its data follows.
public struct GeneveOptionHeader: Hashable, Sendable {
  public var optionClass: UInt16
  public var type: UInt8
  /// In bytes, a multiple of 4 up to 124.
  public var dataLength: Int

  public init(optionClass: UInt16, type: UInt8, dataLength: Int) {
    precondition(dataLength % 4 == 0 && dataLength <= 124)
    self.optionClass = optionClass
    self.type = type
    self.dataLength = dataLength
  }

  public static let headerLength = GeneveOptions.optionHeaderLength
  /// Header plus data.
  public var length: Int { Self.headerLength + dataLength }

  public func emit(into buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count >= Self.headerLength)
    let base = buffer.baseAddress.unsafelyUnwrapped
    base.storeBigEndian16(optionClass, at: 0)
    base.storeBigEndian8(type, at: 2)
    base.storeBigEndian8(UInt8(dataLength / 4), at: 3)
  }
}
