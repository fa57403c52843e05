import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A connection to a guest's QEMU monitor (QMP, `-qmp unix:PATH,server=on,wait=off`):
/// commands one at a time, answers matched in order, events kept until
/// asked for. QEMU serves one monitor client at a time: the connection is
/// held only for one attach or detach.
public final class GuestMonitor {
  let path: String
  let descriptor: Int32
  var pending = [UInt8]()
  /// Events QEMU sent so far, oldest first, not yet taken.
  public private(set) var events: [[String: Any]] = []

  /// Connects and leaves the greeting's capability negotiation behind.
  public init(socketPath: String, timeoutSeconds: Double = 10) throws(HostDriverError) {
    path = socketPath
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw .monitorUnavailable(path: socketPath, reason: String(cString: strerror(errno)))
    }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(socketPath.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      close(fd)
      throw .monitorUnavailable(path: socketPath, reason: "path too long")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard status == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw .monitorUnavailable(path: socketPath, reason: reason)
    }
    descriptor = fd
    let greeting = try readMessage(timeoutSeconds: timeoutSeconds)
    guard greeting["QMP"] != nil else {
      close(fd)
      throw .monitorProtocol("no QMP greeting")
    }
    _ = try execute(QMPCommand("qmp_capabilities"), timeoutSeconds: timeoutSeconds)
  }

  deinit { close(descriptor) }

  /// Sends one command and returns its `return` value; QEMU's `error`
  /// becomes `commandFailed` with QEMU's own words.
  @discardableResult
  public func execute(_ command: QMPCommand, timeoutSeconds: Double = 10) throws(HostDriverError) -> Any {
    let line = Array((command.json + "\n").utf8)
    var sent = 0
    while sent < line.count {
      let n = line[sent...].withUnsafeBytes {
        send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else {
        if n < 0 && errno == EINTR { continue }
        throw .monitorUnavailable(path: path, reason: "send: " + String(cString: strerror(errno)))
      }
      sent += n
    }
    while true {
      let message = try readMessage(timeoutSeconds: timeoutSeconds)
      if message["event"] != nil {
        events.append(message)
        continue
      }
      if let error = message["error"] as? [String: Any] {
        throw .commandFailed(command: command.execute, error: (error["desc"] as? String) ?? "\(error)")
      }
      guard let value = message["return"] else { throw .monitorProtocol("\(message)") }
      return value
    }
  }

  /// The first event called `name` whose data `matches`, waiting up to
  /// `timeoutSeconds` for it; nil when it did not come.
  public func waitForEvent(
    _ name: String, timeoutSeconds: Double, matching: ([String: Any]) -> Bool = { _ in true }
  ) throws(HostDriverError) -> [String: Any]? {
    let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
    while true {
      if let i = events.firstIndex(where: {
        ($0["event"] as? String) == name && matching(($0["data"] as? [String: Any]) ?? [:])
      }) {
        return events.remove(at: i)
      }
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { return nil }
      do {
        let message = try readMessage(timeoutSeconds: left)
        if message["event"] != nil { events.append(message) }
      } catch .monitorUnavailable(_, let reason) where reason == "timed out" {
        return nil
      }
    }
  }

  /// One JSON object per line (QEMU ends each with CR LF).
  func readMessage(timeoutSeconds: Double) throws(HostDriverError) -> [String: Any] {
    let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
    while true {
      if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        let line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        if line.allSatisfy({ $0 == 13 || $0 == 32 }) { continue }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
          throw .monitorProtocol(String(decoding: line.prefix(200), as: UTF8.self))
        }
        return object
      }
      // A monitor that floods without a line end is not QEMU.
      guard pending.count < 1 << 20 else { throw .monitorProtocol("a message over 1 MiB") }
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { throw .monitorUnavailable(path: path, reason: "timed out") }
      var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, Int32(min(left * 1000, 60_000)) + 1)
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { continue }
      var chunk = [UInt8](repeating: 0, count: 65536)
      let n = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw .monitorUnavailable(
          path: path, reason: n == 0 ? "QEMU closed the monitor" : String(cString: strerror(errno)))
      }
      pending += chunk[..<n]
    }
  }
}
