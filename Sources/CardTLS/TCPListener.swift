import CCardChannel

/// The controller's listening socket for cards.
public final class TCPListener: @unchecked Sendable {
  // @unchecked: the descriptor is only accepted on by one thread; `close`
  // from another thread is what wakes it to stop.
  public let fileDescriptor: Int32
  public let port: UInt16
  private var isClosed = false

  /// Listens on `host` (an IPv4 or IPv6 literal); port 0 picks a free port.
  public init(host: String, port: UInt16, backlog: Int32 = 1024) throws(TLSError) {
    var bound: UInt16 = 0
    let fd = host.withCString { cch_tcp_listen($0, port, backlog, &bound) }
    guard fd >= 0 else { throw .socket(-fd) }
    fileDescriptor = fd
    self.port = bound
  }

  deinit { close() }

  /// Stops listening (frees the port); call after the accepting thread is done.
  public func close() {
    guard !isClosed else { return }
    isClosed = true
    cch_close(fileDescriptor)
  }

  /// Waits up to `timeoutMilliseconds` for a connection (or the waker);
  /// returns its socket, or nil.
  public func accept(waker: Waker?, timeoutMilliseconds: Int32) -> Int32? {
    let ready = cch_wait(fileDescriptor, waker?.fileDescriptor ?? -1, timeoutMilliseconds)
    guard ready > 0, ready & CCH_READY_SOCKET != 0 else { return nil }
    let socket = cch_tcp_accept(fileDescriptor)
    return socket >= 0 ? socket : nil
  }

  /// Closes an accepted socket that will not be served (shutting down).
  public static func discard(socket: Int32) { cch_close(socket) }
}

/// Monotonic time for heartbeats, backoff and deadlines.
public enum MonotonicClock {
  public static func nanoseconds() -> UInt64 { cch_monotonic_ns() }
  public static func milliseconds() -> UInt64 { cch_monotonic_ns() / 1_000_000 }
  public static func sleep(milliseconds: UInt32) { cch_sleep_ms(milliseconds) }
}
