import Foundation

@testable import FirmwareImage

/// Test inputs, made by code: ELF files compiled here with the cross and
/// host C compilers (scripts/setup.sh installs both), a stand-in guest
/// initramfs and kernel, keys, and signed images.
enum Fixtures {
  static let directory: String = {
    let path = NSTemporaryDirectory() + "bulkhead-firmware-image-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  /// Tests run in parallel: one compile at a time, each done once.
  static let compileLock = NSLock()

  /// Compiles `source` with `compiler` and `flags`; returns the ELF bytes.
  static func compile(
    _ name: String, compiler: String, flags: [String], source: String = "int main(void) { return 0; }"
  )
    throws -> [UInt8]
  {
    compileLock.lock()
    defer { compileLock.unlock() }
    let sourcePath = directory + "/\(name).c"
    let output = directory + "/\(name)"
    if let cached = FileManager.default.contents(atPath: output) { return [UInt8](cached) }
    try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [compiler] + flags + ["-o", output, sourcePath]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: output) else {
      throw FirmwareImageError.buildFailed(command: compiler, output: "fixture \(name) did not compile")
    }
    return [UInt8](data)
  }

  /// A static AArch64 executable with a SHA-1 build id, as Firmware/build.sh links.
  static func aarch64Firmware() throws -> [UInt8] {
    try compile("fw-ok", compiler: "aarch64-linux-gnu-gcc", flags: ["-static", "-O1", "-Wl,--build-id=sha1"])
  }

  /// Firmware that exits at start with status 1.
  static func aarch64Broken() throws -> [UInt8] {
    try compile(
      "fw-broken", compiler: "aarch64-linux-gnu-gcc", flags: ["-static", "-O1", "-Wl,--build-id=sha1"],
      source: "int main(void) { return 1; }")
  }

  static func x86Firmware() throws -> [UInt8] {
    try compile("fw-x86", compiler: "gcc", flags: ["-static", "-Wl,--build-id=sha1"])
  }

  static func aarch64Dynamic() throws -> [UInt8] {
    try compile("fw-dynamic", compiler: "aarch64-linux-gnu-gcc", flags: ["-Wl,--build-id=sha1"])
  }

  static func aarch64WithoutBuildID() throws -> [UInt8] {
    try compile("fw-no-id", compiler: "aarch64-linux-gnu-gcc", flags: ["-static", "-Wl,--build-id=none"])
  }

  /// Stands for the guest image's initramfs: the entries the card keeps
  /// and some it drops.
  static let guestInitramfs: [UInt8] = CpioArchive(entries: [
    .init(path: "bin", permissions: 0o755, kind: .directory),
    .init(path: "bin/busybox", permissions: 0o755, kind: .file(Array("busybox".utf8))),
    .init(path: "bin/sh", permissions: 0o777, kind: .symbolicLink(target: "busybox")),
    .init(path: "bin/ip", permissions: 0o755, kind: .file(Array("ip".utf8))),
    .init(path: "lib/modules/6.1/virtio_blk.ko", permissions: 0o644, kind: .file([1, 2, 3])),
    .init(path: "init", permissions: 0o755, kind: .file(Array("guest init".utf8))),
  ]).bytes(mtime: 1_700_000_000)

  static let kernel: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
  static let bootStage: [UInt8] = Array("#!/bin/sh\necho card boot stage\n".utf8)

  static func image(
    firmware: [UInt8]? = nil, version: String = "1.0.0", securityVersion: UInt32 = 1, epoch: UInt64 = 0
  ) throws -> FirmwareImageFile {
    try ImagePackager(
      board: .emulated, firmwareVersion: version, securityVersion: securityVersion, sourceDateEpoch: epoch
    )
    .package(
      firmware: firmware ?? aarch64Firmware(), kernel: kernel, guestInitramfs: guestInitramfs,
      bootStage: bootStage)
  }

  static let releaseKey = SigningKey.generate()
  static let otherKey = SigningKey.generate()

  static func signedImage(version: String = "1.0.0", securityVersion: UInt32 = 1) throws -> FirmwareImageFile
  {
    var image = try image(version: version, securityVersion: securityVersion)
    image.sign(with: releaseKey)
    return image
  }

  /// A fresh state directory with one emulated card trusting `releaseKey`.
  static func card(_ name: String) throws -> EmulatedCard {
    let state = directory + "/state-\(name)"
    try? FileManager.default.removeItem(atPath: state)
    return try EmulatedCard.create(stateDirectory: state, name: name, trustedKey: releaseKey.verifyingKey)
  }
}
