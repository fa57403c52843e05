/// What an epoll registration stands for, packed in its 64-bit token:
/// endpoint index (bits 32-63), kind (16-31), ring (0-15).
struct EventToken: Equatable {
  enum Kind: UInt64 {
    case listener = 0
    case connection = 1
    case kick = 2
  }

  var endpoint: Int
  var kind: Kind
  var queue: Int

  static func listener(_ endpoint: Int) -> EventToken {
    EventToken(endpoint: endpoint, kind: .listener, queue: 0)
  }
  static func connection(_ endpoint: Int) -> EventToken {
    EventToken(endpoint: endpoint, kind: .connection, queue: 0)
  }
  static func kick(_ endpoint: Int, _ queue: Int) -> EventToken {
    EventToken(endpoint: endpoint, kind: .kick, queue: queue)
  }

  init(endpoint: Int, kind: Kind, queue: Int) {
    self.endpoint = endpoint
    self.kind = kind
    self.queue = queue
  }

  init(raw: UInt64) {
    endpoint = Int(raw >> 32)
    kind = Kind(rawValue: (raw >> 16) & 0xFFFF) ?? .listener
    queue = Int(raw & 0xFFFF)
  }

  var raw: UInt64 { UInt64(endpoint) << 32 | kind.rawValue << 16 | UInt64(queue) }
}
