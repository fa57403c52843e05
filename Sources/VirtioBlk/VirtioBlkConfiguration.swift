/// The device's config space, struct virtio_blk_config (virtio 1.2 §5.2.4),
/// as values; `encode` lays it out little-endian.
public struct VirtioBlkConfiguration: Equatable, Sendable {
  /// Through write_zeroes_may_unmap and its padding; the secure-erase
  /// fields after it belong to a feature we do not offer.
  public static let size = 60

  public var capacity: UInt64
  public var sizeMax: UInt32
  public var segMax: UInt32
  public var blockSize: UInt32
  public var queueCount: UInt16
  public var maxDiscardSectors: UInt32
  public var maxDiscardSegments: UInt32
  public var discardSectorAlignment: UInt32
  public var maxWriteZeroesSectors: UInt32
  public var maxWriteZeroesSegments: UInt32
  public var writeZeroesMayUnmap: Bool

  public init(
    capacity: UInt64, sizeMax: UInt32, segMax: UInt32, blockSize: UInt32, queueCount: UInt16,
    maxDiscardSectors: UInt32, maxDiscardSegments: UInt32, discardSectorAlignment: UInt32,
    maxWriteZeroesSectors: UInt32, maxWriteZeroesSegments: UInt32, writeZeroesMayUnmap: Bool
  ) {
    self.capacity = capacity
    self.sizeMax = sizeMax
    self.segMax = segMax
    self.blockSize = blockSize
    self.queueCount = queueCount
    self.maxDiscardSectors = maxDiscardSectors
    self.maxDiscardSegments = maxDiscardSegments
    self.discardSectorAlignment = discardSectorAlignment
    self.maxWriteZeroesSectors = maxWriteZeroesSectors
    self.maxWriteZeroesSegments = maxWriteZeroesSegments
    self.writeZeroesMayUnmap = writeZeroesMayUnmap
  }

  /// Writes the structure into `out` (at least `size` bytes).
  public func encode(into out: UnsafeMutableRawBufferPointer) {
    precondition(out.count >= Self.size)
    out.initializeMemory(as: UInt8.self, repeating: 0)
    out.storeBytes(of: capacity.littleEndian, toByteOffset: 0, as: UInt64.self)
    out.storeBytes(of: sizeMax.littleEndian, toByteOffset: 8, as: UInt32.self)
    out.storeBytes(of: segMax.littleEndian, toByteOffset: 12, as: UInt32.self)
    // geometry (16..<20) stays zero.
    out.storeBytes(of: blockSize.littleEndian, toByteOffset: 20, as: UInt32.self)
    // topology: physical_block_exp = log2(blk_size / 512), min_io_size in
    // logical blocks (1), opt_io_size 0.
    out.storeBytes(of: UInt8(blockSize == 4096 ? 3 : 0), toByteOffset: 24, as: UInt8.self)
    out.storeBytes(of: UInt16(1).littleEndian, toByteOffset: 26, as: UInt16.self)
    // writeback (32) stays 0: FLUSH is offered, CONFIG_WCE is not.
    out.storeBytes(of: queueCount.littleEndian, toByteOffset: 34, as: UInt16.self)
    out.storeBytes(of: maxDiscardSectors.littleEndian, toByteOffset: 36, as: UInt32.self)
    out.storeBytes(of: maxDiscardSegments.littleEndian, toByteOffset: 40, as: UInt32.self)
    out.storeBytes(of: discardSectorAlignment.littleEndian, toByteOffset: 44, as: UInt32.self)
    out.storeBytes(of: maxWriteZeroesSectors.littleEndian, toByteOffset: 48, as: UInt32.self)
    out.storeBytes(of: maxWriteZeroesSegments.littleEndian, toByteOffset: 52, as: UInt32.self)
    out.storeBytes(of: UInt8(writeZeroesMayUnmap ? 1 : 0), toByteOffset: 56, as: UInt8.self)
  }
}
