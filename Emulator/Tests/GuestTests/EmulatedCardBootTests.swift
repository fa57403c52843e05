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

    /// Version 2.0.0, security version 2, of firmware that exits at start.
    static func brokenImage(in directory: String, signedWith key: SigningKey) throws -> FirmwareImageFile {
      var broken = try ImagePackager(
        board: .emulated, firmwareVersion: "2.0.0", securityVersion: 2, sourceDateEpoch: 0
      )
      .package(
        firmwarePath: brokenFirmware(in: directory), kernelPath: GuestFixture.arm64Image.get().kernel,
        guestInitramfsPath: GuestFixture.arm64Image.get().initrd(.base),
        bootStagePath: repository + "/Firmware/Card/init")
      broken.sign(with: key)
      return broken
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
      let broken = try Self.brokenImage(in: directory, signedWith: key)
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

    /// Issue 8's scripted scenario, to its end: an image of the card's real
    /// firmware (`bulkhead-card`, aarch64) is built, signed, inspected,
    /// flashed and booted on the emulated ARM card, which registers with a
    /// real `bulkhead-controller` over mTLS: `dpuctl cards show` reports it
    /// healthy with the image's firmware version and the slot it booted.
    /// The card's only way out is the controller's port on the loopback.
    @Test func aFlashedCardRegistersWithTheController() throws {
      let directory = try GuestFixture.directory("card-registers")
      let key = SigningKey.generate()
      let packager = ImagePackager(
        board: .emulated, firmwareVersion: "1.4.0", securityVersion: 1, sourceDateEpoch: 0)
      var image = try FirmwareBuild(repository: Self.repository, product: "bulkhead-card", packager: packager)
        .run { print($0) }
      image.sign(with: key)
      let inspected = try FirmwareImageFile(bytes: image.bytes)
      try ImageVerifier(trustedKey: key.verifyingKey, board: Board.emulated.name).verify(inspected)

      // The provider's side: a PKI, a controller, the card registered.
      let pki = directory + "/pki"
      let controller = try Controller(directory: directory, pki: pki)
      defer { controller.stop() }
      try controller.dpuctl(["cards", "register", "card0", "--underlay-ip", "192.0.2.7"])
      let before = try controller.cardJSON("card0")
      #expect(before["health"] as? String == "CARD_HEALTH_PENDING", "\(before)")

      let card = try EmulatedCard.create(
        stateDirectory: directory, name: "card0", trustedKey: key.verifyingKey)
      #expect(try card.flash(inspected) == .a)
      // The underlay: this test, on the other end of the card's uplink NIC.
      let underlay = try DatagramSocket(path: directory + "/underlay.sock")
      let provisioning = CardProvisioning(
        controllerPort: controller.managementPort, pkiDirectory: pki, cardName: "card0",
        underlayAddress: "192.0.2.7", serveSeconds: 60,
        uplinkSockets: (directory + "/uplink.card.sock", directory + "/underlay.sock"))
      let (plan, guest) = try CardBootROM(card: card).start(provisioning: provisioning)
      defer { guest.stop() }
      #expect(plan.slot == .a)
      let provisioned = guest.waitForResult("card-provisioning", timeout: 120)
      #expect(provisioned?["card-provisioning"] == "ok", "console:\n\(guest.recentConsole)")
      #expect(provisioned?["uplink"] == "eth1")
      let healthy = guest.waitForResult("card-firmware", timeout: 120)
      #expect(healthy?["card-firmware"] == "healthy", "console:\n\(guest.recentConsole)")

      // Registered: the controller has the card's Hello and heartbeats.
      var shown: [String: Any] = [:]
      let deadline = Date(timeIntervalSinceNow: 120)
      while Date() < deadline && guest.isRunning {
        shown = try controller.cardJSON("card0")
        if shown["health"] as? String == "CARD_HEALTH_HEALTHY" { break }
        usleep(500_000)
      }
      #expect(
        shown["health"] as? String == "CARD_HEALTH_HEALTHY", "\(shown)\nconsole:\n\(guest.recentConsole)")
      #expect(shown["firmwareVersion"] as? String == "1.4.0", "\(shown)")
      #expect(shown["bootState"] as? String == "slot=A", "\(shown)")
      let listed = try controller.dpuctl(["cards", "list"])
      #expect(listed.contains("card0") && listed.contains("1.4.0"), "\(listed)")
      // The uplink is up: frames the underlay sends reach the firmware's
      // AF_PACKET port (its counters, printed when the boot stage stops it).
      let frame =
        [UInt8](repeating: 0xff, count: 6) + [0x02, 0, 0, 0, 0, 0x99, 0x88, 0xb5]
        + [UInt8](repeating: 7, count: 50)
      for _ in 0..<5 { try underlay.send(frame, to: directory + "/uplink.card.sock") }
      let outcome = try guest.waitUntilDone(timeout: 240)
      #expect(outcome.value(of: "card-firmware-stopped") != nil, "\(outcome.consoleLog)")
      let port = outcome.consoleLog.split(separator: "\n").first { $0.contains("port 0 (af-packet eth1") }
      let received = port.flatMap { line in
        line.range(of: "rx ").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 }
      }
      #expect((received ?? 0) >= 5, "\(outcome.consoleLog)")

      // The slot it runs is confirmed on the card's flash.
      #expect(try card.status().state.active == .a)

      // A broken image (firmware that exits at start) is tried once and not
      // confirmed; the next boot falls back to slot A, and the controller
      // shows it: `dpuctl cards show` reports the fallback.
      let broken = try Self.brokenImage(in: directory, signedWith: key)
      #expect(try card.flash(broken) == .b)
      let tried = try CardBootROM(card: card).boot(timeout: 120, provisioning: provisioning)
      #expect(tried.plan.slot == .b && !tried.isHealthy, "console:\n\(tried.outcome.consoleLog)")
      var again = provisioning
      again.serveSeconds = 600
      let (fallback, second) = try CardBootROM(card: card).start(provisioning: again)
      defer { second.stop() }
      #expect(fallback.slot == .a && fallback.fellBackFrom == .b)
      let fellBack = "slot=A fell-back-from=B version=2.0.0 reason=not-confirmed"
      var reported: [String: Any] = [:]
      let until = Date(timeIntervalSinceNow: 180)
      while Date() < until && second.isRunning {
        reported = try controller.cardJSON("card0")
        if reported["bootState"] as? String == fellBack { break }
        usleep(500_000)
      }
      #expect(reported["bootState"] as? String == fellBack, "\(reported)\nconsole:\n\(second.recentConsole)")
      #expect(reported["firmwareVersion"] as? String == "1.4.0")
      let table = try controller.dpuctl(["cards", "show", "card0"])
      #expect(table.contains("fell-back-from=B"), "\(table)")
    }

    struct ControllerDidNotStart: Error { var output: String }

    /// A `bulkhead-controller` on a private socket and store with a
    /// management port on the loopback, and `dpuctl` against it.
    final class Controller {
      let socket: String
      let managementPort: Int
      private let process = Process()

      init(directory: String, pki: String) throws {
        socket = directory + "/controller.sock"
        try? FileManager.default.removeItem(atPath: socket)
        for arguments in [
          ["pki", "init", "--dir", pki], ["pki", "issue-controller", "--dir", pki],
          ["pki", "issue-card", "card0", "--dir", pki],
        ] {
          try HostCommand.run([BulkheadVhostUserTests.binary("dpuctl")] + arguments)
        }
        let tokens = directory + "/tokens.json"
        try #"{ "tokens": [ { "token": "admin-token", "role": "provider-admin" } ] }"#.write(
          toFile: tokens, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: BulkheadVhostUserTests.binary("bulkhead-controller"))
        process.arguments = [
          "--database", directory + "/controller.sqlite", "--tokens", tokens, "--unix", socket, "--vni-range",
          "100-200", "--pki", pki, "--management-listen", "127.0.0.1:0",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The lines the controller prints once it listens: an event, not a sleep.
        var text = ""
        let reader = output.fileHandleForReading
        while !text.contains("listening on") {
          let chunk = reader.availableData
          guard !chunk.isEmpty else { throw ControllerDidNotStart(output: text) }
          text += String(decoding: chunk, as: UTF8.self)
        }
        let line = text.split(separator: "\n").first { $0.contains("management channel on port") }
        managementPort = line.flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
        #expect(managementPort > 0, "\(text)")
      }

      @discardableResult
      func dpuctl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BulkheadVhostUserTests.binary("dpuctl"))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BULKHEAD_TOKEN"] = "admin-token"
        environment["BULKHEAD_CONTROLLER"] = "unix:" + socket
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "dpuctl \(arguments.joined(separator: " ")): \(text)")
        return text
      }

      func cardJSON(_ name: String) throws -> [String: Any] {
        let text = try dpuctl(["cards", "show", name, "-o", "json"])
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
      }

      func stop() {
        if process.isRunning {
          process.terminate()
          process.waitUntilExit()
        }
      }
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
