import CPlatform

/// A shared, read-write mapping of a file (guest memory arrives as memfds).
public struct SharedMapping: Sendable {
  /// Kept as an integer so the value is Sendable; who may touch the bytes
  /// is the owner's business.
  public let address: UInt
  public let length: UInt64

  public var pointer: UnsafeMutableRawPointer {
    // Sound: `address` came from a successful mmap of `length` bytes.
    UnsafeMutableRawPointer(bitPattern: address)!
  }

  /// Maps `length` bytes of `fd` from `offset` (a multiple of the page size).
  public init(fd: FileDescriptor, length: UInt64, offset: UInt64 = 0) throws(SystemError) {
    var raw: UnsafeMutableRawPointer? = nil
    _ = try checked("mmap", cp_mmap_shared(fd.rawValue, length, offset, &raw))
    address = UInt(bitPattern: raw)
    self.length = length
  }

  /// Takes over a mapping made earlier (to unmap it).
  public init(adopting pointer: UnsafeMutableRawPointer, length: UInt64) {
    address = UInt(bitPattern: pointer)
    self.length = length
  }

  public func unmap() throws(SystemError) {
    _ = try checked("munmap", cp_munmap(pointer, length))
  }

  public static var pageSize: Int { cp_page_size() }
}

/// An anonymous memory file (memfd), sized with ftruncate.
public enum MemoryFile {
  public static func create(name: String, size: UInt64) throws(SystemError) -> FileDescriptor {
    let fd = FileDescriptor(rawValue: try checked("memfd_create", name.withCString { cp_memfd_create($0) }))
    let r = cp_ftruncate(fd.rawValue, size)
    if r < 0 {
      try? fd.close()
      throw SystemError("ftruncate", result: Int(r))
    }
    return fd
  }
}

/// A small file mapped shared, for state that must outlive the process
/// (a SIGKILL included): stores into the mapping are the file's contents.
public enum StateFile {
  /// Opens (or creates) the file at `path`, makes it at least `size`
  /// bytes (new bytes read as zero) and maps its first `size` bytes.
  public static func map(path: String, size: UInt64) throws(SystemError) -> SharedMapping {
    let fd = FileDescriptor(rawValue: try checked("open", path.withCString { cp_open_state_file($0) }))
    defer { try? fd.close() }
    let current = try fd.fileSize()
    if current < size { _ = try checked("ftruncate", cp_ftruncate(fd.rawValue, size)) }
    return try SharedMapping(fd: fd, length: size)
  }
}
