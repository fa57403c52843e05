/// What a virtio-blk device serves: plaintext sectors of 512 bytes (virtio
/// 1.2 §5.2.6: the request's sector field is always in 512-byte units,
/// whatever blk_size says). An encrypted volume is one; so is a plain
/// memory disk in tests.
///
/// The buffers are card memory (the device copies to and from guest memory),
/// so a store may transform them in place.
public protocol BlockStore: AnyObject {
  /// Capacity in 512-byte sectors.
  var sectorCount: UInt64 { get }
  /// The smallest unit the store writes without a read-modify-write: the
  /// encryption sector (512 or 4096). Offered to the guest as blk_size.
  var blockSize: UInt32 { get }
  var isReadOnly: Bool { get }
  /// True if `discard` is offered.
  var supportsDiscard: Bool { get }

  /// Per request. Reads `buffer.count` bytes (a multiple of 512) from
  /// `sector`.
  func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError)
  /// Per request. Writes `buffer.count` bytes (a multiple of 512) at
  /// `sector`. The buffer's contents are consumed: afterwards it may hold
  /// ciphertext.
  func write(sector: UInt64, consuming buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError)
  func flush() throws(BlockIOError)
  func discard(sector: UInt64, sectors: UInt64) throws(BlockIOError)
  /// Makes the range read as zeros.
  func writeZeroes(sector: UInt64, sectors: UInt64) throws(BlockIOError)
}

extension BlockStore {
  /// Throws unless `sectors` sectors from `sector` lie inside the device
  /// (overflow-safe: both values come from the guest).
  @inlinable public func checkRange(sector: UInt64, sectors: UInt64) throws(BlockIOError) {
    let (end, overflow) = sector.addingReportingOverflow(sectors)
    guard !overflow, end <= sectorCount else { throw .outOfRange(sector: sector, sectors: sectors) }
  }
}
