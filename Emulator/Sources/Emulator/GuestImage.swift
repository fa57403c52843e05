import Foundation

/// A built guest image: the Debian cloud kernel and an initramfs made by
/// `Emulator/images/build.sh` (cached by recipe hash under `.cache/images`).
public struct GuestImage: Equatable, Sendable {
  /// Which initramfs: the base one, or the base with an add-on appended
  /// (add-ons are named in `Emulator/images/packages`).
  public enum Initrd: Equatable, Sendable {
    case base
    /// Adds fio and its libraries (about 95 MB instead of 21 MB; the guest
    /// needs 512 MiB of memory, which `GuestConfiguration` then sets).
    case storage
  }

  /// The guest's CPU architecture (the image builder's `--arch`).
  public enum Architecture: String, Equatable, Sendable {
    case x86_64
    case aarch64
  }

  /// The folder holding `vmlinuz`, `initrd*.cpio` and `manifest`.
  public var directory: String
  public var architecture: Architecture
  public var kernel: String { directory + "/vmlinuz" }

  public func initrd(_ which: Initrd) -> String {
    switch which {
    case .base: return directory + "/initrd.cpio"
    case .storage: return directory + "/initrd-storage.cpio"
    }
  }

  public init(directory: String, architecture: Architecture = .x86_64) {
    self.directory = directory
    self.architecture = architecture
  }

  /// Runs the image builder of the repository at `repository` (a no-op when
  /// the cached image matches the recipe) and returns the image. Each
  /// progress line the builder prints goes to `progress`.
  public static func build(
    repository: String, architecture: Architecture = .x86_64,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) throws -> GuestImage {
    let script = repository + "/Emulator/images/build.sh"
    let result = try HostCommand.run(
      ["bash", script, "--arch", architecture.rawValue], onStandardErrorLine: progress)
    guard let directory = result.output.split(separator: "\n").last.map(String.init),
      FileManager.default.fileExists(atPath: directory + "/vmlinuz")
    else {
      throw HostCommandError(
        command: [script], status: result.status,
        output: "the image builder printed no image folder: \(result.output)")
    }
    return GuestImage(directory: directory, architecture: architecture)
  }

  /// The repository holding a source file (pass `#filePath`): tests find
  /// the image builder this way.
  public static func repository(containing sourceFile: String) -> String {
    var url = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
    while url.path != "/" {
      if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
      url = url.deletingLastPathComponent()
    }
    return FileManager.default.currentDirectoryPath
  }
}
