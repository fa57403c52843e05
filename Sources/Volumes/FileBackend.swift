import BlockStorage
import CBlockIO

/// A volume's ciphertext in a file (or a block device node).
///
/// Opened with O_DIRECT where the file system allows it, so that the host's
/// page cache holds no copy of the volume and `flush` means what it says;
/// tmpfs and some others refuse O_DIRECT, and then the file is opened
/// buffered (`isDirect` says which). `flush` is fdatasync. A transfer that
/// moves fewer bytes than asked is an error, never a partial success.
public final class FileBackend: BlockBackend {
  /// O_DIRECT needs buffers, offsets and lengths aligned to the device's
  /// logical block; 4096 covers every device in use.
  public static let directAlignment = 4096

  public enum Allocation: Sendable {
    /// Space reserved up front (fallocate): writes cannot fail for ENOSPC.
    case preallocated
    /// Blocks allocated on first write; discards punch holes.
    case sparse
  }

  /// The file's size when opened, or when `refreshByteCount` last looked.
  public private(set) var byteCount: UInt64
  public let isReadOnly: Bool
  public private(set) var isDirect: Bool
  public var supportsDiscard: Bool { !isReadOnly }
  private var descriptor: Int32
  private let path: String

  /// Opens an existing file; its size is the volume's.
  public init(path: String, readOnly: Bool = false) throws(BlockIOError) {
    self.path = path
    self.isReadOnly = readOnly
    let how = readOnly ? Int32(CBIO_OPEN_READ_ONLY) : 0
    (descriptor, isDirect) = try Self.open(path, how: how)
    var size: UInt64 = 0
    let r = cbio_file_size(descriptor, &size)
    guard r == 0 else {
      _ = cbio_close(descriptor)
      throw .system(operation: "fstat", errno: -r)
    }
    byteCount = size
  }

  /// Creates (or resizes) a file of `byteCount` bytes and opens it.
  public convenience init(creating path: String, byteCount: UInt64, allocation: Allocation)
    throws(BlockIOError)
  {
    let fd = cbio_open(path, Int32(CBIO_OPEN_CREATE))
    guard fd >= 0 else { throw .system(operation: "open", errno: -fd) }
    defer { _ = cbio_close(fd) }
    var r = cbio_ftruncate(fd, byteCount)
    guard r == 0 else { throw .system(operation: "ftruncate", errno: -r) }
    if allocation == .preallocated {
      r = cbio_allocate(fd, 0, byteCount)
      guard r == 0 else { throw .system(operation: "fallocate", errno: -r) }
    }
    try self.init(path: path)
  }

  /// Makes sure the file at `path` holds at least `byteCount` bytes:
  /// a missing file is created sparse, a shorter one is extended with
  /// ftruncate (the new range reads as zeros and takes no space until
  /// written); a longer one is left as it is. Returns the file's size.
  /// A slice's volume is sized this way before it is opened, and again
  /// when it grows.
  @discardableResult
  public static func ensureSize(path: String, atLeast byteCount: UInt64) throws(BlockIOError) -> UInt64 {
    let fd = cbio_open(path, Int32(CBIO_OPEN_CREATE))
    guard fd >= 0 else { throw .system(operation: "open", errno: -fd) }
    defer { _ = cbio_close(fd) }
    var size: UInt64 = 0
    var r = cbio_file_size(fd, &size)
    guard r == 0 else { throw .system(operation: "fstat", errno: -r) }
    guard size < byteCount else { return size }
    r = cbio_ftruncate(fd, byteCount)
    guard r == 0 else { throw .system(operation: "ftruncate", errno: -r) }
    return byteCount
  }

  /// Reads the file's size again (it was extended by `ensureSize`).
  public func refreshByteCount() throws(BlockIOError) {
    var size: UInt64 = 0
    let r = cbio_file_size(descriptor, &size)
    guard r == 0 else { throw .system(operation: "fstat", errno: -r) }
    byteCount = size
  }

  deinit { _ = cbio_close(descriptor) }

  /// Tries O_DIRECT first; EINVAL means the file system has none.
  private static func open(_ path: String, how: Int32) throws(BlockIOError) -> (Int32, Bool) {
    let direct = cbio_open(path, how | Int32(CBIO_OPEN_DIRECT))
    if direct >= 0 { return (direct, true) }
    guard -direct == CBIO_EINVAL else { throw .system(operation: "open", errno: -direct) }
    let buffered = cbio_open(path, how)
    guard buffered >= 0 else { throw .system(operation: "open", errno: -buffered) }
    return (buffered, false)
  }

  /// A direct transfer the kernel refused for alignment (EINVAL): reopen
  /// buffered, once, rather than fail the guest's request.
  private func fallBackToBuffered() throws(BlockIOError) {
    let buffered = cbio_open(path, isReadOnly ? Int32(CBIO_OPEN_READ_ONLY) : 0)
    guard buffered >= 0 else { throw .system(operation: "open", errno: -buffered) }
    _ = cbio_close(descriptor)
    descriptor = buffered
    isDirect = false
  }

  private func isAligned(_ address: UnsafeRawPointer?, _ offset: UInt64, _ count: Int) -> Bool {
    let a = UInt64(Self.directAlignment)
    return UInt64(UInt(bitPattern: address)) % a == 0 && offset % a == 0 && UInt64(count) % a == 0
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockIOError) {
    if isDirect && !isAligned(UnsafeRawPointer(buffer.baseAddress), offset, buffer.count) {
      try fallBackToBuffered()
    }
    var done = 0
    while done < buffer.count {
      let r = cbio_pread(descriptor, buffer.baseAddress! + done, buffer.count - done, offset + UInt64(done))
      if r < 0 && -r == Int(CBIO_EINVAL) && isDirect {
        try fallBackToBuffered()
        continue
      }
      guard r >= 0 else { throw .system(operation: "pread", errno: Int32(-r)) }
      guard r > 0 else { throw .shortTransfer(expected: buffer.count, transferred: done) }
      done += r
    }
  }

  public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    if isDirect && !isAligned(buffer.baseAddress, offset, buffer.count) {
      try fallBackToBuffered()
    }
    var done = 0
    while done < buffer.count {
      let r = cbio_pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, offset + UInt64(done))
      if r < 0 && -r == Int(CBIO_EINVAL) && isDirect {
        try fallBackToBuffered()
        continue
      }
      guard r >= 0 else { throw .system(operation: "pwrite", errno: Int32(-r)) }
      guard r > 0 else { throw .shortTransfer(expected: buffer.count, transferred: done) }
      done += r
    }
  }

  public func flush() throws(BlockIOError) {
    let r = cbio_fdatasync(descriptor)
    guard r == 0 else { throw .system(operation: "fdatasync", errno: -r) }
  }

  public func discard(at offset: UInt64, length: UInt64) throws(BlockIOError) {
    guard !isReadOnly else { throw .readOnly }
    let r = cbio_punch_hole(descriptor, offset, length)
    guard r == 0 else {
      throw -r == CBIO_EOPNOTSUPP ? .unsupported : .system(operation: "fallocate", errno: -r)
    }
  }
}
