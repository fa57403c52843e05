import CPlatform

/// Unix stream sockets: the vhost-user transport.
public enum UnixSocket {
  /// Binds and listens on `path` (which must not exist yet; see `unlink`).
  public static func listen(path: String, backlog: Int32 = 8) throws(SystemError) -> FileDescriptor {
    let fd = path.withCString { cp_unix_listen($0, backlog) }
    return FileDescriptor(rawValue: try checked("bind/listen", fd))
  }

  public static func accept(_ listener: FileDescriptor) throws(SystemError) -> FileDescriptor {
    FileDescriptor(rawValue: try checked("accept", cp_unix_accept(listener.rawValue)))
  }

  public static func connect(path: String) throws(SystemError) -> FileDescriptor {
    let fd = path.withCString { cp_unix_connect($0) }
    return FileDescriptor(rawValue: try checked("connect", fd))
  }

  /// Removes a socket path; a missing path is not an error.
  public static func unlink(path: String) {
    _ = path.withCString { cp_unlink($0) }
  }

  /// True if nothing but a socket (or nothing at all) is at `path`, so
  /// that `listen` after `unlink` there removes no other file.
  public static func mayReplace(path: String) -> Bool {
    let kind = path.withCString { cp_path_kind($0) }
    return kind == 0 || kind == 1
  }

  /// True if nothing at all is at `path`.
  public static func isAbsent(path: String) -> Bool { path.withCString { cp_path_kind($0) } == 0 }

  /// Two connected sockets (tests, and in-process frontends).
  public static func pair() throws(SystemError) -> (FileDescriptor, FileDescriptor) {
    var fds: (Int32, Int32) = (-1, -1)
    let r = withUnsafeMutablePointer(to: &fds) { pair in
      pair.withMemoryRebound(to: Int32.self, capacity: 2) { cp_unix_socketpair($0) }
    }
    _ = try checked("socketpair", r)
    return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
  }

  /// Sends `bytes` with `fds` attached (SCM_RIGHTS). A vanished peer is
  /// an error (MSG_NOSIGNAL), never SIGPIPE.
  public static func send(
    _ socket: FileDescriptor, _ bytes: UnsafeRawBufferPointer, fds: UnsafeBufferPointer<Int32>
  ) throws(SystemError) -> Int {
    try checked(
      "sendmsg",
      cp_send_with_fds(socket.rawValue, bytes.baseAddress, bytes.count, fds.baseAddress, Int32(fds.count)))
  }

  /// What one `receive` produced.
  public struct Received: Sendable {
    /// Bytes read (0: the peer closed the connection).
    public var byteCount: Int
    /// Descriptors kept (at most the capacity of the buffer given).
    public var fdCount: Int
    /// Descriptors that arrived beyond that capacity; already closed.
    public var droppedFDCount: Int
  }

  /// Receives bytes and any descriptors sent with them. Descriptors beyond
  /// `fds.count` are closed at once and counted in `droppedFDCount`.
  public static func receive(
    _ socket: FileDescriptor, into bytes: UnsafeMutableRawBufferPointer,
    fds: UnsafeMutableBufferPointer<Int32>
  ) throws(SystemError) -> Received {
    var kept: Int32 = 0
    var dropped: Int32 = 0
    let n = cp_receive_with_fds(
      socket.rawValue, bytes.baseAddress, bytes.count, fds.baseAddress, Int32(fds.count), &kept, &dropped)
    let count = try checked("recvmsg", n)
    return Received(byteCount: count, fdCount: Int(kept), droppedFDCount: Int(dropped))
  }
}
