import Platform
import VhostUser
import VhostUserBackend

/// What the back-end did with an attack.
enum Answer: Equatable, Sendable, CustomStringConvertible {
  /// REPLY_ACK with a non-zero status: refused.
  case refused
  /// REPLY_ACK zero: accepted.
  case accepted
  /// It closed the connection.
  case disconnected
  /// It answered a follow-up request normally (the attack changed nothing).
  case carriedOn
  case noAnswer
  case failed(String)

  var description: String {
    switch self {
    case .refused: "refused (REPLY_ACK failure)"
    case .accepted: "accepted"
    case .disconnected: "disconnected"
    case .carriedOn: "ignored it and carried on"
    case .noAnswer: "no answer"
    case .failed(let why): "front-end failure: " + why
    }
  }
}

/// One malformed input and the answers a sound back-end may give.
struct Attack: Sendable {
  var name: String
  var acceptable: [Answer]
  var run: @Sendable (String) throws(VhostUserFrontend.FrontendError) -> Answer
}

/// A connection negotiated as QEMU does it, with REPLY_ACK.
func negotiatedFrontend(_ path: String) throws(VhostUserFrontend.FrontendError) -> VhostUserFrontend {
  let f = try VhostUserFrontend(path: path)
  try f.send(.setOwner)
  try f.send(.getFeatures)
  let offered = try f.receiveU64()
  try f.send(.setFeatures(offered & (1 << 30 | 1 << 32)))
  try f.send(.getProtocolFeatures)
  let offeredProtocol = try f.receiveU64()
  try f.send(
    .setProtocolFeatures(ProtocolFeatures(rawValue: offeredProtocol & ProtocolFeatures.replyAck.rawValue)))
  return f
}

/// Sends `bytes` asking for an ack, and reads what came back.
func ackOf(_ f: VhostUserFrontend, _ bytes: [UInt8], fds: [Int32] = []) -> Answer {
  do throws(VhostUserFrontend.FrontendError) {
    try f.sendRaw(bytes, fds: fds)
    return try answer(f)
  } catch {
    return error == .closed ? .disconnected : .failed(error.description)
  }
}

func answer(_ f: VhostUserFrontend) throws(VhostUserFrontend.FrontendError) -> Answer {
  do throws(VhostUserFrontend.FrontendError) {
    let value = try f.receiveU64(timeoutMilliseconds: 3000)
    return value == 0 ? .accepted : .refused
  } catch {
    switch error {
    case .closed: return .disconnected
    case .timedOut: return .noAnswer
    default: throw error
    }
  }
}

/// After a message that has no reply: does the back-end still answer?
func stillAnswers(_ f: VhostUserFrontend) -> Answer {
  do throws(VhostUserFrontend.FrontendError) {
    try f.send(.getQueueNum)
    _ = try f.receiveU64(timeoutMilliseconds: 3000)
    return .carriedOn
  } catch {
    return error == .closed ? .disconnected : .noAnswer
  }
}

/// A header with any fields, and a payload.
func raw(
  request: UInt32, flags: UInt32 = MessageHeader.version | MessageHeader.needReplyFlag, size: UInt32? = nil,
  payload: [UInt8] = []
)
  -> [UInt8]
{
  var bytes: [UInt8] = []
  MessageHeader(request: request, flags: flags, size: size ?? UInt32(payload.count)).encode(into: &bytes)
  return bytes + payload
}

/// A memfd of `size` bytes (guest memory of our own).
func memoryFile(_ size: UInt64) -> Int32 {
  (try? MemoryFile.create(name: "hostile", size: size).rawValue) ?? -1
}
