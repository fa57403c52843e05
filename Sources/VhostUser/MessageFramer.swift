/// Cuts a byte stream (and the descriptors that arrive with it) into
/// messages. A stream socket may deliver a message in pieces; descriptors
/// arrive with some byte of their message, so those received since the last
/// complete message belong to the next one.
///
/// A header with bad version bits or an oversized payload leaves no way to
/// find the next message: `next()` throws and the connection must close.
public struct MessageFramer: Sendable {
  private var buffer: [UInt8] = []
  private var pendingFDs: [Int32] = []
  /// Descriptors beyond `maximumFDs` that arrived for the pending message.
  private var surplusFDs = 0

  public init() {}

  /// The bytes still wanted before a whole message can be cut (at least 1).
  public var wanted: Int {
    if buffer.count < MessageHeader.size { return MessageHeader.size - buffer.count }
    let size = Int(buffer.littleEndian(at: 8, as: UInt32.self))
    return max(1, MessageHeader.size + min(size, Int(MessageHeader.maximumPayload)) - buffer.count)
  }

  /// Adds received bytes and descriptors. `droppedFDs` counts any the
  /// transport already had to close.
  public mutating func append(_ bytes: ArraySlice<UInt8>, fds: ArraySlice<Int32>, droppedFDs: Int = 0) {
    buffer += bytes
    pendingFDs += fds
    surplusFDs += droppedFDs
  }

  /// A framed message: header, payload and its descriptors (the caller
  /// owns them). `droppedFDs` > 0 means more arrived than the transport
  /// keeps; the session refuses the message.
  public struct Frame: Sendable {
    public var header: MessageHeader
    public var payload: [UInt8]
    public var fds: [Int32]
    public var droppedFDs: Int
  }

  /// The next complete message, or nil if more bytes are needed.
  public mutating func next() throws(VhostUserError) -> Frame? {
    guard buffer.count >= MessageHeader.size else { return nil }
    let header = try MessageHeader(parsing: Array(buffer[0..<MessageHeader.size]))
    let total = MessageHeader.size + Int(header.size)
    guard buffer.count >= total else { return nil }
    let payload = Array(buffer[MessageHeader.size..<total])
    buffer.removeFirst(total)
    let frame = Frame(header: header, payload: payload, fds: pendingFDs, droppedFDs: surplusFDs)
    pendingFDs = []
    surplusFDs = 0
    return frame
  }

  /// Descriptors received but not yet part of a message (to close on
  /// disconnect).
  public mutating func takePendingFDs() -> [Int32] {
    defer { pendingFDs = [] }
    return pendingFDs
  }
}
