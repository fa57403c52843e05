/// Why a packet, or a part of one, was rejected. Every parser in this module
/// reports hostile or malformed input with one of these and never traps.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The region ends before the header (or a length field) says it should.
  case truncated
  /// A version field holds a value this module does not parse.
  case badVersion
  /// A header-length field is below its minimum or not a valid multiple.
  case badHeaderLength
  /// An IP total length or payload length is inconsistent.
  case badTotalLength
  /// A length field other than the IP ones (UDP length, option length, ...)
  /// is inconsistent.
  case badLength
  /// A checksum does not verify.
  case badChecksum
  /// An option (TCP, IPv6, Geneve) is malformed.
  case badOption
  /// Padding does not hold the contents its specification requires.
  case badPadding
  /// A flag or reserved field holds a value its specification forbids.
  case badFlags
  /// More IPv6 extension headers than the parser is willing to walk.
  case tooManyExtensionHeaders
  /// A well-formed packet of a kind this module does not handle.
  case unsupported

  public var description: String {
    switch self {
    case .truncated: return "truncated"
    case .badVersion: return "bad version"
    case .badHeaderLength: return "bad header length"
    case .badTotalLength: return "bad total length"
    case .badLength: return "bad length"
    case .badChecksum: return "bad checksum"
    case .badOption: return "bad option"
    case .badPadding: return "bad padding"
    case .badFlags: return "bad flags"
    case .tooManyExtensionHeaders: return "too many extension headers"
    case .unsupported: return "unsupported"
    }
  }
}
