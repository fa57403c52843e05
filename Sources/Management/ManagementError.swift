/// Why a management-channel frame or message was rejected. Everything the
/// peer sends is untrusted: a malformed frame is answered with one of these,
/// counted, and never traps.
public enum ManagementError: Sendable, Error, Equatable, CustomStringConvertible {
  /// Fewer bytes than the structure needs.
  case truncated(needed: Int, available: Int)
  case badMagic(UInt16)
  case unsupportedVersion(UInt8)
  case unknownMessageType(UInt8)
  /// A flag bit this version does not define is set.
  case unsupportedFlags(UInt16)
  /// The declared payload length is above the receiver's limit.
  case payloadTooLarge(length: UInt32, limit: UInt32)
  /// Bytes left over after the last field of a frame or value.
  case trailingBytes(Int)
  /// A TLV's value has the wrong length for its tag.
  case badFieldLength(tag: UInt8, length: Int)
  case missingField(tag: UInt8)
  case duplicateField(tag: UInt8)
  case invalidUTF8(tag: UInt8)
  /// An enumerated value (target kind, cipher, direction...) out of range.
  case invalidValue(tag: UInt8, value: UInt64)
  /// A value too large for its length field when encoding (our own bug or
  /// an oversized desired state).
  case valueTooLong(tag: UInt8, length: Int)

  public var description: String {
    switch self {
    case .truncated(let needed, let available):
      return "truncated: needed \(needed) bytes, \(available) available"
    case .badMagic(let magic): return "bad magic \(magic)"
    case .unsupportedVersion(let version): return "unsupported protocol version \(version)"
    case .unknownMessageType(let type): return "unknown message type \(type)"
    case .unsupportedFlags(let flags): return "unsupported flags \(flags)"
    case .payloadTooLarge(let length, let limit): return "payload of \(length) bytes exceeds \(limit)"
    case .trailingBytes(let count): return "\(count) trailing bytes"
    case .badFieldLength(let tag, let length): return "field \(tag) has bad length \(length)"
    case .missingField(let tag): return "field \(tag) missing"
    case .duplicateField(let tag): return "field \(tag) repeated"
    case .invalidUTF8(let tag): return "field \(tag) is not UTF-8"
    case .invalidValue(let tag, let value): return "field \(tag) has invalid value \(value)"
    case .valueTooLong(let tag, let length): return "field \(tag) too long to encode (\(length) bytes)"
    }
  }
}
