/// Why a crypto operation refused to run or to release its result.
///
/// Authentication failures (`authenticationFailed`, `unwrapFailed`) are what
/// a tampered or forged packet, record or wrapped key produces: the caller
/// counts and drops, it never traps. The size cases are bugs or bad
/// configuration on our side and say which size was wrong.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A key of this many bytes does not fit the algorithm.
  case invalidKeySize(Int)
  /// A GCM nonce of this many bytes (1...128 are accepted; ESP and TLS use 12).
  case invalidNonceSize(Int)
  /// A GCM tag of this many bytes (4, 8 or 12...16; ESP and TLS use 16).
  case invalidTagSize(Int)
  /// An XTS data unit of this many bytes (512 or 4096 are accepted).
  case invalidDataUnitSize(Int)
  /// A 4096-byte data unit must start on a 4096-byte boundary: this sector
  /// number (in 512-byte units) is not a multiple of 8.
  case misalignedSector(UInt64)
  /// A buffer of this many bytes is too long or too short for the operation.
  case invalidLength(Int)
  /// AES-XTS key whose two halves are equal (IEEE 1619-2007 §5.1).
  case weakKey
  /// The GCM tag did not match: the packet or record was altered or forged.
  case authenticationFailed
  /// The RFC 5649 integrity check failed: wrong KEK or altered wrapped key.
  case unwrapFailed
  /// A key given in hexadecimal had a character that is not a hex digit,
  /// or an odd number of digits.
  case invalidHex
  /// The random generator could not produce key material.
  case randomUnavailable
  /// Memory for a cipher context could not be allocated.
  case outOfMemory
  /// OpenSSL refused an operation that our checks had accepted.
  case backendFailure

  public var description: String {
    switch self {
    case .invalidKeySize(let n): return "crypto: a key of \(n) bytes does not fit this algorithm"
    case .invalidNonceSize(let n): return "crypto: a GCM nonce of \(n) bytes is not accepted (use 12)"
    case .invalidTagSize(let n): return "crypto: a GCM tag of \(n) bytes is not accepted (use 16)"
    case .invalidDataUnitSize(let n): return "crypto: an XTS data unit of \(n) bytes (use 512 or 4096)"
    case .misalignedSector(let s):
      return "crypto: sector \(s) does not start a 4096-byte data unit (must be a multiple of 8)"
    case .invalidLength(let n): return "crypto: a buffer of \(n) bytes does not fit this operation"
    case .weakKey: return "crypto: the two halves of the AES-XTS key are equal"
    case .authenticationFailed: return "crypto: authentication failed (tag mismatch)"
    case .unwrapFailed: return "crypto: key unwrap failed its integrity check (wrong KEK or altered data)"
    case .invalidHex: return "crypto: key text is not an even number of hex digits"
    case .randomUnavailable: return "crypto: the random generator produced no bytes"
    case .outOfMemory: return "crypto: no memory for a cipher context"
    case .backendFailure: return "crypto: OpenSSL refused the operation"
    }
  }
}
