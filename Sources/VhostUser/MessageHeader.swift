/// The 12-byte header before every vhost-user message: request, flags,
/// payload size (vhost-user.rst, "Message Specification").
public struct MessageHeader: Equatable, Sendable {
  public static let size = 12
  /// Flags bits 0-1: the protocol version, always 1.
  public static let version: UInt32 = 0x1
  public static let versionMask: UInt32 = 0x3
  /// Flags bit 2: this message is a reply.
  public static let replyFlag: UInt32 = 1 << 2
  /// Flags bit 3: the front-end wants a REPLY_ACK.
  public static let needReplyFlag: UInt32 = 1 << 3
  /// The largest payload this back-end accepts: a full memory table
  /// (8 + 8 × 32 bytes) or a config message (12 + 256) fit.
  public static let maximumPayload: UInt32 = 4096

  public var request: UInt32
  public var flags: UInt32
  public var size: UInt32

  public init(request: UInt32, flags: UInt32 = MessageHeader.version, size: UInt32) {
    self.request = request
    self.flags = flags
    self.size = size
  }

  /// Parses and checks the version bits and the payload size.
  public init(parsing bytes: [UInt8]) throws(VhostUserError) {
    guard bytes.count >= MessageHeader.size else { throw .truncatedHeader }
    request = bytes.littleEndian(at: 0, as: UInt32.self)
    flags = bytes.littleEndian(at: 4, as: UInt32.self)
    size = bytes.littleEndian(at: 8, as: UInt32.self)
    guard flags & MessageHeader.versionMask == MessageHeader.version else {
      throw .unsupportedVersion(flags: flags)
    }
    guard size <= MessageHeader.maximumPayload else { throw .payloadTooLarge(size: size) }
  }

  public var needsReply: Bool { flags & MessageHeader.needReplyFlag != 0 }
  public var isReply: Bool { flags & MessageHeader.replyFlag != 0 }

  public func encode(into bytes: inout [UInt8]) {
    bytes.appendLittleEndian(request)
    bytes.appendLittleEndian(flags)
    bytes.appendLittleEndian(size)
  }
}
