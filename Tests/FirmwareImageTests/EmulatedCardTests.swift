import Foundation
import Testing

@testable import FirmwareImage

/// The slot logic of the emulated card, without booting it: flashing, the
/// boot ROM's choice, confirmation (done here as the boot stage does) and
/// fallback.
struct EmulatedCardTests {
  /// What the boot stage writes when the firmware comes up healthy.
  func confirm(_ card: EmulatedCard, slot: BootState.Slot, securityVersion: UInt32) throws {
    var state = try card.flash.readState()
    state.lastResult = "healthy"
    if state.pending == slot {
      state.active = slot
      state.pending = nil
      state.tries = 0
      state.securityCounter = max(state.securityCounter, securityVersion)
    }
    try card.flash.writeState(state)
  }

  @Test func flashTryConfirmThenFallBack() throws {
    let card = try Fixtures.card("slots")
    #expect(throws: FirmwareImageError.self) { try CardBootROM(card: card).prepare() }  // nothing flashed

    #expect(try card.flash(Fixtures.signedImage(version: "1.0.0", securityVersion: 1)) == .a)
    var plan = try CardBootROM(card: card).prepare()
    #expect(plan.slot == .a)
    #expect(plan.kernelArguments.contains("bulkhead.version=1.0.0"))
    #expect(try card.flash.readState().tries == 0)
    #expect(try FileBytes.read(card.directory + "/boot/vmlinuz") == Fixtures.kernel)
    try confirm(card, slot: .a, securityVersion: 1)

    // The second image goes to the other slot and is tried once.
    #expect(try card.flash(Fixtures.signedImage(version: "2.0.0", securityVersion: 2)) == .b)
    plan = try CardBootROM(card: card).prepare()
    #expect(plan.slot == .b)
    // Not confirmed: the next boot falls back to A and says so.
    plan = try CardBootROM(card: card).prepare()
    #expect(plan.slot == .a)
    #expect(plan.fellBackFrom == .b)
    let status = try card.status()
    #expect(status.state.active == .a)
    #expect(status.state.pending == nil)
    #expect(status.state.fallbackFrom == .b)
    #expect(status.state.fallbackVersion == "2.0.0")
    #expect(status.state.securityCounter == 1)
    #expect(status.slots.map(\.firmwareVersion) == ["1.0.0", "2.0.0"])
    // A third image replaces the failed one, never the confirmed slot.
    #expect(try card.flash(Fixtures.signedImage(version: "2.0.1", securityVersion: 2)) == .b)
  }

  /// The provisioning partition: the files the boot stage unpacks, the key
  /// private in the archive, and a missing PKI file named with the command
  /// that makes it.
  @Test func provisioningPartitionHoldsTheLinkAndTheIdentity() throws {
    let pki = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(getpid())").path
    try FileManager.default.createDirectory(atPath: pki + "/cards", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: pki) }
    let provisioning = CardProvisioning(
      controllerPort: 40001, pkiDirectory: pki, cardName: "card0", underlayAddress: "192.0.2.7",
      serveSeconds: 30)
    #expect(
      throws: FirmwareImageError.card(
        reason: "\(pki)/ca.crt is missing; make it with `dpuctl pki init --dir \(pki)`")
    ) {
      try provisioning.archive()
    }
    try "CA".write(toFile: pki + "/ca.crt", atomically: true, encoding: .utf8)
    try "CERT".write(toFile: pki + "/cards/card0.crt", atomically: true, encoding: .utf8)
    #expect(throws: FirmwareImageError.self) { try provisioning.archive() }
    try "KEY".write(toFile: pki + "/cards/card0.key", atomically: true, encoding: .utf8)
    let archive = try CpioArchive(reading: try provisioning.archive())
    func file(_ path: String) -> String? {
      guard case .file(let bytes) = archive.entries.first(where: { $0.path == path })?.kind else {
        return nil
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    #expect(
      file("provision.conf")
        == "controller 10.0.2.100:7443\ncard-name card0\naddress 10.0.2.15/24\nserve-seconds 30\n")
    #expect(file("card.conf")?.hasPrefix("card underlay=192.0.2.7 ") == true)
    #expect(file("card.conf")?.contains("uplink ring") == true)
    #expect(
      file("pki/ca.crt") == "CA" && file("pki/cards/card0.crt") == "CERT"
        && file("pki/cards/card0.key") == "KEY")
    #expect(archive.entries.first { $0.path == "pki/cards/card0.key" }?.permissions == 0o600)
    #expect(provisioning.forward.hostPort == 40001)
    var hostile = provisioning
    hostile.cardName = "../x"
    #expect(throws: FirmwareImageError.self) { try hostile.archive() }
  }

  @Test func bootStateRoundTripsThroughText() throws {
    var state = BootState()
    state.active = .b
    state.pending = .a
    state.tries = 1
    state.securityCounter = 7
    state.fallbackFrom = .a
    state.fallbackVersion = "0.9"
    #expect(try BootState(area: state.area) == state)
    #expect(throws: FirmwareImageError.self) { try BootState(area: [UInt8](repeating: 0, count: 4096)) }
  }
}
