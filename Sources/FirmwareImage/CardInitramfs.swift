/// The initramfs for the card's ARM cores: busybox and the kernel modules
/// of the emulator's aarch64 guest image (built from Debian packages by
/// Emulator/images/build.sh), with the card's boot stage
/// (Firmware/Card/init) as /init. Rewritten as a reproducible archive.
public enum CardInitramfs {
  /// What is kept from the guest image: the shell and the modules (the
  /// flash is a virtio-blk disk; virtio_blk is a module in Debian's cloud
  /// kernel). The guest's programs and libraries are left out.
  static func isKept(_ path: String) -> Bool {
    path == "bin" || path == "bin/busybox" || path == "bin/sh" || path == "lib" || path == "etc"
      || path == "etc/bulkhead" || path == "etc/bulkhead/kernel" || path.hasPrefix("lib/modules")
  }

  /// Empty folders the boot stage mounts on.
  static let mountPoints = ["dev", "proc", "sys", "tmp", "sbin", "usr", "usr/bin", "usr/sbin"]

  public static func build(guestInitramfs: [UInt8], bootStage: [UInt8], mtime: UInt32)
    throws(FirmwareImageError)
    -> [UInt8]
  {
    let guest = try CpioArchive(reading: guestInitramfs)
    var entries = guest.entries.filter { isKept($0.path) }
    guard entries.contains(where: { $0.path == "bin/busybox" }) else {
      throw .card(
        reason:
          "the guest initramfs has no bin/busybox; rebuild it with Emulator/images/build.sh --arch aarch64")
    }
    for folder in mountPoints { entries.append(.init(path: folder, permissions: 0o755, kind: .directory)) }
    entries.append(.init(path: "init", permissions: 0o755, kind: .file(bootStage)))
    return CpioArchive(entries: entries).bytes(mtime: mtime)
  }
}
