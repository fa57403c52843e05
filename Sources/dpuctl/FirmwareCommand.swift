import ArgumentParser
import FirmwareImage
import Foundation

/// `dpuctl firmware ...`: build, sign, verify, inspect and flash firmware
/// images, and run the emulated card (Docs/firmware-image.md). These run
/// on the operator's machine; they do not talk to the controller.
struct FirmwareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "firmware",
    abstract: "Build, sign, verify, inspect and flash firmware images; run the emulated card.",
    discussion: """
      Examples:
        dpuctl firmware keygen --out release.key            # release.key + release.key.pub
        dpuctl firmware build --board qemu-virt-a72 --firmware-version 0.3.0 --out fw.img
        dpuctl firmware sign fw.img --key release.key
        dpuctl firmware inspect fw.img --trusted-key release.key.pub
        dpuctl firmware card-init --card card0 --trusted-key release.key.pub
        dpuctl firmware flash fw.img --card card0
        dpuctl firmware boot --card card0
        dpuctl firmware status --card card0 --output json
        dpuctl firmware flash fw.img --rshim /dev/rshim0/boot --trusted-key release.key.pub

      Exit codes: 0 ok, 1 unexpected, 3 not found, 4 rejected (signature,
      digest, ELF, security version, board), 64 bad command line.
      """,
    subcommands: [
      FirmwareBuildCommand.self, KeygenCommand.self, SignCommand.self, VerifyCommand.self,
      InspectCommand.self, FlashCommand.self, CardInitCommand.self, BootCommand.self, StatusCommand.self,
    ])
}

/// Where emulated cards live (Docs/firmware-image.md, "State directory").
struct CardOptions: ParsableArguments {
  @Option(help: "The emulated card's name.") var card: String
  @Option(help: "State directory of the emulator (env BULKHEAD_STATE_DIR; default .bulkhead-state).")
  var stateDir: String?

  var resolvedStateDirectory: String {
    stateDir ?? ProcessInfo.processInfo.environment["BULKHEAD_STATE_DIR"] ?? ".bulkhead-state"
  }

  func open() throws -> EmulatedCard {
    try firmwareStep { () throws(FirmwareImageError) in
      try EmulatedCard(stateDirectory: resolvedStateDirectory, name: card)
    }
  }
}

struct FirmwareBuildCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build",
    abstract: "Cross-compile the firmware and package it with the card's kernel and initramfs (unsigned).")
  @Option(help: "Board: \(Board.all.map(\.name).joined(separator: ", ")).") var board: String
  @Option(help: "Firmware product to cross-compile.") var product = "firmware-selftest"
  @Option(help: "Use this firmware ELF instead of cross-compiling.") var firmware: String?
  @Option(help: "Version string recorded in the manifest.") var firmwareVersion = "0.0.0-dev"
  @Option(help: "Anti-rollback security version.") var securityVersion: UInt32 = 1
  @Option(help: "Repository checkout (holds Firmware/ and Emulator/).") var repository = "."
  @Option(help: "Image file to write.") var out: String

  func run() throws {
    let packager = try firmwareStep { () throws(FirmwareImageError) in
      ImagePackager(
        board: try Board.named(board), firmwareVersion: firmwareVersion, securityVersion: securityVersion,
        sourceDateEpoch: ImagePackager.environmentSourceDateEpoch)
    }
    let build = FirmwareBuild(repository: repository, product: product, packager: packager)
    let progress: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    let image = try firmwareStep { () throws(any Error) in
      try build.run(progress: progress, prebuiltFirmware: firmware)
    }
    try firmwareStep { () throws(FirmwareImageError) in try FileBytes.write(image.bytes, to: out) }
    print(
      "built \(out): \(image.manifest.board) \(image.manifest.firmwareVersion) build-id \(image.manifest.buildID) (unsigned)"
    )
  }
}

struct KeygenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keygen", abstract: "Make an Ed25519 signing key: FILE (private, mode 0600) and FILE.pub.")
  @Option(help: "Private key file to write; the public key goes to FILE.pub.") var out: String

  func run() throws {
    guard !FileManager.default.fileExists(atPath: out) else {
      throw Failure(
        message: "\(out) exists; refusing to overwrite a key", hint: "choose another --out", exitCode: 4
      )
      .report()
    }
    let key = SigningKey.generate()
    guard
      FileManager.default.createFile(
        atPath: out, contents: Data(key.fileText.utf8), attributes: [.posixPermissions: 0o600])
    else { throw Failure(message: "cannot write \(out)", hint: nil, exitCode: 1).report() }
    try firmwareStep { () throws(FirmwareImageError) in
      try FileBytes.write(Array(KeyFile.publicText(key.verifyingKey).utf8), to: out + ".pub")
    }
    print("key \(key.verifyingKey.id.description.prefix(16)): \(out), \(out).pub")
  }
}

struct SignCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sign", abstract: "Sign an image with an Ed25519 key.")
  @Argument(help: "Image file.") var image: String
  @Option(help: "Private key file (from `dpuctl firmware keygen`).") var key: String
  @Option(help: "Write the signed image here instead of in place.") var out: String?

  func run() throws {
    let signed = try firmwareStep { () throws(FirmwareImageError) in
      var file = try FirmwareImageFile(bytes: FileBytes.read(image))
      // Refuse to sign what does not hold together: the signature vouches
      // for the parts.
      try ImageVerifier.verifyParts(file)
      let signingKey = try KeyFile.readSigningKey(at: key)
      file.sign(with: signingKey)
      try FileBytes.write(file.bytes, to: out ?? image)
      return signingKey.verifyingKey.id
    }
    print("signed \(out ?? image) with key \(signed.description.prefix(16))")
  }
}

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check an image as a card would: signature, digests, ELF, security version.")
  @Argument(help: "Image file.") var image: String
  @Option(help: "The card's trusted public key.") var trustedKey: String
  @Option(help: "The card's board (checked when given).") var board: String?
  @Option(help: "The card's security version counter.") var securityCounter: UInt32 = 0

  func run() throws {
    let manifest = try firmwareStep { () throws(FirmwareImageError) in
      let file = try FirmwareImageFile(bytes: FileBytes.read(image))
      try ImageVerifier(
        trustedKey: KeyFile.readVerifyingKey(at: trustedKey), board: board, securityCounter: securityCounter
      )
      .verify(file)
      return file.manifest
    }
    print("ok: \(manifest.board) \(manifest.firmwareVersion) security version \(manifest.securityVersion)")
  }
}

/// Runs a step and turns `FirmwareImageError` into a message and an exit
/// code (3 not found, 4 rejected, 1 otherwise). Generic over the error
/// type so that typed-throws closures pass without conversion.
func firmwareStep<T, E: Error>(_ body: () throws(E) -> T) throws -> T {
  do {
    return try body()
  } catch {
    if let exit = error as? ExitCode { throw exit }
    guard let error = error as? FirmwareImageError else {
      throw Failure(message: "\(error)", hint: nil, exitCode: 1).report()
    }
    let code: Int32
    switch error {
    case .cannotRead: code = 3
    case .card(let reason) where reason.contains("no emulated card"): code = 3
    case .cannotWrite, .buildFailed: code = 1
    default: code = 4
    }
    throw Failure(message: error.description, hint: nil, exitCode: code).report()
  }
}

extension Failure {
  init(message: String, hint: String?, exitCode: Int32) {
    self.message = message
    self.hint = hint
    self.exitCode = exitCode
  }
}
