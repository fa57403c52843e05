/// A store that passes sectors straight to a backend, unencrypted: the
/// memory disk of tests and the fuzz target, and the baseline the volume
/// benchmark compares with.
public final class PlainStore<Backend: BlockBackend>: BlockStore {
  public let backend: Backend

  public init(backend: Backend) { self.backend = backend }

  public var sectorCount: UInt64 { backend.byteCount / 512 }
  public var blockSize: UInt32 { 512 }
  public var isReadOnly: Bool { backend.isReadOnly }
  public var supportsDiscard: Bool { backend.supportsDiscard }

  public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    guard buffer.count % 512 == 0 else { throw .misaligned(byteCount: buffer.count) }
    try checkRange(sector: sector, sectors: UInt64(buffer.count / 512))
    try backend.read(at: sector * 512, into: buffer)
  }

  public func write(sector: UInt64, consuming buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    guard buffer.count % 512 == 0 else { throw .misaligned(byteCount: buffer.count) }
    try checkRange(sector: sector, sectors: UInt64(buffer.count / 512))
    try backend.write(at: sector * 512, from: UnsafeRawBufferPointer(buffer))
  }

  public func flush() throws(BlockIOError) { try backend.flush() }

  public func discard(sector: UInt64, sectors: UInt64) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    try checkRange(sector: sector, sectors: sectors)
    try backend.discard(at: sector * 512, length: sectors * 512)
  }

  public func writeZeroes(sector: UInt64, sectors: UInt64) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    try checkRange(sector: sector, sectors: sectors)
    try backend.discard(at: sector * 512, length: sectors * 512)
  }
}
