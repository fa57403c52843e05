import Platform
import VhostUser

/// The session's system calls, through the Platform shim.
public struct PlatformHost: HostResources {
  public init() {}

  public mutating func mapMemoryFile(fd: Int32, length: UInt64) throws(VhostUserError)
    -> UnsafeMutableRawPointer
  {
    let file = FileDescriptor(rawValue: fd)
    let size: UInt64
    do throws(SystemError) { size = try file.fileSize() } catch { throw .mapFailed(errno: error.errno) }
    // A mapping longer than its file raises SIGBUS when touched past the
    // end: a front-end could crash us with a small memfd and a big region.
    guard length <= size else { throw .regionTooLarge(size: length) }
    do throws(SystemError) { return try SharedMapping(fd: file, length: length).pointer } catch {
      throw .mapFailed(errno: error.errno)
    }
  }

  public mutating func unmap(_ base: UnsafeMutableRawPointer, length: UInt64) {
    try? SharedMapping(adopting: base, length: length).unmap()
  }

  public mutating func close(fd: Int32) {
    guard fd >= 0 else { return }
    try? FileDescriptor(rawValue: fd).close()
  }
}
