/// Where a volume's ciphertext lives: a file, an NBD export, memory.
/// Byte-addressed; the volume above only ever asks for whole encryption
/// sectors (512 or 4096 bytes, aligned), so a backend may require that
/// alignment (O_DIRECT does).
///
/// A backend is a thing with identity (a descriptor, a connection), hence a
/// class. One thread uses it at a time.
public protocol BlockBackend: AnyObject {
  /// Size in bytes.
  var byteCount: UInt64 { get }
  /// True if writes are refused (a read-only export or file).
  var isReadOnly: Bool { get }
  /// True if `discard` frees space (else it reports `.unsupported`).
  var supportsDiscard: Bool { get }

  /// Fills `buffer` from `offset`. All of it, or throws.
  func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError)
  /// Writes all of `buffer` at `offset`, or throws.
  func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockIOError)
  /// Returns once everything written so far is durable.
  func flush() throws(BlockIOError)
  /// Lets the backend forget a range (later reads return zeros or old data).
  func discard(at offset: UInt64, length: UInt64) throws(BlockIOError)
}
