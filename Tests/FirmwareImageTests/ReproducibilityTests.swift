import Foundation
import Testing

@testable import FirmwareImage

/// Two packagings of the same inputs give the same bytes; the archive is
/// one the kernel and GNU cpio read.
struct ReproducibilityTests {
  @Test func packagingTwiceGivesIdenticalBytes() throws {
    let first = try Fixtures.image(epoch: 1_700_000_000)
    let second = try Fixtures.image(epoch: 1_700_000_000)
    #expect(first.bytes == second.bytes)
    // Signing is deterministic too (RFC 8032 §5.1.6: no random nonce).
    var signedFirst = first
    var signedSecond = second
    signedFirst.sign(with: Fixtures.releaseKey)
    signedSecond.sign(with: Fixtures.releaseKey)
    #expect(signedFirst.bytes == signedSecond.bytes)
    // The epoch is an input: another one changes the archive's times.
    #expect(try Fixtures.image(epoch: 0).bytes != first.bytes)
  }

  @Test func archiveIgnoresInputOrderAndCarriesNoHostFacts() throws {
    let entries: [CpioArchive.Entry] = [
      .init(path: "b", permissions: 0o644, kind: .file([1])),
      .init(path: "a", permissions: 0o755, kind: .directory),
      .init(path: "a/c", permissions: 0o644, kind: .file([2, 3])),
    ]
    let forward = CpioArchive(entries: entries).bytes(mtime: 0)
    let backward = CpioArchive(entries: entries.reversed()).bytes(mtime: 0)
    #expect(forward == backward)
    #expect(forward.count % 512 == 0)
    #expect(try CpioArchive(reading: forward).entries.map(\.path) == ["a", "a/c", "b"])
  }

  /// GNU cpio (an independent reader) lists the archive with owner 0:0,
  /// the fixed time, sorted names and the right sizes.
  @Test func gnuCpioReadsTheArchive() throws {
    let archive = CpioArchive(entries: [
      .init(path: "init", permissions: 0o755, kind: .file(Array("#!/bin/sh\n".utf8))),
      .init(path: "bin", permissions: 0o755, kind: .directory),
      .init(path: "bin/sh", permissions: 0o777, kind: .symbolicLink(target: "busybox")),
    ]).bytes(mtime: 0)
    let path = Fixtures.directory + "/oracle.cpio"
    try FileBytes.write(archive, to: path)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "cpio -itv --numeric-uid-gid < \(path) 2>/dev/null"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let lines = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    #expect(lines.map { $0.last.map(String.init) } == ["bin", "busybox", "init"])  // "bin/sh -> busybox"
    #expect(lines.allSatisfy { $0[2] == "0" && $0[3] == "0" })  // uid, gid
    #expect(text.contains("1970"))  // mtime 0
    #expect(lines[2][4] == "10")  // size of init
  }

  @Test func cardInitramfsKeepsBusyboxAndModulesAndReplacesInit() throws {
    let bytes = try CardInitramfs.build(
      guestInitramfs: Fixtures.guestInitramfs, bootStage: Fixtures.bootStage, mtime: 0)
    let entries = try CpioArchive(reading: bytes).entries
    let paths = Set(entries.map(\.path))
    #expect(
      paths.contains("bin/busybox") && paths.contains("bin/sh")
        && paths.contains("lib/modules/6.1/virtio_blk.ko"))
    #expect(!paths.contains("bin/ip"))
    #expect(entries.first { $0.path == "init" }?.kind == .file(Fixtures.bootStage))
  }
}
