import Foundation

/// A BlueField card's rshim boot device (`/dev/rshim0/boot`): what is
/// written there is booted by the card (NVIDIA's BlueField documentation:
/// `cat image.bfb > /dev/rshim0/boot`). Without a card, tests point it at a regular file
/// standing for the device.
public struct RshimTarget: Sendable {
  public var devicePath: String

  public init(devicePath: String) { self.devicePath = devicePath }

  /// Verifies `image` against the card's key (which cannot be read back
  /// from the card, so it is given) and the counter the operator states,
  /// then streams `payload` to the device. Nothing is written on error.
  public func flash(
    _ image: FirmwareImageFile, payload: [UInt8], trustedKey: VerifyingKey, board: Board,
    securityCounter: UInt32
  ) throws(FirmwareImageError) {
    try ImageVerifier(trustedKey: trustedKey, board: board.name, securityCounter: securityCounter).verify(
      image)
    // The rshim driver takes the stream in one open/write/close; an
    // existing regular file (the stand-in) is replaced in place.
    guard let handle = FileHandle(forWritingAtPath: devicePath) else {
      throw .cannotWrite(
        path: devicePath, reason: "cannot open it; is the rshim driver loaded and the card in rshim mode?")
    }
    defer { try? handle.close() }
    do {
      try handle.truncate(atOffset: 0)
    } catch {
      // A character device cannot be truncated; nothing to do.
    }
    do {
      try handle.write(contentsOf: payload)
    } catch {
      throw .cannotWrite(path: devicePath, reason: "\(error)")
    }
  }
}
