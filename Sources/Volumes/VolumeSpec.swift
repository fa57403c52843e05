import CardCrypto

/// What the controller sends the card about one volume: everything needed to
/// attach it except the key-encryption key, which the card already holds.
/// The data key travels and rests only wrapped (RFC 5649), so this value is
/// not secret and may be stored or logged.
public struct VolumeSpec: Equatable, Sendable {
  /// The 64-byte AES-XTS-256 data key (Key1 || Key2), wrapped under the KEK.
  public var wrappedKey: [UInt8]
  /// The XTS data unit: dm-crypt's `--sector-size` (512 or 4096).
  public var encryptionSectorSize: AESXTS.DataUnitSize
  public var isReadOnly: Bool

  public init(wrappedKey: [UInt8], encryptionSectorSize: AESXTS.DataUnitSize, isReadOnly: Bool = false) {
    self.wrappedKey = wrappedKey
    self.encryptionSectorSize = encryptionSectorSize
    self.isReadOnly = isReadOnly
  }

  /// Provisioning: a fresh random data key, returned only wrapped under `kek`.
  public static func newWrappedDataKey(kek: borrowing SymmetricKey) throws(CryptoError) -> [UInt8] {
    let key = try SymmetricKey.random(byteCount: AESXTS.keyByteCount)
    return try KeyWrap.wrap(key, kek: kek)
  }
}

/// Why a volume could not be attached.
public enum VolumeAttachError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The wrapped key did not unwrap under this KEK (wrong KEK, altered bytes).
  case keyRejected(CryptoError)
  /// The unwrapped key is not 64 bytes, or is not a valid XTS key.
  case unusableKey(CryptoError)
  /// The backend's size is not a whole number of encryption sectors.
  case backendSize(UInt64)
  /// A writable volume over a read-only backend.
  case backendReadOnly
  /// The backend holds fewer bytes than the volume's size.
  case backendTooSmall(backend: UInt64, needed: UInt64)
  /// A resize to fewer bytes than the volume serves.
  case shrinking(from: UInt64, to: UInt64)

  public var description: String {
    switch self {
    case .keyRejected(let e):
      return "volume: the wrapped key was rejected (" + e.description + "); check the KEK"
    case .unusableKey(let e): return "volume: the data key is unusable (" + e.description + ")"
    case .backendSize(let n):
      return "volume: the backend's " + String(n) + " bytes are not a whole number of encryption sectors"
    case .backendReadOnly: return "volume: the backend is read-only; attach the volume read-only"
    case .backendTooSmall(let have, let need):
      return "volume: the backend holds " + String(have) + " bytes, fewer than the volume's " + String(need)
    case .shrinking(let from, let to):
      return "volume: shrinking from " + String(from) + " to " + String(to) + " bytes is refused"
    }
  }
}
