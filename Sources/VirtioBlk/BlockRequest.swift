/// One virtio-blk request as the guest framed it (virtio 1.2 §5.2.6): a
/// 16-byte header (type, reserved, sector) at the start of the readable
/// part, then data, then one status byte, the last writable byte. The
/// spec lets the driver split this across descriptors any way it likes
/// (§2.6.4), so only lengths matter, not descriptor boundaries.
public struct BlockRequest: Equatable, Sendable {
  /// virtio 1.2 §5.2.6: VIRTIO_BLK_T_*.
  public enum Kind: UInt32, Sendable {
    case read = 0
    case write = 1
    case flush = 4
    case getID = 8
    case discard = 11
    case writeZeroes = 13
  }

  public static let headerSize = 16
  /// §5.2.6: GET_ID returns a 20-byte serial.
  public static let idSize = 20
  /// §5.2.6: struct virtio_blk_discard_write_zeroes.
  public static let rangeSegmentSize = 16

  public var kind: Kind
  /// In 512-byte units whatever blk_size is (§5.2.6).
  public var sector: UInt64
  /// Data bytes: for a read, the writable bytes before the status byte; for
  /// a write, discard or write-zeroes, the readable bytes after the header.
  public var dataLength: Int

  @inlinable
  public init(kind: Kind, sector: UInt64, dataLength: Int) {
    self.kind = kind
    self.sector = sector
    self.dataLength = dataLength
  }

  /// Validates the framing. `header` holds the first 16 readable bytes
  /// (fewer if the chain has fewer). Per request.
  @inlinable
  public static func parse(header: UnsafeRawBufferPointer, readableLength: Int, writableLength: Int)
    throws(BlockRequestError) -> BlockRequest
  {
    // §5.2.6.1: the status byte is the last writable byte; without one the
    // request cannot even be failed properly.
    guard writableLength >= 1 else { throw .noStatusByte }
    guard header.count >= headerSize, readableLength >= headerSize else { throw .headerTooShort }
    let rawKind = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    let sector = UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    guard let kind = Kind(rawValue: rawKind) else { throw .unsupportedType(rawKind) }
    let readableData = readableLength - headerSize
    let writableData = writableLength - 1
    switch kind {
    case .read:
      // Data is device-writable only (§5.2.6.1).
      guard readableData == 0 else { throw .dataInWrongDirection }
      guard writableData % 512 == 0 else { throw .oddLength(writableData) }
      return BlockRequest(kind: kind, sector: sector, dataLength: writableData)
    case .write:
      guard writableData == 0 else { throw .dataInWrongDirection }
      guard readableData % 512 == 0 else { throw .oddLength(readableData) }
      return BlockRequest(kind: kind, sector: sector, dataLength: readableData)
    case .flush:
      guard readableData == 0, writableData == 0 else { throw .dataInWrongDirection }
      return BlockRequest(kind: kind, sector: sector, dataLength: 0)
    case .getID:
      guard readableData == 0 else { throw .dataInWrongDirection }
      guard writableData >= idSize else { throw .oddLength(writableData) }
      return BlockRequest(kind: kind, sector: sector, dataLength: idSize)
    case .discard, .writeZeroes:
      guard writableData == 0 else { throw .dataInWrongDirection }
      guard readableData > 0, readableData % rangeSegmentSize == 0 else { throw .oddLength(readableData) }
      return BlockRequest(kind: kind, sector: sector, dataLength: readableData)
    }
  }
}

/// One range of a DISCARD or WRITE_ZEROES request (§5.2.6: struct
/// virtio_blk_discard_write_zeroes).
public struct BlockRange: Equatable, Sendable {
  public var sector: UInt64
  public var sectors: UInt32
  /// Bit 0: unmap (WRITE_ZEROES may deallocate); the rest reserved.
  public var flags: UInt32

  public static let unmapFlag: UInt32 = 1

  @inlinable
  public init(sector: UInt64, sectors: UInt32, flags: UInt32) {
    self.sector = sector
    self.sectors = sectors
    self.flags = flags
  }

  /// Reads one 16-byte segment (little-endian).
  @inlinable
  public init(_ bytes: UnsafeRawBufferPointer) {
    precondition(bytes.count >= BlockRequest.rangeSegmentSize)
    sector = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    sectors = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    flags = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
  }
}
