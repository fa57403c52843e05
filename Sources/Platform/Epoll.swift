import CPlatform

/// An epoll instance. Each registered descriptor carries a 64-bit token
/// the caller chooses; `wait` hands back tokens and event bits.
public struct Epoll: Sendable {
  public let fd: FileDescriptor

  /// Event bits.
  public struct Events: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = Events(rawValue: UInt32(CP_EPOLLIN))
    public static let writable = Events(rawValue: UInt32(CP_EPOLLOUT))
    public static let error = Events(rawValue: UInt32(CP_EPOLLERR))
    public static let hangUp = Events(rawValue: UInt32(CP_EPOLLHUP))
    public static let peerClosed = Events(rawValue: UInt32(CP_EPOLLRDHUP))
  }

  public struct Event: Sendable {
    public var events: Events
    public var token: UInt64
  }

  /// The most events one `wait` returns.
  public static let batch = 64

  public init() throws(SystemError) {
    fd = FileDescriptor(rawValue: try checked("epoll_create1", cp_epoll_create()))
  }

  public func add(_ target: FileDescriptor, events: Events, token: UInt64) throws(SystemError) {
    _ = try checked("epoll_ctl", cp_epoll_control(fd.rawValue, 0, target.rawValue, events.rawValue, token))
  }

  public func modify(_ target: FileDescriptor, events: Events, token: UInt64) throws(SystemError) {
    _ = try checked("epoll_ctl", cp_epoll_control(fd.rawValue, 1, target.rawValue, events.rawValue, token))
  }

  /// Removes `target`; one that is already gone is not an error.
  public func remove(_ target: FileDescriptor) {
    _ = cp_epoll_control(fd.rawValue, 2, target.rawValue, 0, 0)
  }

  /// Waits up to `timeoutMilliseconds` (-1: forever) and calls `body` for
  /// each ready descriptor. Returns how many there were (0 on timeout or
  /// signal).
  public func wait(
    timeoutMilliseconds: Int32, _ body: (Event) -> Void
  ) throws(SystemError) -> Int {
    let fd = self.fd
    return try withUnsafeTemporaryAllocation(of: cp_epoll_event.self, capacity: Epoll.batch) {
      (raw) throws(SystemError) -> Int in
      let n = try checked(
        "epoll_wait", cp_epoll_wait(fd.rawValue, raw.baseAddress, Int32(raw.count), timeoutMilliseconds))
      for i in 0..<Int(n) {
        body(Event(events: Events(rawValue: raw[i].events), token: raw[i].token))
      }
      return Int(n)
    }
  }

  public func close() throws(SystemError) { try fd.close() }
}
