/// The ESP transforms an SA can use: AES-GCM with a 16-byte ICV
/// (RFC 4106; IKEv2 transform ENCR_AES_GCM_16 = 20 with a 128- or 256-bit
/// key length attribute).
public enum CipherSuite: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  case aesGCM128 = 1
  case aesGCM256 = 2

  /// AES key bytes.
  public var keyByteCount: Int {
    switch self {
    case .aesGCM128: return 16
    case .aesGCM256: return 32
    }
  }

  /// RFC 4106 §8.1: the key material is the AES key followed by a 4-byte
  /// salt, the fixed first part of every nonce.
  public static let saltByteCount = 4
  public var keyMaterialByteCount: Int { keyByteCount + Self.saltByteCount }

  /// RFC 4106 §3.1: the explicit IV carried in every packet.
  public static let ivByteCount = 8
  /// RFC 4106 §6: we send and accept only the full 16-byte ICV.
  public static let icvByteCount = 16

  public var description: String {
    switch self {
    case .aesGCM128: return "rfc4106(gcm(aes))-128"
    case .aesGCM256: return "rfc4106(gcm(aes))-256"
    }
  }
}
