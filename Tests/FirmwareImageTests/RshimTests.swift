import Foundation
import Testing

@testable import FirmwareImage

/// The hardware path, against a regular file standing for
/// /dev/rshim0/boot (no card here).
struct RshimTests {
  func standIn(_ name: String) throws -> String {
    let path = Fixtures.directory + "/rshim0-boot-\(name)"
    try FileBytes.write(Array("untouched".utf8), to: path)
    return path
  }

  @Test func verifiedImageIsStreamedToTheDevice() throws {
    let device = try standIn("ok")
    var image = try ImagePackager(
      board: .bluefield2, firmwareVersion: "1", securityVersion: 1, sourceDateEpoch: 0
    )
    .package(
      firmware: Fixtures.aarch64Firmware(), kernel: Fixtures.kernel, guestInitramfs: Fixtures.guestInitramfs,
      bootStage: Fixtures.bootStage)
    image.sign(with: Fixtures.releaseKey)
    try RshimTarget(devicePath: device).flash(
      image, payload: image.bytes, trustedKey: Fixtures.releaseKey.verifyingKey, board: .bluefield2,
      securityCounter: 0)
    #expect(try FileBytes.read(device) == image.bytes)
  }

  @Test func rejectedImageWritesNothing() throws {
    let device = try standIn("rejected")
    var image = try Fixtures.image()
    image.sign(with: Fixtures.otherKey)
    #expect(throws: FirmwareImageError.self) {
      try RshimTarget(devicePath: device).flash(
        image, payload: image.bytes, trustedKey: Fixtures.releaseKey.verifyingKey, board: .emulated,
        securityCounter: 0)
    }
    #expect(try FileBytes.read(device) == Array("untouched".utf8))
  }

  /// BFB records (mlx-mkbfb's public layout): a base stream's boot chain
  /// is kept, kernel/initramfs/boot arguments are ours, CRCs and the
  /// following-records bitmap are right, and the stream reads back.
  @Test func bootStreamKeepsTheBaseChainAndCarriesTheImage() throws {
    let base = BootStream(records: [
      .init(id: 1, data: Array("bl2".utf8)), .init(id: 5, data: Array("uefi-bl33".utf8)),
      .init(id: 59, data: Array("console=ttyAMA1".utf8)), .init(id: 62, data: [9, 9, 9]),
    ]).bytes
    // The header of the first record, field by field.
    #expect(Array(base[0..<4]) == [0x42, 0x66, 0x02, 0x13])  // magic 0x13026642, little endian
    #expect(base[7] == 1)  // record id in bits 56-63
    #expect(base[6] & 0xf0 == 0x30)  // header length 24 / 8 in bits 52-55
    #expect(Int(base[8]) == 3)  // data length
    let following = BootStream.word(base, 16)
    #expect(following == (1 << 5 | 1 << 59 | 1 << 62))
    #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xcbf4_3926)  // the CRC-32 check value

    let image = try Fixtures.signedImage()
    let stream = try BootStream.make(image: image, base: base)
    let reread = try BootStream(reading: stream.bytes)
    #expect(reread.records.map(\.id) == [1, 5, 59, 62, 63])
    #expect(reread.records[1].data == Array("uefi-bl33".utf8))
    let arguments = String(decoding: reread.records[2].data, as: UTF8.self)
    #expect(arguments.hasPrefix("console=ttyAMA1 bulkhead.firmware=embedded"))
    #expect(reread.records[3].data == Fixtures.kernel)
    // Corrupting a record's data fails its CRC.
    var corrupt = stream.bytes
    corrupt[30] ^= 1
    #expect(throws: FirmwareImageError.self) { try BootStream(reading: corrupt) }
  }
}
