import Platform
import VhostUser

/// The front-end side of a vhost-user connection, as QEMU plays it: for
/// tests and for the hostile front-end. Not a full front-end (it owns no
/// guest); it sends messages, descriptors and raw bytes, and reads replies
/// with a timeout so a silent back-end cannot hang it.
public struct VhostUserFrontend {
  public let socket: FileDescriptor
  private let epoll: Epoll

  public enum FrontendError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(SystemError)
    /// The back-end closed the connection.
    case closed
    /// No reply within the timeout.
    case timedOut
    /// A reply that is not a vhost-user reply.
    case malformedReply(VhostUserError)

    public var description: String {
      switch self {
      case .system(let e): return e.description
      case .closed: return "the back-end closed the connection"
      case .timedOut: return "no reply in time"
      case .malformedReply(let e): return "malformed reply: " + e.description
      }
    }
  }

  public init(path: String) throws(FrontendError) {
    do throws(SystemError) {
      socket = try UnixSocket.connect(path: path)
      epoll = try Epoll()
      try epoll.add(socket, events: .readable, token: 0)
    } catch {
      throw .system(error)
    }
  }

  public func close() {
    try? epoll.close()
    try? socket.close()
  }

  /// Sends a message (with `fds` attached).
  public func send(_ message: VhostUserMessage, fds: [Int32] = [], needsReply: Bool = false)
    throws(FrontendError)
  {
    try sendRaw(message.encoded(needsReply: needsReply), fds: fds)
  }

  /// Sends arbitrary bytes (malformed messages included).
  public func sendRaw(_ bytes: [UInt8], fds: [Int32] = []) throws(FrontendError) {
    let sent = bytes.withUnsafeBytes { b in
      fds.withUnsafeBufferPointer { f -> Result<Int, SystemError> in
        do throws(SystemError) { return .success(try UnixSocket.send(socket, b, fds: f)) } catch {
          return .failure(error)
        }
      }
    }
    switch sent {
    case .success(let n) where n == bytes.count: return
    case .success: throw .closed
    case .failure(let e): throw e.isPeerGone ? .closed : .system(e)
    }
  }

  /// Reads one reply: its header and payload.
  public func receiveReply(timeoutMilliseconds: Int32 = 5000) throws(FrontendError) -> (
    header: MessageHeader, payload: [UInt8]
  ) {
    let headerBytes = try receiveExactly(MessageHeader.size, timeoutMilliseconds: timeoutMilliseconds)
    let header: MessageHeader
    do throws(VhostUserError) { header = try MessageHeader(parsing: headerBytes) } catch {
      throw .malformedReply(error)
    }
    let payload = try receiveExactly(Int(header.size), timeoutMilliseconds: timeoutMilliseconds)
    return (header, payload)
  }

  /// The u64 of a reply (GET_FEATURES, REPLY_ACK, ...).
  public func receiveU64(timeoutMilliseconds: Int32 = 5000) throws(FrontendError) -> UInt64 {
    let reply = try receiveReply(timeoutMilliseconds: timeoutMilliseconds)
    guard reply.payload.count == 8 else {
      throw .malformedReply(.payloadSizeMismatch(.getFeatures, size: reply.header.size))
    }
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(reply.payload[i]) << (8 * i) }
    return value
  }

  /// True once the back-end has closed the connection (reads end of file).
  public func isClosedByPeer(timeoutMilliseconds: Int32) -> Bool {
    do throws(FrontendError) {
      _ = try receiveExactly(1, timeoutMilliseconds: timeoutMilliseconds)
      return false
    } catch {
      return error == .closed
    }
  }

  private func receiveExactly(_ count: Int, timeoutMilliseconds: Int32) throws(FrontendError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let ready: Int
      do throws(SystemError) {
        ready = try epoll.wait(timeoutMilliseconds: timeoutMilliseconds) { _ in }
      } catch {
        throw .system(error)
      }
      if ready == 0 { throw .timedOut }
      let n = out.withUnsafeMutableBytes { b -> Result<Int, SystemError> in
        do throws(SystemError) {
          return .success(try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: b[filled...])))
        } catch {
          return .failure(error)
        }
      }
      switch n {
      case .success(0): throw .closed
      case .success(let k): filled += k
      case .failure(let e): throw e.isPeerGone ? .closed : .system(e)
      }
    }
    return out
  }
}
