import CardCrypto
import Testing

/// AESXTS against implementations outside this package, on 512- and
/// 4096-byte sectors with dm-crypt's plain64 tweak (the sector number in
/// 512-byte units, little-endian in 16 bytes).
@Suite struct XTSOracleTests {
  struct Case: Sendable, CustomStringConvertible {
    let size: AESXTS.DataUnitSize
    let sector: UInt64
    var description: String { "\(size.rawValue)-byte unit at sector \(sector)" }
  }

  static let cases: [Case] = [
    Case(size: .bytes512, sector: 0), Case(size: .bytes512, sector: 1),
    Case(size: .bytes512, sector: 123_457), Case(size: .bytes512, sector: 0x1_0000_0007),
    Case(size: .bytes4096, sector: 0), Case(size: .bytes4096, sector: 8),
    Case(size: .bytes4096, sector: 8 * 1_000_003), Case(size: .bytes4096, sector: 0xffff_ffff_ffff_fff8),
  ]

  static func material(for c: Case) -> (key: [UInt8], plaintext: [UInt8]) {
    var bytes = TestBytes(state: 0x9e37_79b9_7f4a_7c15 ^ c.sector ^ UInt64(c.size.rawValue))
    return (bytes.next(64), bytes.next(c.size.rawValue))
  }

  static func ours(_ c: Case, key: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
    let k = try SymmetricKey(hex: hexString(key))
    var xts = try AESXTS(key: k, dataUnitSize: c.size)
    return try xts.encrypt(sector: c.sector, plaintext)
  }

  static func tweak(_ sector: UInt64) -> [UInt8] {
    (0..<16).map { $0 < 8 ? UInt8(truncatingIfNeeded: sector >> (8 * UInt64($0))) : 0 }
  }

  /// XTS composed by hand (IEEE 1619-2007 §5.3.1) from the `openssl enc`
  /// command's AES-256-ECB: T = E_K2(tweak), then for block j
  /// C_j = E_K1(P_j ⊕ T·αʲ) ⊕ T·αʲ. Independent of OpenSSL's XTS code and
  /// of ours, so it checks the mode, the tweak encoding and the unit size.
  @Test(.enabled(if: opensslAvailable), arguments: cases)
  func matchesXTSComposedFromOpenSSLCommandLineAES(_ c: Case) throws {
    let (key, plaintext) = Self.material(for: c)
    let key1 = hexString(Array(key[0..<32]))
    let key2 = hexString(Array(key[32..<64]))
    let encryptedTweak = try #require(
      run("openssl", ["enc", "-aes-256-ecb", "-nopad", "-K", key2], input: Self.tweak(c.sector)))
    var mask = encryptedTweak
    var masks: [UInt8] = []
    for _ in 0..<(plaintext.count / 16) {
      masks += mask
      // Multiply by α in GF(2^128), little-endian byte order (§5.2).
      var carry: UInt8 = 0
      for i in 0..<16 {
        let next = mask[i] >> 7
        mask[i] = mask[i] << 1 | carry
        carry = next
      }
      if carry != 0 { mask[0] ^= 0x87 }
    }
    let whitened = zip(plaintext, masks).map { $0 ^ $1 }
    let encrypted = try #require(
      run("openssl", ["enc", "-aes-256-ecb", "-nopad", "-K", key1], input: whitened))
    let expected = zip(encrypted, masks).map { $0 ^ $1 }
    #expect(try Self.ours(c, key: key, plaintext: plaintext) == expected)
  }

  /// `openssl enc -aes-256-xts -K … -iv <LE sector>`, where this OpenSSL's
  /// `enc` supports XTS (3.0 does not).
  @Test(.enabled(if: opensslEncDoesXTS), arguments: cases)
  func matchesOpenSSLCommandLineXTS(_ c: Case) throws {
    let (key, plaintext) = Self.material(for: c)
    let expected = try #require(
      run(
        "openssl", ["enc", "-aes-256-xts", "-K", hexString(key), "-iv", hexString(Self.tweak(c.sector))],
        input: plaintext))
    #expect(try Self.ours(c, key: key, plaintext: plaintext) == expected)
  }

  /// python3 `cryptography`'s XTS with the same tweak.
  @Test(.enabled(if: pythonCryptographyAvailable), arguments: cases)
  func matchesPythonCryptography(_ c: Case) throws {
    let (key, plaintext) = Self.material(for: c)
    let script = """
      import sys
      from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
      key, tweak = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
      e = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
      sys.stdout.buffer.write(e.update(sys.stdin.buffer.read()) + e.finalize())
      """
    let expected = try #require(
      run("python3", ["-c", script, hexString(key), hexString(Self.tweak(c.sector))], input: plaintext))
    #expect(try Self.ours(c, key: key, plaintext: plaintext) == expected)
  }
}
