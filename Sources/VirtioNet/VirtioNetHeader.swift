/// `struct virtio_net_hdr_v1` (virtio 1.2 §5.1.6), the 12 bytes in front of
/// every packet on both directions once VERSION_1 is negotiated.
public struct VirtioNetHeader: Equatable {
  public static let size = 12
  // Field offsets.
  static let flagsOffset = 0
  static let gsoTypeOffset = 1
  static let headerLengthOffset = 2
  static let gsoSizeOffset = 4
  static let checksumStartOffset = 6
  static let checksumOffsetOffset = 8
  static let bufferCountOffset = 10

  /// flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, _DATA_VALID.
  public static let needsChecksum: UInt8 = 1
  public static let dataValid: UInt8 = 2
  /// gso_type values (§5.1.6.2).
  public static let gsoNone: UInt8 = 0
  public static let gsoTCPv4: UInt8 = 1
  public static let gsoUDP: UInt8 = 3
  public static let gsoTCPv6: UInt8 = 4
  public static let gsoECN: UInt8 = 0x80

  public var flags: UInt8 = 0
  public var gsoType: UInt8 = gsoNone
  public var headerLength: UInt16 = 0
  public var gsoSize: UInt16 = 0
  public var checksumStart: UInt16 = 0
  public var checksumOffset: UInt16 = 0
  public var bufferCount: UInt16 = 0

  public init() {}

  /// Reads a header from 12 bytes (little-endian fields). Per packet.
  @inlinable
  public init(_ p: UnsafeRawPointer) {
    flags = p.load(fromByteOffset: 0, as: UInt8.self)
    gsoType = p.load(fromByteOffset: 1, as: UInt8.self)
    headerLength = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    gsoSize = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
    checksumStart = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
    checksumOffset = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
    bufferCount = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
  }

  /// Writes the header to 12 bytes. Per packet.
  @inlinable
  public func write(to p: UnsafeMutableRawPointer) {
    p.storeBytes(of: flags, toByteOffset: 0, as: UInt8.self)
    p.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
    p.storeBytes(of: headerLength.littleEndian, toByteOffset: 2, as: UInt16.self)
    p.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
    p.storeBytes(of: checksumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
    p.storeBytes(of: checksumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
    p.storeBytes(of: bufferCount.littleEndian, toByteOffset: 10, as: UInt16.self)
  }
}
