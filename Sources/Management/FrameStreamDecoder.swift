/// Cuts frames out of a byte stream (the TLS connection) as bytes arrive in
/// arbitrary pieces. A header error is fatal for the connection: after it
/// the stream cannot be re-synchronised, so the caller closes it.
public struct FrameStreamDecoder: Sendable {
  public let payloadLimit: UInt32
  private var buffer: [UInt8] = []
  private var start = 0

  public init(payloadLimit: UInt32 = FrameHeader.defaultPayloadLimit) {
    self.payloadLimit = payloadLimit
  }

  /// Bytes received but not yet returned as a frame.
  public var bufferedCount: Int { buffer.count - start }

  public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    // Drop what was consumed before growing, so the buffer stays one frame.
    if start > 0 {
      buffer.removeFirst(start)
      start = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// The next whole message, nil if more bytes are needed. The header is
  /// checked (magic, version, type, flags, length limit) as soon as it is
  /// complete, before its payload is waited for.
  public mutating func nextMessage() throws(ManagementError) -> ManagementMessage? {
    let pending = buffer[start...]
    guard pending.count >= FrameHeader.length else { return nil }
    let header = try FrameHeader.parse(pending, payloadLimit: payloadLimit)
    let total = FrameHeader.length + Int(header.payloadLength)
    guard pending.count >= total else { return nil }
    let payload = pending.dropFirst(FrameHeader.length).prefix(Int(header.payloadLength))
    start += total
    return try ManagementMessage.decodePayload(payload, type: header.messageType)
  }
}
