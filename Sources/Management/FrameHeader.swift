/// The fixed header in front of every management-channel message:
///
/// ```
///  0      2        3        4        6                10
///  +------+--------+--------+--------+----------------+----------
///  |magic |version | type   | flags  | payload length | payload (TLV)
///  +------+--------+--------+--------+----------------+----------
/// ```
/// all big-endian. The length prefix lets a receiver cut frames out of a
/// TLS byte stream; the magic catches a peer that speaks something else; the
/// version lets both ends refuse what they cannot read before parsing it
/// (Docs/decisions/binary-management-protocol.md).
public struct FrameHeader: Sendable, Equatable {
  /// "BM", Bulkhead management.
  public static let magic: UInt16 = 0x424D
  public static let currentVersion: UInt8 = 1
  public static let length = 10
  /// Receivers refuse larger payloads before buffering them.
  public static let defaultPayloadLimit: UInt32 = 1 << 20

  public var version: UInt8
  public var messageType: MessageType
  public var flags: FrameFlags
  public var payloadLength: UInt32

  public init(
    version: UInt8 = FrameHeader.currentVersion, messageType: MessageType, flags: FrameFlags = [],
    payloadLength: UInt32
  ) {
    self.version = version
    self.messageType = messageType
    self.flags = flags
    self.payloadLength = payloadLength
  }

  /// Parses and checks a header; `bytes` may hold more than the header.
  public static func parse(
    _ bytes: ArraySlice<UInt8>, payloadLimit: UInt32 = FrameHeader.defaultPayloadLimit
  ) throws(ManagementError) -> FrameHeader {
    var reader = ByteReader(bytes)
    guard reader.remaining >= length else { throw .truncated(needed: length, available: reader.remaining) }
    let magic = try reader.readUInt16()
    guard magic == FrameHeader.magic else { throw .badMagic(magic) }
    let version = try reader.readUInt8()
    guard version == currentVersion else { throw .unsupportedVersion(version) }
    let rawType = try reader.readUInt8()
    guard let type = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }
    let rawFlags = try reader.readUInt16()
    guard rawFlags & ~FrameFlags.known.rawValue == 0 else { throw .unsupportedFlags(rawFlags) }
    let payloadLength = try reader.readUInt32()
    guard payloadLength <= payloadLimit else {
      throw .payloadTooLarge(length: payloadLength, limit: payloadLimit)
    }
    return FrameHeader(
      version: version, messageType: type, flags: FrameFlags(rawValue: rawFlags), payloadLength: payloadLength
    )
  }

  public func write(to writer: inout ByteWriter) {
    writer.write(FrameHeader.magic)
    writer.write(version)
    writer.write(messageType.rawValue)
    writer.write(flags.rawValue)
    writer.write(payloadLength)
  }
}

/// What a frame carries.
public enum MessageType: UInt8, Sendable, Equatable, CustomStringConvertible {
  case hello = 1
  case desiredState = 2
  case applied = 3
  case heartbeat = 4
  case error = 5

  public var description: String {
    switch self {
    case .hello: return "hello"
    case .desiredState: return "desired-state"
    case .applied: return "applied"
    case .heartbeat: return "heartbeat"
    case .error: return "error"
    }
  }
}

/// Frame flags; bits this version does not define must be zero.
public struct FrameFlags: Sendable, OptionSet, Equatable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// The sender wants an `applied` or `heartbeat` answer without waiting
  /// for the next interval.
  public static let replyRequested = FrameFlags(rawValue: 1 << 0)
  public static let known: FrameFlags = [.replyRequested]
}
