/// What the connection does after the session handled a message.
public enum SessionOutcome: Equatable, Sendable {
  /// Nothing to send.
  case none
  /// Send these bytes (a reply header and payload).
  case reply([UInt8])
  /// Close the connection: the front-end broke framing, or waits for a
  /// reply the back-end cannot give.
  case disconnect(VhostUserError)
}

/// Back-end options (what it offers the front-end).
public struct SessionOptions: Equatable, Sendable {
  /// Offer CONFIGURE_MEM_SLOTS: the front-end then adds and removes
  /// regions one at a time (ADD/REM_MEM_REG) instead of SET_MEM_TABLE.
  public var offersMemorySlots = false
  /// The most regions with CONFIGURE_MEM_SLOTS (GET_MAX_MEM_SLOTS).
  public var maximumMemorySlots = 32
  public init() {}
}

/// Builds reply messages (flags: version 1, reply bit).
enum Reply {
  static func bytes(_ request: VhostUserRequest, _ payload: [UInt8]) -> [UInt8] {
    bytes(request.rawValue, payload)
  }

  static func bytes(_ request: UInt32, _ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    MessageHeader(
      request: request, flags: MessageHeader.version | MessageHeader.replyFlag,
      size: UInt32(payload.count)
    ).encode(into: &out)
    return out + payload
  }

  static func u64(_ request: VhostUserRequest, _ value: UInt64) -> [UInt8] { u64(request.rawValue, value) }

  static func u64(_ request: UInt32, _ value: UInt64) -> [UInt8] {
    var p: [UInt8] = []
    p.appendLittleEndian(value)
    return bytes(request, p)
  }

  static func state(_ request: VhostUserRequest, index: UInt32, number: UInt32) -> [UInt8] {
    var p: [UInt8] = []
    p.appendLittleEndian(index)
    p.appendLittleEndian(number)
    return bytes(request, p)
  }
}
