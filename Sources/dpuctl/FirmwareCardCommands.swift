import ArgumentParser
import FirmwareImage
import Foundation

enum FlashFormat: String, ExpressibleByArgument, CaseIterable {
  /// The project's image as it is (the emulated card's slots).
  case image
  /// A BlueField boot stream (needs --base-bfb for the boot chain).
  case bfb
}

struct FlashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flash",
    abstract:
      "Verify an image and write it to a card: the emulated card's inactive slot, or an rshim device.",
    discussion: """
      --card NAME: the emulated card under the state directory; the image is
      checked against the card's trusted key, board and security counter,
      then written to the inactive slot and tried once on the next boot.
      --rshim PATH: a BlueField's rshim boot device (e.g. /dev/rshim0/boot),
      or a regular file standing for it; --trusted-key is then required.
      """)
  @Argument(help: "Signed image file.") var image: String
  @Option(help: "Emulated card name.") var card: String?
  @Option(help: "State directory of the emulator (env BULKHEAD_STATE_DIR; default .bulkhead-state).")
  var stateDir: String?
  @Option(help: "rshim boot device (or a regular file standing for it).") var rshim: String?
  @Option(help: "With --rshim: the card's trusted public key.") var trustedKey: String?
  @Option(help: "With --rshim: the card's security version counter.") var securityCounter: UInt32 = 0
  @Option(help: "With --rshim: what to write (image or bfb).") var format: FlashFormat = .image
  @Option(help: "With --format bfb: an NVIDIA BFB providing the boot chain (ATF, UEFI).") var baseBfb: String?

  func validate() throws {
    guard (card == nil) != (rshim == nil) else {
      throw ValidationError("give exactly one of --card NAME or --rshim PATH")
    }
    if rshim != nil, trustedKey == nil {
      throw ValidationError("--rshim needs --trusted-key: the card's key cannot be read back from the card")
    }
    if format == .bfb, baseBfb == nil {
      throw ValidationError(
        "--format bfb needs --base-bfb: the boot chain (ATF, UEFI) comes from an NVIDIA BFB")
    }
  }

  func run() throws {
    let file = try firmwareStep { () throws(FirmwareImageError) in
      try FirmwareImageFile(bytes: FileBytes.read(image))
    }
    if let card {
      let emulated = try CardOptions.parse(["--card", card] + (stateDir.map { ["--state-dir", $0] } ?? []))
        .open()
      let slot = try firmwareStep { () throws(FirmwareImageError) in try emulated.flash(file) }
      print(
        "flashed \(file.manifest.firmwareVersion) to slot \(slot.rawValue) of \(card); it is tried once on the next boot"
      )
    } else if let rshim, let trustedKey {
      try firmwareStep { () throws(FirmwareImageError) in
        let board = try Board.named(file.manifest.board)
        let payload: [UInt8]
        switch format {
        case .image: payload = file.bytes
        case .bfb: payload = try BootStream.make(image: file, base: FileBytes.read(baseBfb!)).bytes
        }
        try RshimTarget(devicePath: rshim).flash(
          file, payload: payload, trustedKey: KeyFile.readVerifyingKey(at: trustedKey), board: board,
          securityCounter: securityCounter)
        print("wrote \(payload.count) bytes (\(format.rawValue)) to \(rshim)")
      }
    }
  }
}

struct CardInitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "card-init", abstract: "Create an emulated card with blank slots that trusts a public key.")
  @OptionGroup var card: CardOptions
  @Option(help: "Public key fused into the card (stands for its OTP).") var trustedKey: String

  func run() throws {
    let directory = try firmwareStep { () throws(FirmwareImageError) in
      try EmulatedCard.create(
        stateDirectory: card.resolvedStateDirectory, name: card.card,
        trustedKey: KeyFile.readVerifyingKey(at: trustedKey)
      ).directory
    }
    print("card \(card.card): \(directory)")
  }
}

struct BootCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "boot",
    abstract:
      "Boot the emulated card once (qemu-system-aarch64 -M virt -cpu cortex-a72) and report the outcome.",
    discussion: """
      With --controller, the card also gets a provisioning partition (its certificate and key from \
      --pki-dir, the controller's address) and a management NIC whose only way out is the \
      controller's management port on this host's loopback: the firmware (an image built with \
      --product bulkhead-card) registers with the controller, and serves --serve-seconds after it \
      came up before the card powers off. `dpuctl cards show CARD` then shows its firmware version \
      and boot state. Make the PKI with `dpuctl pki init` and `dpuctl pki issue-card CARD`, and \
      register the card with `dpuctl cards register CARD --underlay-ip IP` first.
      """)
  @OptionGroup var card: CardOptions
  @Option(help: "Seconds to wait for the boot stage's verdict.") var timeout: Double = 120
  @Option(help: "A long-running firmware still up after this many seconds is healthy.") var healthSeconds = 10
  @Option(
    help:
      "The controller's management port on this host's loopback (bulkhead-controller --management-listen).")
  var controller: Int?
  @Option(help: "The PKI folder holding ca.crt and cards/CARD.crt and .key (with --controller).")
  var pkiDir = "pki"
  @Option(help: "The card's underlay address, as registered with the controller (with --controller).")
  var underlayIp = "192.0.2.1"
  @Option(help: "Seconds the firmware serves its controller after it came up (with --controller).")
  var serveSeconds = 30
  @Option(
    help:
      "The underlay: a unix datagram socket the card's uplink NIC sends to (it receives on PATH.card); without it the uplink is an in-memory ring (with --controller)."
  )
  var uplinkSocket: String?
  @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

  func run() throws {
    let emulated = try card.open()
    let report = try firmwareStep { () throws(any Error) in
      let provisioning = controller.map {
        CardProvisioning(
          controllerPort: $0, pkiDirectory: pkiDir, cardName: emulated.name, underlayAddress: underlayIp,
          serveSeconds: serveSeconds, uplinkSockets: uplinkSocket.map { ($0 + ".card", $0) })
      }
      if provisioning != nil {
        FileHandle.standardError.write(
          Data(
            "card \(emulated.name): booting, linked to the controller; serving \(serveSeconds) s once up\n"
              .utf8))
      }
      return try CardBootROM(card: emulated, healthSeconds: healthSeconds).boot(
        timeout: timeout + Double(provisioning?.serveSeconds ?? 0), provisioning: provisioning)
    }
    var json = StatusCommand.json(report.status)
    json["bootedSlot"] = report.plan.slot.rawValue
    json["healthy"] = report.isHealthy
    let lines =
      [("booted slot", report.plan.slot.rawValue), ("firmware", report.isHealthy ? "healthy" : "unhealthy")]
      + StatusCommand.lines(report.status)
    try FactsPrinter(format: output).print(json, lines: lines)
    if !report.isHealthy { throw ExitCode(4) }
  }
}
