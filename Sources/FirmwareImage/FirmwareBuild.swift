import Emulator
import Foundation

/// `dpuctl firmware build`: cross-compiles the firmware with
/// Firmware/build.sh, takes the aarch64 kernel and busybox initramfs of the
/// emulator's image builder (Emulator/images/build.sh --arch aarch64), and
/// packages them with the boot stage into an unsigned image.
public struct FirmwareBuild: Sendable {
  /// The checkout holding Package.swift, Firmware/ and Emulator/.
  public var repository: String
  /// The firmware executable product (e.g. firmware-selftest).
  public var product: String
  public var packager: ImagePackager

  public init(repository: String, product: String, packager: ImagePackager) {
    self.repository = repository
    self.product = product
    self.packager = packager
  }

  public var firmwarePath: String { repository + "/.build-aarch64/release/" + product }
  public var bootStagePath: String { repository + "/Firmware/Card/init" }

  /// Builds, packages and returns the image. Progress lines go to
  /// `progress`. With `prebuiltFirmware`, that ELF is packaged instead of
  /// cross-compiling `product`.
  public func run(progress: @escaping @Sendable (String) -> Void, prebuiltFirmware: String? = nil) throws
    -> FirmwareImageFile
  {
    if prebuiltFirmware == nil {
      progress("firmware: cross-compiling \(product) (Firmware/build.sh)")
      do {
        try HostCommand.run(
          ["bash", repository + "/Firmware/build.sh", "release", product], onStandardErrorLine: progress)
      } catch let error as HostCommandError {
        throw FirmwareImageError.buildFailed(
          command: "Firmware/build.sh release \(product)", output: error.output)
      }
    }
    progress("firmware: aarch64 kernel and initramfs (Emulator/images/build.sh --arch aarch64)")
    let guest = try GuestImage.build(repository: repository, architecture: .aarch64, progress: progress)
    return try packager.package(
      firmwarePath: prebuiltFirmware ?? firmwarePath, kernelPath: guest.kernel,
      guestInitramfsPath: guest.initrd(.base),
      bootStagePath: bootStagePath)
  }
}
