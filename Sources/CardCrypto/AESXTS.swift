import CCardCrypto

/// AES-XTS-256 (IEEE 1619-2007, NIST SP 800-38E) for encrypted volumes,
/// laid out exactly as dm-crypt's `aes-xts-plain64`, so that a volume we
/// write opens with `cryptsetup` and the other way round.
///
/// Tweak: the sector number in 512-byte units, as a 64-bit little-endian
/// integer zero-extended to 16 bytes (dm-crypt's `plain64` IV; IEEE 1619
/// Annex B likewise encodes its data unit sequence number little-endian).
///
/// Data unit: 512 or 4096 bytes. A 4096-byte unit that starts at sector `s`
/// (in 512-byte units, so `s` is a multiple of 8) is encrypted as ONE XTS
/// data unit with tweak `s`. That is dm-crypt's `--sector-size 4096`
/// WITHOUT `--iv-large-sectors` (with that option dm-crypt would use `s / 8`
/// instead). It is not the same ciphertext as eight 512-byte units.
///
/// Two OpenSSL contexts (XTS decryption needs its own key schedule), each
/// keyed once; per data unit only the tweak changes, nothing is allocated.
/// A value serves one thread: keep one per core or per queue.
public struct AESXTS: ~Copyable {
  /// Bytes per XTS data unit.
  public enum DataUnitSize: Int, Sendable, Equatable {
    case bytes512 = 512
    case bytes4096 = 4096

    /// The data unit size in 512-byte sectors.
    public var sectors: UInt64 { UInt64(rawValue / 512) }
  }

  /// Key1 || Key2, two AES-256 keys (IEEE 1619-2007 §5.1).
  public static let keyByteCount = 64

  public let dataUnitSize: DataUnitSize
  private let encryptor: OpaquePointer
  private let decryptor: OpaquePointer

  /// Keys both directions. Throws `.weakKey` if Key1 equals Key2.
  public init(key: borrowing SymmetricKey, dataUnitSize: DataUnitSize) throws(CryptoError) {
    guard key.byteCount == Self.keyByteCount else { throw .invalidKeySize(key.byteCount) }
    var forward: OpaquePointer? = nil
    var backward: OpaquePointer? = nil
    let (forwardStatus, backwardStatus) = key.withUnsafeBytes { bytes in
      let raw = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
      return (
        ccc_xts_create(&forward, raw, bytes.count, 1),
        ccc_xts_create(&backward, raw, bytes.count, 0)
      )
    }
    guard forwardStatus == CCC_OK, backwardStatus == CCC_OK, let forward, let backward else {
      ccc_xts_free(forward)
      ccc_xts_free(backward)
      try check(forwardStatus, authentication: .backendFailure)
      try check(backwardStatus, authentication: .backendFailure)
      throw .backendFailure
    }
    self.dataUnitSize = dataUnitSize
    self.encryptor = forward
    self.decryptor = backward
  }

  deinit {
    ccc_xts_free(encryptor)
    ccc_xts_free(decryptor)
  }

  /// Per block request, once per data unit. Encrypts `dataUnit` in place;
  /// `sector` is its first sector in 512-byte units.
  public mutating func encrypt(sector: UInt64, dataUnit: UnsafeMutableRawBufferPointer) throws(CryptoError) {
    try run(encryptor, sector: sector, dataUnit: dataUnit)
  }

  /// Per block request, once per data unit. Decrypts `dataUnit` in place.
  public mutating func decrypt(sector: UInt64, dataUnit: UnsafeMutableRawBufferPointer) throws(CryptoError) {
    try run(decryptor, sector: sector, dataUnit: dataUnit)
  }

  private func run(_ context: OpaquePointer, sector: UInt64, dataUnit: UnsafeMutableRawBufferPointer)
    throws(CryptoError)
  {
    guard dataUnit.count == dataUnitSize.rawValue, let data = dataUnit.baseAddress else {
      throw .invalidDataUnitSize(dataUnit.count)
    }
    guard sector % dataUnitSize.sectors == 0 else { throw .misalignedSector(sector) }
    // plain64: the sector number little-endian in the low 8 bytes, zeros
    // above. The shim reads exactly 16 bytes of the tweak and `count` bytes
    // of the unit, both checked above, only as bytes.
    var tweak: (UInt64, UInt64) = (sector.littleEndian, 0)
    let status = withUnsafeBytes(of: &tweak) { t in
      ccc_xts_run(
        context, t.baseAddress?.assumingMemoryBound(to: UInt8.self),
        data.assumingMemoryBound(to: UInt8.self), dataUnit.count)
    }
    try check(status, authentication: .backendFailure)
  }
}

// Array's closure methods rethrow untyped errors, which Embedded Swift lacks:
// the conveniences carry the outcome out of a non-throwing closure instead.
extension AESXTS {
  /// Convenience for tests and tools (allocates).
  public mutating func encrypt(sector: UInt64, _ plaintext: [UInt8]) throws(CryptoError) -> [UInt8] {
    var unit = plaintext
    var failure: CryptoError? = nil
    unit.withUnsafeMutableBytes { u in
      do throws(CryptoError) { try encrypt(sector: sector, dataUnit: u) } catch { failure = error }
    }
    if let failure { throw failure }
    return unit
  }

  /// Convenience for tests and tools (allocates).
  public mutating func decrypt(sector: UInt64, _ ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
    var unit = ciphertext
    var failure: CryptoError? = nil
    unit.withUnsafeMutableBytes { u in
      do throws(CryptoError) { try decrypt(sector: sector, dataUnit: u) } catch { failure = error }
    }
    if let failure { throw failure }
    return unit
  }
}
