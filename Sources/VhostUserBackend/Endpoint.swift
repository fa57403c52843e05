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
  /// Rings whose breakage was logged (once per start).
  var reportedBroken: [Bool]
  public internal(set) var totals = EndpointTotals()
  /// The packed rings' resume record (`RingResumeRecord`), mapped from
  /// `recordPath`; nil if the file could not be made (rings then resume
  /// from the front-end's base only).
  var recordMapping: SharedMapping?
  public var recordPath: String { path + ".rings" }

  init(path: String, device: Device, options: SessionOptions) throws(SystemError) {
    self.path = path
    UnixSocket.unlink(path: path)
    listener = try UnixSocket.listen(path: path)
    try listener.setNonblocking()
    session = VhostUserSession(device: device, host: PlatformHost(), options: options)
    // Next to the socket (a run directory on tmpfs): it outlives a killed
    // back-end, and the restarted one finds it at the same path.
    let recordSize = RingResumeRecord.byteCount(queueCount: device.queueCount)
    if let mapping = try? StateFile.map(path: path + ".rings", size: UInt64(recordSize)) {
      recordMapping = mapping
      session.resumeRecord = RingResumeRecord(
        bytes: UnsafeMutableRawBufferPointer(start: mapping.pointer, count: recordSize),
        queueCount: device.queueCount)
    }
    registeredKicks = [Int32?](repeating: nil, count: device.queueCount)
    polled = [Bool](repeating: false, count: device.queueCount)
    idlePolls = [Int](repeating: 0, count: device.queueCount)
    reportedBroken = [Bool](repeating: false, count: device.queueCount)
  }

  var isConnected: Bool { connection != nil }

  /// Unmaps the resume record (the session is closed: no ring writes it);
  /// `removingFile` when the endpoint goes for good.
  func releaseRecord(removingFile: Bool) {
    session.resumeRecord = nil
    if let mapping = recordMapping { try? mapping.unmap() }
    recordMapping = nil
    if removingFile { UnixSocket.unlink(path: recordPath) }
  }

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
