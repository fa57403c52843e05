import Testing

@testable import CardCrypto

@Suite struct AESXTSTests {
  @Test(arguments: ieee1619Vectors)
  func encryptsTheIEEEVector(_ v: XTSVector) throws {
    let key = try SymmetricKey(hex: ieee1619Key)
    var xts = try AESXTS(key: key, dataUnitSize: .bytes512)
    let ciphertext = try xts.encrypt(sector: v.sequenceNumber, countingBytes(512))
    #expect(ciphertext == hex(v.ciphertext))
  }

  @Test(arguments: ieee1619Vectors)
  func decryptsTheIEEEVector(_ v: XTSVector) throws {
    let key = try SymmetricKey(hex: ieee1619Key)
    var xts = try AESXTS(key: key, dataUnitSize: .bytes512)
    #expect(try xts.decrypt(sector: v.sequenceNumber, hex(v.ciphertext)) == countingBytes(512))
  }

  /// Decryption inverts encryption at both unit sizes, across the sector
  /// range (the high bytes of the 64-bit sector number reach the tweak).
  @Test(arguments: [AESXTS.DataUnitSize.bytes512, .bytes4096])
  func decryptInvertsEncrypt(_ size: AESXTS.DataUnitSize) throws {
    let key = try SymmetricKey.random(byteCount: AESXTS.keyByteCount)
    var xts = try AESXTS(key: key, dataUnitSize: size)
    let plaintext = (0..<size.rawValue).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    var seen: [[UInt8]] = []
    for sector: UInt64 in [0, 8, 0x1_0000_0008, 0xffff_ffff_ffff_fff8] {
      let ciphertext = try xts.encrypt(sector: sector, plaintext)
      #expect(ciphertext != plaintext)
      #expect(!seen.contains(ciphertext), "the tweak must change the ciphertext per sector")
      seen.append(ciphertext)
      #expect(try xts.decrypt(sector: sector, ciphertext) == plaintext)
    }
  }

  /// A 4096-byte unit at sector s is one XTS data unit with tweak s, not
  /// eight 512-byte units s...s+7 (dm-crypt --sector-size 4096 without
  /// --iv-large-sectors). Its first 512 bytes match a 512-byte unit at s,
  /// since XTS's first blocks depend only on the tweak; the rest differ.
  @Test func a4096ByteUnitIsOneDataUnitWithTheFirstSectorsTweak() throws {
    let key = try SymmetricKey(hex: ieee1619Key)
    var large = try AESXTS(key: key, dataUnitSize: .bytes4096)
    var small = try AESXTS(key: key, dataUnitSize: .bytes512)
    let plaintext = countingBytes(4096)
    let whole = try large.encrypt(sector: 64, plaintext)
    var pieces: [UInt8] = []
    for i in 0..<8 {
      pieces += try small.encrypt(sector: 64 + UInt64(i), Array(plaintext[(i * 512)..<((i + 1) * 512)]))
    }
    #expect(whole[0..<512] == pieces[0..<512])
    #expect(whole[512...] != pieces[512...])
  }

  @Test func refusesMisalignedSectorsAndWrongSizes() throws {
    let key = try SymmetricKey(hex: ieee1619Key)
    var large = try AESXTS(key: key, dataUnitSize: .bytes4096)
    #expect(throws: CryptoError.misalignedSector(9)) { _ = try large.encrypt(sector: 9, countingBytes(4096)) }
    #expect(throws: CryptoError.invalidDataUnitSize(512)) {
      _ = try large.encrypt(sector: 8, countingBytes(512))
    }
    var small = try AESXTS(key: key, dataUnitSize: .bytes512)
    #expect(throws: CryptoError.invalidDataUnitSize(4096)) {
      _ = try small.decrypt(sector: 0, countingBytes(4096))
    }
    #expect(throws: CryptoError.invalidDataUnitSize(0)) { _ = try small.encrypt(sector: 0, []) }
  }

  @Test func refusesWrongKeysAndEqualHalves() throws {
    let short = try SymmetricKey(hex: String(repeating: "11", count: 32))
    #expect(throws: CryptoError.invalidKeySize(32)) { _ = try AESXTS(key: short, dataUnitSize: .bytes512) }
    // IEEE 1619-2007 §5.1: Key1 == Key2 is not XTS.
    let halves = String(repeating: "5a", count: 32)
    let weak = try SymmetricKey(hex: halves + halves)
    #expect(throws: CryptoError.weakKey) { _ = try AESXTS(key: weak, dataUnitSize: .bytes512) }
  }
}
