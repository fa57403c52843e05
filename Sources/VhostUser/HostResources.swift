/// What the session needs from the operating system: mapping guest memory
/// files, closing descriptors it does not keep. Generic, so that the real
/// server passes its system-call shim and the fuzzer passes plain memory
/// (no descriptors are ever touched there).
public protocol HostResources {
  /// Maps `length` bytes of the memory file `fd` from its start, shared and
  /// read-write. Must refuse (not map) when the file is shorter than
  /// `length`: touching a mapping past its file's end raises SIGBUS.
  mutating func mapMemoryFile(fd: Int32, length: UInt64) throws(VhostUserError) -> UnsafeMutableRawPointer
  mutating func unmap(_ base: UnsafeMutableRawPointer, length: UInt64)
  mutating func close(fd: Int32)
}
