/// Every message of the management channel, and the frame codec that turns
/// them into bytes and back.
public enum ManagementMessage: Sendable, Equatable {
  case hello(Hello)
  case desiredState(DesiredState)
  case applied(Applied)
  case heartbeat(Heartbeat)
  case error(ErrorReport)

  public var messageType: MessageType {
    switch self {
    case .hello: return .hello
    case .desiredState: return .desiredState
    case .applied: return .applied
    case .heartbeat: return .heartbeat
    case .error: return .error
    }
  }

  /// The whole frame: header and payload.
  public func encodeFrame(flags: FrameFlags = []) throws(ManagementError) -> [UInt8] {
    var fields = TLVWriter()
    switch self {
    case .hello(let hello): try hello.encode(into: &fields)
    case .desiredState(let state): try state.encode(into: &fields)
    case .applied(let applied): applied.encode(into: &fields)
    case .heartbeat(let heartbeat): try heartbeat.encode(into: &fields)
    case .error(let report): try report.encode(into: &fields)
    }
    let payload = fields.bytes
    guard payload.count <= Int(UInt32.max) else { throw .valueTooLong(tag: 0, length: payload.count) }
    var frame = ByteWriter(capacity: FrameHeader.length + payload.count)
    FrameHeader(messageType: messageType, flags: flags, payloadLength: UInt32(payload.count)).write(
      to: &frame)
    frame.write(contentsOf: payload)
    return frame.bytes
  }

  /// Decodes exactly one frame; bytes after it are an error (use
  /// `FrameStreamDecoder` for a stream).
  public static func decodeFrame(
    _ bytes: ArraySlice<UInt8>, payloadLimit: UInt32 = FrameHeader.defaultPayloadLimit
  ) throws(ManagementError) -> ManagementMessage {
    let header = try FrameHeader.parse(bytes, payloadLimit: payloadLimit)
    let available = bytes.count - FrameHeader.length
    let length = Int(header.payloadLength)
    guard available >= length else { throw .truncated(needed: length, available: available) }
    guard available == length else { throw .trailingBytes(available - length) }
    return try decodePayload(bytes.dropFirst(FrameHeader.length), type: header.messageType)
  }

  public static func decodePayload(
    _ payload: ArraySlice<UInt8>, type: MessageType
  ) throws(ManagementError) -> ManagementMessage {
    switch type {
    case .hello: return .hello(try Hello.decode(payload))
    case .desiredState: return .desiredState(try DesiredState.decode(payload))
    case .applied: return .applied(try Applied.decode(payload))
    case .heartbeat: return .heartbeat(try Heartbeat.decode(payload))
    case .error: return .error(try ErrorReport.decode(payload))
    }
  }
}
