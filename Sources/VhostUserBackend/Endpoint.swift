import Platform
import VhostUser

/// One socket path the back-end listens on, and the one front-end it
/// serves there. Its session, rings and failures are its own: a broken
/// front-end here closes only this connection.
public final class Endpoint<Device: VhostUserDevice> {
  public let path: String
  let listener: FileDescriptor
  var connection: FileDescriptor? = nil
  var framer = MessageFramer()
  public let session: VhostUserSession<Device, PlatformHost>
  /// Kick descriptors registered with epoll, per ring.
  var registeredKicks: [Int32?]
  /// Rings being polled (notifications off) and how many empty polls each
  /// has had in a row.
  var polled: [Bool]
  var idlePolls: [Int]
  public internal(set) var totals = EndpointTotals()

  init(path: String, device: Device, options: SessionOptions) throws(SystemError) {
    self.path = path
    UnixSocket.unlink(path: path)
    listener = try UnixSocket.listen(path: path)
    try listener.setNonblocking()
    session = VhostUserSession(device: device, host: PlatformHost(), options: options)
    registeredKicks = [Int32?](repeating: nil, count: device.queueCount)
    polled = [Bool](repeating: false, count: device.queueCount)
    idlePolls = [Int](repeating: 0, count: device.queueCount)
  }

  var isConnected: Bool { connection != nil }

  func noteConnected() { totals.connections += 1 }

  func noteDisconnected(refused: Bool) {
    totals.disconnects += 1
    if refused { totals.droppedForErrors += 1 }
    totals.refusedMessages += session.counters.refused
  }
}

/// An endpoint's totals across connections.
public struct EndpointTotals: Equatable, Sendable {
  public var connections: UInt64 = 0
  public var disconnects: UInt64 = 0
  /// Connections the back-end closed because the front-end broke protocol.
  public var droppedForErrors: UInt64 = 0
  /// Refused messages from connections that have ended.
  public var refusedMessages: UInt64 = 0
  /// Further front-ends that tried to connect while one was served.
  public var turnedAway: UInt64 = 0
  /// Config changes sent on the back-end channel (CONFIG_CHANGE_MSG).
  public var configChangesAnnounced: UInt64 = 0
  /// Back-end channels dropped because a send failed (full or closed).
  public var backendChannelFailures: UInt64 = 0
}
