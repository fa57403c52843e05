import CCardChannel

/// Lets another thread end a connection's wait early (an eventfd): to send
/// queued frames, or to stop.
public final class Waker: @unchecked Sendable {
  // @unchecked: an eventfd is safe to signal from any thread.
  public let fileDescriptor: Int32

  public init() throws(TLSError) {
    let fd = cch_waker_new()
    guard fd >= 0 else { throw .socket(-fd) }
    fileDescriptor = fd
  }

  deinit { cch_close(fileDescriptor) }

  public func signal() { cch_waker_signal(fileDescriptor) }
  public func drain() { cch_waker_drain(fileDescriptor) }

  /// Waits for a signal at most `timeoutMilliseconds`; true if signalled.
  public func wait(timeoutMilliseconds: Int32) -> Bool {
    let ready = cch_wait(-1, fileDescriptor, timeoutMilliseconds)
    if ready > 0 && ready & CCH_READY_WAKER != 0 {
      drain()
      return true
    }
    return false
  }
}
