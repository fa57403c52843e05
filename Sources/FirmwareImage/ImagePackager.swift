import Foundation

/// Packs built parts into an unsigned image. Pure in its inputs: the same
/// files and options give the same bytes (Docs/firmware-image.md,
/// "Reproducibility").
public struct ImagePackager: Sendable {
  public var board: Board
  public var firmwareVersion: String
  public var securityVersion: UInt32
  /// Archive time stamps; from SOURCE_DATE_EPOCH, else 0.
  public var sourceDateEpoch: UInt64

  public init(board: Board, firmwareVersion: String, securityVersion: UInt32, sourceDateEpoch: UInt64) {
    self.board = board
    self.firmwareVersion = firmwareVersion
    self.securityVersion = securityVersion
    self.sourceDateEpoch = sourceDateEpoch
  }

  /// SOURCE_DATE_EPOCH (reproducible-builds.org/specs/source-date-epoch),
  /// or 0.
  public static var environmentSourceDateEpoch: UInt64 {
    ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { UInt64($0) } ?? 0
  }

  /// Checks the firmware ELF, builds the card's initramfs and lays out
  /// the image.
  public func package(firmware: [UInt8], kernel: [UInt8], guestInitramfs: [UInt8], bootStage: [UInt8])
    throws(FirmwareImageError) -> FirmwareImageFile
  {
    guard !firmwareVersion.isEmpty, !firmwareVersion.contains(where: { $0.isWhitespace }) else {
      throw .card(reason: "--firmware-version must be one word, e.g. 0.3.1, not '\(firmwareVersion)'")
    }
    let facts = try ElfFacts(firmware)
    try facts.check()
    let initramfs = try CardInitramfs.build(
      guestInitramfs: guestInitramfs, bootStage: bootStage, mtime: UInt32(clamping: sourceDateEpoch))
    return FirmwareImageFile.assemble(
      board: board.name, firmwareVersion: firmwareVersion, securityVersion: securityVersion,
      buildID: facts.buildID!, sourceDateEpoch: sourceDateEpoch,
      parts: [("firmware", firmware), ("kernel", kernel), ("initramfs", initramfs)])
  }

  /// The same from files.
  public func package(
    firmwarePath: String, kernelPath: String, guestInitramfsPath: String, bootStagePath: String
  )
    throws(FirmwareImageError) -> FirmwareImageFile
  {
    try package(
      firmware: FileBytes.read(firmwarePath), kernel: FileBytes.read(kernelPath),
      guestInitramfs: FileBytes.read(guestInitramfsPath), bootStage: FileBytes.read(bootStagePath))
  }
}

/// Whole-file reads and writes with the project's errors.
public enum FileBytes {
  public static func read(_ path: String) throws(FirmwareImageError) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw .cannotRead(path: path) }
    return [UInt8](data)
  }

  public static func write(_ bytes: [UInt8], to path: String) throws(FirmwareImageError) {
    do {
      try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw .cannotWrite(path: path, reason: "\(error)")
    }
  }
}
