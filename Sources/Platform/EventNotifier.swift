import CPlatform

/// An eventfd: a 64-bit counter one side adds to and the other drains.
/// vhost-user's kick (guest → device) and call (device → guest) channels.
/// Made non-blocking.
public struct EventNotifier: Hashable, Sendable {
  public let fd: FileDescriptor

  public init() throws(SystemError) {
    fd = FileDescriptor(rawValue: try checked("eventfd", cp_eventfd(0)))
  }

  /// Wraps a descriptor received from a peer.
  public init(adopting fd: FileDescriptor) { self.fd = fd }

  public func signal() throws(SystemError) {
    _ = try checked("eventfd_write", cp_eventfd_write(fd.rawValue, 1))
  }

  /// Reads and resets the counter; 0 when nothing was signalled.
  public func drain() throws(SystemError) -> UInt64 {
    var value: UInt64 = 0
    let r = cp_eventfd_read(fd.rawValue, &value)
    if r < 0 {
      let error = SystemError("eventfd_read", result: Int(r))
      if error.isWouldBlock { return 0 }
      throw error
    }
    return value
  }

  public func close() throws(SystemError) { try fd.close() }
}
