import CPlatform

/// An open file descriptor. A plain value: whoever created it closes it
/// (explicitly, with `close()`), as with swift-system's `FileDescriptor`.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int32

  public init(rawValue: Int32) { self.rawValue = rawValue }

  public var description: String { "fd " + String(rawValue) }

  public func close() throws(SystemError) {
    _ = try checked("close", cp_close(rawValue))
  }

  /// Reads up to `buffer.count` bytes; 0 means end of file.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
    try checked("read", cp_read(rawValue, buffer.baseAddress, buffer.count))
  }

  /// Writes up to `buffer.count` bytes; returns how many were written.
  public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int {
    try checked("write", cp_write(rawValue, buffer.baseAddress, buffer.count))
  }

  /// The size of the file (fstat's st_size).
  public func fileSize() throws(SystemError) -> UInt64 {
    var size: UInt64 = 0
    _ = try checked("fstat", cp_file_size(rawValue, &size))
    return size
  }

  public func setNonblocking() throws(SystemError) {
    _ = try checked("fcntl", cp_set_nonblocking(rawValue))
  }
}

/// A pipe's two ends.
public struct Pipe: Sendable {
  public let readEnd: FileDescriptor
  public let writeEnd: FileDescriptor

  public init() throws(SystemError) {
    var fds: (Int32, Int32) = (-1, -1)
    let r = withUnsafeMutablePointer(to: &fds) { pair in
      pair.withMemoryRebound(to: Int32.self, capacity: 2) { cp_pipe($0) }
    }
    _ = try checked("pipe2", r)
    readEnd = FileDescriptor(rawValue: fds.0)
    writeEnd = FileDescriptor(rawValue: fds.1)
  }
}
