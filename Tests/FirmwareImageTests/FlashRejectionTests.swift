import Foundation
import Testing

@testable import FirmwareImage

/// Every way a card must refuse an image: a clear error, and not one byte
/// of its flash changed.
struct FlashRejectionTests {
  /// Flashes `image` (as bytes, parsed like `dpuctl firmware flash` does)
  /// and returns the error; checks that the flash did not change.
  func rejection(_ bytes: [UInt8], card: EmulatedCard) throws -> FirmwareImageError? {
    // Data, not [UInt8]: the flash is 129 MiB and Data compares with memcmp.
    let before = try #require(FileManager.default.contents(atPath: card.flash.path))
    var caught: FirmwareImageError?
    do {
      try card.flash(FirmwareImageFile(bytes: bytes))
    } catch {
      caught = error
    }
    let after = try #require(FileManager.default.contents(atPath: card.flash.path))
    #expect(before == after, "the flash changed although the image was rejected")
    return caught
  }

  @Test func tamperedPartIsRejected() throws {
    let card = try Fixtures.card("tampered")
    var bytes = try Fixtures.signedImage().bytes
    let kernel = try FirmwareImageFile(bytes: bytes).manifest.part("kernel")!
    bytes[kernel.offset + 100] ^= 0x01
    let error = try rejection(bytes, card: card)
    guard case .partDigestMismatch(let part, _, _) = error else {
      Issue.record("expected a digest mismatch, got \(String(describing: error))")
      return
    }
    #expect(part == "kernel")
    #expect(error!.description.contains("was altered"))
  }

  @Test func alteredManifestBreaksTheSignature() throws {
    let card = try Fixtures.card("badsig")
    var bytes = try Fixtures.signedImage(version: "1.0.0").bytes
    // Same length, other version: the manifest still parses.
    let manifestStart = ImageLayout.headerSize
    let text = String(decoding: bytes[manifestStart..<(manifestStart + 400)], as: UTF8.self)
    let range = try #require(text.range(of: "firmware-version 1.0.0"))
    let offset = manifestStart + text.utf8.distance(from: text.startIndex, to: range.upperBound) - 1
    bytes[offset] = UInt8(ascii: "9")
    let error = try rejection(bytes, card: card)
    guard case .badSignature = error else {
      Issue.record("expected a bad signature, got \(String(describing: error))")
      return
    }
  }

  @Test func signatureBitFlipIsRejected() throws {
    let card = try Fixtures.card("sigflip")
    var bytes = try Fixtures.signedImage().bytes
    bytes[ImageLayout.signatureOffset + 5] ^= 0x80
    guard case .badSignature = try rejection(bytes, card: card) else {
      Issue.record("expected a bad signature")
      return
    }
  }

  @Test func unknownKeyIsRejected() throws {
    let card = try Fixtures.card("unknown")
    var image = try Fixtures.image()
    image.sign(with: Fixtures.otherKey)
    let error = try rejection(image.bytes, card: card)
    guard case .unknownKey = error else {
      Issue.record("expected an unknown key, got \(String(describing: error))")
      return
    }
    #expect(error!.description.contains("sign with the card's key"))
  }

  @Test func unsignedImageIsRejected() throws {
    let card = try Fixtures.card("unsigned")
    #expect(try rejection(Fixtures.image().bytes, card: card) == .unsigned)
  }

  @Test func securityVersionBelowTheCounterIsRejected() throws {
    let card = try Fixtures.card("rollback")
    var state = try card.flash.readState()
    state.securityCounter = 5
    try card.flash.writeState(state)
    let error = try rejection(Fixtures.signedImage(securityVersion: 4).bytes, card: card)
    #expect(error == .securityVersionTooLow(image: 4, counter: 5))
    #expect(error!.description.contains("--security-version 5"))
    // Equal to the counter is accepted.
    #expect(try card.flash(Fixtures.signedImage(securityVersion: 5)) == .a)
  }

  @Test func firmwareForAnotherMachineIsRejected() throws {
    let card = try Fixtures.card("x86")
    // The packager refuses an x86-64 ELF, so lay the image out by hand,
    // as an attacker or a broken tool would, and sign it.
    let x86 = try Fixtures.x86Firmware()
    let buildID = try #require(try ElfFacts(x86).buildID)
    var image = FirmwareImageFile.assemble(
      board: Board.emulated.name, firmwareVersion: "1.0.0", securityVersion: 1, buildID: buildID,
      sourceDateEpoch: 0,
      parts: [("firmware", x86), ("kernel", Fixtures.kernel), ("initramfs", Fixtures.guestInitramfs)])
    image.sign(with: Fixtures.releaseKey)
    let error = try rejection(image.bytes, card: card)
    guard case .elfRejected(let reason) = error else {
      Issue.record("expected an ELF rejection, got \(String(describing: error))")
      return
    }
    #expect(reason.contains("x86-64"))
  }

  @Test func truncatedImageIsRejected() throws {
    let card = try Fixtures.card("truncated")
    let bytes = try Fixtures.signedImage().bytes
    for length in [bytes.count - 1, bytes.count / 2, 5000, 100] {
      let error = try rejection(Array(bytes.prefix(length)), card: card)
      switch error {
      case .truncated, .notAnImage: break
      default: Issue.record("length \(length): expected truncated, got \(String(describing: error))")
      }
    }
    #expect(
      try rejection(Array(bytes.prefix(bytes.count - 1)), card: card)?.description.contains("truncated")
        == true)
  }

  @Test func imageForAnotherBoardIsRejected() throws {
    let card = try Fixtures.card("board")
    var image = try ImagePackager(
      board: .bluefield2, firmwareVersion: "1", securityVersion: 1, sourceDateEpoch: 0
    )
    .package(
      firmware: Fixtures.aarch64Firmware(), kernel: Fixtures.kernel, guestInitramfs: Fixtures.guestInitramfs,
      bootStage: Fixtures.bootStage)
    image.sign(with: Fixtures.releaseKey)
    #expect(
      try rejection(image.bytes, card: card) == .wrongBoard(image: "bluefield-2", card: "qemu-virt-a72"))
  }
}
