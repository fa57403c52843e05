import BlockStorage
import CardCrypto
import Foundation
import Testing

@testable import Volumes

/// The NBD client against real servers started by the test: qemu-nbd
/// (Debian qemu-utils) and nbdkit, each on a unix socket. Both fork once
/// their socket is ready, so there is nothing to wait for.
@Suite(.enabled(if: toolExists("qemu-nbd") && toolExists("nbdkit")))
struct NBDBackendTests {
  /// An encrypted volume in a qemu-nbd export round-trips; the export's file
  /// holds only ciphertext, and exactly the ciphertext a file volume with the
  /// same key would hold.
  @Test(arguments: [AESXTS.DataUnitSize.bytes512, .bytes4096])
  func aVolumeOverQemuNbdRoundTrips(size: AESXTS.DataUnitSize) throws {
    let directory = try temporaryDirectory("qemu-nbd")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let image = directory + "/export.img"
    let socket = directory + "/nbd.sock"
    #expect(FileManager.default.createFile(atPath: image, contents: Data(count: 2 << 20)))
    let daemon = Daemon(pidFile: directory + "/qemu-nbd.pid")
    let started = try run([
      "qemu-nbd", "--fork", "--persistent", "--format=raw", "--export-name=vol0", "--cache=none",
      "--socket=" + socket, "--pid-file=" + daemon.pidFile, image,
    ])
    try #require(started.status == 0, "qemu-nbd: \(started.output)")
    defer { daemon.stop() }

    let text = pattern(300 * 1024)
    do {
      let backend = try NBDBackend(address: .unix(path: socket), exportName: "vol0")
      #expect(backend.byteCount == 2 << 20)
      #expect(!backend.isReadOnly)
      let volume = try TestKeys.volume(backend, size)
      try volume.write(sector: 1, text)
      #expect(try volume.read(sector: 1, count: text.count) == text)
      try volume.detach()
      backend.disconnect()
    }
    let exported = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
    #expect(!contains(exported, Array(text[0..<26])), "plaintext in the NBD export")
    let reference = MemoryBackend(byteCount: 2 << 20)
    try TestKeys.volume(reference, size).write(sector: 1, text)
    #expect(exported == reference.bytes)
  }

  @Test func anUnknownExportNameIsAServerError() throws {
    let directory = try temporaryDirectory("qemu-nbd-name")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let image = directory + "/export.img"
    let socket = directory + "/nbd.sock"
    #expect(FileManager.default.createFile(atPath: image, contents: Data(count: 1 << 20)))
    let daemon = Daemon(pidFile: directory + "/qemu-nbd.pid")
    try #require(
      try run([
        "qemu-nbd", "--fork", "--persistent", "--format=raw", "--export-name=vol0",
        "--socket=" + socket, "--pid-file=" + daemon.pidFile, image,
      ]).status == 0)
    defer { daemon.stop() }
    // NBD_REP_ERR_UNKNOWN = 2^31 + 6.
    #expect(throws: BlockIOError.remote(code: 0x8000_0006)) {
      _ = try NBDBackend(address: .unix(path: socket), exportName: "nope")
    }
    // A read past the export's end: the server's EINVAL, then the
    // connection still serves.
    let backend = try NBDBackend(address: .unix(path: socket), exportName: "vol0")
    var buffer = [UInt8](repeating: 0, count: 4096)
    try buffer.withUnsafeMutableBytes { b in
      #expect(throws: BlockIOError.remote(code: 22)) { try backend.read(at: 1 << 20, into: b) }
      try backend.read(at: 0, into: b)
    }
  }

  /// nbdkit's log filter records every command it receives: a volume flush
  /// arrives as an NBD flush, discard as trim.
  @Test func flushAndDiscardReachTheServer() throws {
    let directory = try temporaryDirectory("nbdkit-log")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let socket = directory + "/nbd.sock"
    let log = directory + "/nbdkit.log"
    let daemon = Daemon(pidFile: directory + "/nbdkit.pid")
    let started = try run([
      "nbdkit", "--unix", socket, "--pidfile", daemon.pidFile, "--filter=log", "memory", "size=1M",
      "logfile=" + log,
    ])
    try #require(started.status == 0, "nbdkit: \(started.output)")
    defer { daemon.stop() }
    let backend = try NBDBackend(address: .unix(path: socket), exportName: "")
    #expect(backend.supportsDiscard)
    let volume = try TestKeys.volume(backend, .bytes4096)
    try volume.write(sector: 8, pattern(8192))
    try volume.flush()
    try volume.discard(sector: 16, sectors: 16)
    backend.disconnect()
    let text = try String(contentsOfFile: log, encoding: .utf8)
    #expect(text.contains("Write id=1 offset=0x1000 count=0x2000"), "\(text)")
    #expect(text.contains("Flush id=2"), "\(text)")
    #expect(text.contains("Trim id=3 offset=0x2000 count=0x2000"), "\(text)")
  }

  /// nbdkit's error filter fails every read with EIO: the volume reports an
  /// I/O error instead of returning anything.
  @Test func serverErrorsBecomeIOErrors() throws {
    let directory = try temporaryDirectory("nbdkit-error")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let socket = directory + "/nbd.sock"
    let daemon = Daemon(pidFile: directory + "/nbdkit.pid")
    let started = try run([
      "nbdkit", "--unix", socket, "--pidfile", daemon.pidFile, "--filter=error", "memory", "size=1M",
      "error-pread=EIO", "error-pread-rate=100%",
    ])
    try #require(started.status == 0, "nbdkit: \(started.output)")
    defer { daemon.stop() }
    let backend = try NBDBackend(address: .unix(path: socket), exportName: "")
    let volume = try TestKeys.volume(backend, .bytes512)
    #expect(throws: BlockIOError.remote(code: 5)) { try volume.read(sector: 0, count: 4096) }
    // Writes are not affected by the filter and still work.
    try volume.write(sector: 0, pattern(4096))
  }

  /// The same client over TCP loopback.
  @Test func tcpLoopbackWorks() throws {
    let directory = try temporaryDirectory("nbdkit-tcp")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let daemon = Daemon(pidFile: directory + "/nbdkit.pid")
    let port = UInt16.random(in: 20000...60000)
    let started = try run([
      "nbdkit", "--ipaddr", "127.0.0.1", "--port", String(port), "--pidfile", daemon.pidFile, "memory",
      "size=1M",
    ])
    try #require(started.status == 0, "nbdkit: \(started.output)")
    defer { daemon.stop() }
    let backend = try NBDBackend(address: .tcp4(address: 0x7f00_0001, port: port), exportName: "")
    let volume = try TestKeys.volume(backend, .bytes4096)
    try volume.write(sector: 3, pattern(5120))
    #expect(try volume.read(sector: 3, count: 5120) == pattern(5120))
  }
}
