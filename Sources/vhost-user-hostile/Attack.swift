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
  /// The back-end does not offer what the attack needs (packed rings).
  case notOffered
  case failed(String)

  var description: String {
    switch self {
    case .refused: "refused (REPLY_ACK failure)"
    case .accepted: "accepted"
    case .disconnected: "disconnected"
    case .carriedOn: "ignored it and carried on"
    case .noAnswer: "no answer"
    case .notOffered: "skipped: the back-end does not offer it"
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

/// VIRTIO_F_RING_PACKED (34) and VIRTIO_F_INDIRECT_DESC (28).
let packedRingFeatures: UInt64 = 1 << 34 | 1 << 28

/// A connection negotiated as QEMU does it, with REPLY_ACK; `extra`:
/// virtio features to take too where the back-end offers them.
func negotiatedFrontend(_ path: String, extra: UInt64 = 0) throws(VhostUserFrontend.FrontendError)
  -> VhostUserFrontend
{
  try negotiated(path, extra: extra).frontend
}

/// The same, and the virtio features settled on.
func negotiated(_ path: String, extra: UInt64) throws(VhostUserFrontend.FrontendError) -> (
  frontend: VhostUserFrontend, features: UInt64
) {
  let f = try VhostUserFrontend(path: path)
  try f.send(.setOwner)
  try f.send(.getFeatures)
  let offered = try f.receiveU64()
  let features = offered & (1 << 30 | 1 << 32 | extra)
  try f.send(.setFeatures(features))
  try f.send(.getProtocolFeatures)
  let offeredProtocol = try f.receiveU64()
  try f.send(
    .setProtocolFeatures(ProtocolFeatures(rawValue: offeredProtocol & ProtocolFeatures.replyAck.rawValue)))
  return (f, features)
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
