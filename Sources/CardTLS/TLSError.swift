import CCardChannel

/// Why a management-channel connection failed. The texts come from OpenSSL
/// or the system and say which certificate or address was at fault.
public enum TLSError: Error, Equatable, CustomStringConvertible {
  /// Our CA, certificate or key could not be loaded.
  case configuration(String)
  /// The TCP connection could not be made or accepted (errno).
  case socket(Int32)
  /// The handshake failed: most often the peer's certificate was refused.
  case handshake(String)
  case timedOut
  /// The peer closed the connection.
  case closed
  /// A TLS failure after the handshake (a bad record, an alert).
  case failure(String)

  public var description: String {
    switch self {
    case .configuration(let text): return "TLS configuration: " + text
    case .socket(let code): return "socket error (errno " + String(code) + ")"
    case .handshake(let text): return "TLS handshake: " + text
    case .timedOut: return "timed out"
    case .closed: return "connection closed by the peer"
    case .failure(let text): return "TLS: " + text
    }
  }

  /// Maps a negative status of the C shim.
  static func status(_ code: Int32, context text: String = "") -> TLSError {
    switch code {
    case CCH_TIMED_OUT: return .timedOut
    case CCH_CLOSED: return .closed
    case CCH_TLS_ERROR: return .failure(text)
    default: return .socket(-code)
    }
  }
}

/// Text from a NUL-terminated C buffer.
func string(fromCBuffer buffer: [CChar]) -> String {
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
