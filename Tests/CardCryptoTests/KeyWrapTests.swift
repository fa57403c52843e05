import Testing

@testable import CardCrypto

@Suite struct KeyWrapTests {
  struct Vector: Sendable, CustomStringConvertible {
    let source: String
    let kek: String
    let key: String
    let wrapped: String
    var description: String { source }
  }

  static let vectors = [
    // RFC 5649 §6: a 192-bit KEK wrapping 20 octets, then 7 octets.
    Vector(
      source: "RFC 5649 §6, 20 octets", kek: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
      key: "c37b7e6492584340bed12207808941155068f738",
      wrapped: "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"),
    Vector(
      source: "RFC 5649 §6, 7 octets", kek: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
      key: "466f7250617369", wrapped: "afbeb0f07dfbf5419200f2ccb50bb24f"),
    // NIST ACVP, ACVP-AES-KWP-1.0 (SP 800-38F KWP), encrypt test group 11,
    // tcId 1001: a 256-bit KEK wrapping one octet.
    Vector(
      source: "NIST ACVP AES-KWP tcId 1001",
      kek: "39FA276B26B762599AA1070192987D0CF8184DDB1C98EEA23F06FF81B63481E0",
      key: "8D", wrapped: "35A739A8A322805B94DEB3CB1A56A008"),
  ]

  @Test(arguments: vectors)
  func wrapsThePublishedVector(_ v: Vector) throws {
    let kek = try SymmetricKey(hex: v.kek)
    let key = try SymmetricKey(hex: v.key)
    #expect(try KeyWrap.wrap(key, kek: kek) == hex(v.wrapped))
    #expect(KeyWrap.wrappedByteCount(forKeyByteCount: key.byteCount) == hex(v.wrapped).count)
  }

  @Test(arguments: vectors)
  func unwrapsThePublishedVector(_ v: Vector) throws {
    let kek = try SymmetricKey(hex: v.kek)
    let unwrapped = try KeyWrap.unwrap(hex(v.wrapped), kek: kek)
    #expect(unwrapped.byteCount == hex(v.key).count)
    #expect(unwrapped.withUnsafeBytes { Array($0) } == hex(v.key))
  }

  /// Round trips with 128- and 256-bit KEKs for the key sizes we carry
  /// (GCM 16/32, XTS 64) and odd sizes that need padding.
  @Test(arguments: [16, 24, 32], [1, 7, 8, 9, 16, 20, 32, 64])
  func roundTrips(kekBytes: Int, keyBytes: Int) throws {
    let kek = try SymmetricKey.random(byteCount: kekBytes)
    let key = try SymmetricKey.random(byteCount: keyBytes)
    let wrapped = try KeyWrap.wrap(key, kek: kek)
    #expect(wrapped.count == max(16, (keyBytes + 7) / 8 * 8 + 8))
    let unwrapped = try KeyWrap.unwrap(wrapped, kek: kek)
    #expect(unwrapped.withUnsafeBytes { Array($0) } == key.withUnsafeBytes { Array($0) })
  }

  /// Every single-bit change of a wrapped key, and a wrong KEK, fail the
  /// RFC 5649 §3 integrity check with the typed error.
  @Test func tamperedOrWronglyKeyedUnwrapFails() throws {
    let v = Self.vectors[0]
    let kek = try SymmetricKey(hex: v.kek)
    let wrapped = hex(v.wrapped)
    for index in wrapped.indices {
      var tampered = wrapped
      tampered[index] ^= 0x04
      #expect(throws: CryptoError.unwrapFailed, "byte \(index)") {
        _ = try KeyWrap.unwrap(tampered, kek: kek)
      }
    }
    let otherKEK = try SymmetricKey(hex: "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a9")
    #expect(throws: CryptoError.unwrapFailed) { _ = try KeyWrap.unwrap(wrapped, kek: otherKEK) }
    // Also the one-block form (RFC 5649 §4.1, key data of 8 octets or less).
    var short = hex(Self.vectors[1].wrapped)
    short[15] ^= 0x01
    #expect(throws: CryptoError.unwrapFailed) { _ = try KeyWrap.unwrap(short, kek: kek) }
  }

  @Test func refusesMalformedInput() throws {
    let kek = try SymmetricKey(hex: "000102030405060708090a0b0c0d0e0f")
    #expect(throws: CryptoError.invalidLength(8)) {
      _ = try KeyWrap.unwrap([UInt8](repeating: 0, count: 8), kek: kek)
    }
    #expect(throws: CryptoError.invalidLength(20)) {
      _ = try KeyWrap.unwrap([UInt8](repeating: 0, count: 20), kek: kek)
    }
    let badKEK = try SymmetricKey(hex: "0001020304050607")
    let key = try SymmetricKey(hex: "00112233445566778899aabbccddeeff")
    #expect(throws: CryptoError.invalidKeySize(8)) { _ = try KeyWrap.wrap(key, kek: badKEK) }
  }
}
