import Foundation
import Testing

@testable import Emulator
@testable import FirmwareImage

/// The firmware image's whole path on the emulated ARM card
/// (qemu-system-aarch64 -M virt -cpu cortex-a72, TCG): build, sign,
/// inspect, flash, boot, confirm; then a broken image that is tried once
/// and falls back. Needs the cross toolchain (Firmware/build.sh) and the
/// aarch64 guest image.
extension Guests {
  @Suite(.serialized) struct EmulatedCardBootTests {
    static let repository = GuestImage.repository(containing: #filePath)

    /// The real firmware, cross-compiled (a no-op when up to date), and the
    /// image packaged from it.
    static let built: Result<FirmwareImageFile, any Error> = Result {
      let packager = ImagePackager(
        board: .emulated, firmwareVersion: "1.0.0", securityVersion: 1, sourceDateEpoch: 0)
      return try FirmwareBuild(repository: repository, product: "firmware-selftest", packager: packager)
        .run { print($0) }
    }

    /// Firmware that exits at start with status 1, compiled here.
    static func brokenFirmware(in directory: String) throws -> String {
      let source = directory + "/broken.c"
      let output = directory + "/broken"
      try "int main(void) { return 1; }\n".write(toFile: source, atomically: true, encoding: .utf8)
      try HostCommand.run([
        "aarch64-linux-gnu-gcc", "-static", "-O1", "-Wl,--build-id=sha1", "-o", output, source,
      ])
      return output
    }

    @Test func signedImageBootsConfirmsAndABrokenOneFallsBack() throws {
      let directory = try GuestFixture.directory("card")
      let key = SigningKey.generate()

      // build -> sign -> inspect
      var image = try Self.built.get()
      image.sign(with: key)
      let inspected = try FirmwareImageFile(bytes: image.bytes)
      try ImageVerifier(trustedKey: key.verifyingKey, board: Board.emulated.name).verify(inspected)
      let facts = try ElfFacts(inspected.contents(of: inspected.manifest.part("firmware")!))
      #expect(facts.machineName == "AArch64")
      #expect(facts.buildID == inspected.manifest.buildID)

      // flash -> boot -> healthy confirm
      let card = try EmulatedCard.create(
        stateDirectory: directory, name: "card0", trustedKey: key.verifyingKey)
      #expect(try card.flash(inspected) == .a)
      let first = try CardBootROM(card: card).boot(timeout: 120)
      print(
        "card boot: userspace after \(first.outcome.secondsToReady ?? -1) s, verdict after \(first.outcome.secondsToDone) s"
      )
      #expect(first.isHealthy, "console:\n\(first.outcome.consoleLog)")
      #expect(first.outcome.value(of: "version") == "1.0.0")
      #expect(first.status.state.active == .a)
      #expect(first.status.state.pending == nil)
      #expect(first.status.state.securityCounter == 1)
      #expect(first.status.state.runningVersion == "1.0.0")

      // A broken firmware (exits at start) with a higher security version:
      // accepted, tried once, not confirmed.
      var broken = try ImagePackager(
        board: .emulated, firmwareVersion: "2.0.0", securityVersion: 2, sourceDateEpoch: 0
      )
      .package(
        firmwarePath: Self.brokenFirmware(in: directory), kernelPath: GuestFixture.arm64Image.get().kernel,
        guestInitramfsPath: GuestFixture.arm64Image.get().initrd(.base),
        bootStagePath: Self.repository + "/Firmware/Card/init")
      broken.sign(with: key)
      #expect(try card.flash(broken) == .b)
      let second = try CardBootROM(card: card).boot(timeout: 120)
      #expect(second.plan.slot == .b)
      #expect(!second.isHealthy)
      #expect(second.outcome.value(of: "rc") == "1")
      #expect(second.status.state.active == .a)
      #expect(second.status.state.securityCounter == 1, "an unconfirmed image must not advance the counter")

      // The next boot falls back to slot A and says so.
      let third = try CardBootROM(card: card).boot(timeout: 120)
      #expect(third.plan.slot == .a)
      #expect(third.plan.fellBackFrom == .b)
      #expect(third.isHealthy, "console:\n\(third.outcome.consoleLog)")
      let status = third.status
      #expect(status.state.active == .a)
      #expect(status.state.fallbackFrom == .b)
      #expect(status.state.fallbackVersion == "2.0.0")
      #expect(status.state.runningVersion == "1.0.0")
      #expect(status.state.boots == 3)
    }

    /// Reproducibility of the compiler's output: the firmware module's
    /// objects and the ELF are deleted and built again (a second compile
    /// of the firmware module and a second link); the bytes must not
    /// change. The portable libraries are not recompiled (that is a full
    /// cross-build, too slow for CI); packaging twice is covered by
    /// FirmwareImageTests.
    @Test func firmwareCompiledAndLinkedAgainIsIdentical() throws {
      _ = try Self.built.get()
      let release = Self.repository + "/.build-aarch64/aarch64-none-none-elf/release"
      let elf = release + "/firmware-selftest"
      let first = try #require(FileManager.default.contents(atPath: elf))
      let objects = release + "/firmware_selftest.build"
      for file in try FileManager.default.contentsOfDirectory(atPath: objects) where file.hasSuffix(".o") {
        try FileManager.default.removeItem(atPath: objects + "/" + file)
      }
      try FileManager.default.removeItem(atPath: elf)
      try HostCommand.run(["bash", Self.repository + "/Firmware/build.sh", "release", "firmware-selftest"])
      let second = try #require(FileManager.default.contents(atPath: elf))
      #expect(first == second)
    }
  }
}
