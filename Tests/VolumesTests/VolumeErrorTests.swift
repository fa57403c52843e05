import BlockStorage
import CardCrypto
import Foundation
import Testing

@testable import Volumes

@Suite struct VolumeErrorTests {
  @Test func requestsPastTheEndAreRefused() throws {
    let volume = try TestKeys.volume(MemoryBackend(byteCount: 64 * 512), .bytes4096)
    #expect(throws: BlockIOError.outOfRange(sector: 63, sectors: 2)) {
      try volume.read(sector: 63, count: 1024)
    }
    #expect(throws: BlockIOError.outOfRange(sector: 64, sectors: 1)) {
      try volume.write(sector: 64, [UInt8](repeating: 0, count: 512))
    }
    // sector + count overflows 64 bits: still a clean refusal.
    #expect(throws: BlockIOError.outOfRange(sector: .max, sectors: 1)) {
      try volume.read(sector: .max, count: 512)
    }
    #expect(throws: BlockIOError.outOfRange(sector: 1, sectors: .max)) {
      try volume.discard(sector: 1, sectors: .max)
    }
  }

  @Test func oddLengthsAreRefused() throws {
    let volume = try TestKeys.volume(MemoryBackend(byteCount: 64 * 512), .bytes512)
    #expect(throws: BlockIOError.misaligned(byteCount: 100)) { try volume.read(sector: 0, count: 100) }
    #expect(throws: BlockIOError.misaligned(byteCount: 513)) {
      try volume.write(sector: 0, [UInt8](repeating: 0, count: 513))
    }
  }

  @Test func aReadOnlyVolumeRefusesChangesAndStillReads() throws {
    let backend = MemoryBackend(byteCount: 64 * 512)
    let writer = try TestKeys.volume(backend, .bytes512)
    try writer.write(sector: 0, pattern(4096))
    let reader = try TestKeys.volume(backend, .bytes512, readOnly: true)
    #expect(reader.isReadOnly)
    #expect(throws: BlockIOError.readOnly) { try reader.write(sector: 0, [UInt8](repeating: 0, count: 512)) }
    #expect(throws: BlockIOError.readOnly) { try reader.writeZeroes(sector: 0, sectors: 1) }
    #expect(throws: BlockIOError.readOnly) { try reader.discard(sector: 0, sectors: 8) }
    #expect(try reader.read(sector: 0, count: 4096) == pattern(4096))
  }

  @Test func aWritableVolumeNeedsAWritableBackend() throws {
    #expect(throws: VolumeAttachError.backendReadOnly) {
      _ = try TestKeys.volume(MemoryBackend(byteCount: 8192, isReadOnly: true), .bytes512)
    }
    #expect(throws: VolumeAttachError.backendSize(4096 + 512)) {
      _ = try TestKeys.volume(MemoryBackend(byteCount: 4096 + 512), .bytes4096)
    }
  }

  @Test func backendFailuresReachTheCaller() throws {
    let backend = MemoryBackend(byteCount: 8192)
    let volume = try TestKeys.volume(backend, .bytes4096)
    backend.injectedFailure = .system(operation: "pread", errno: 5)
    #expect(throws: BlockIOError.system(operation: "pread", errno: 5)) {
      try volume.read(sector: 0, count: 4096)
    }
    // A partial-unit write fails in its read half: nothing is written.
    #expect(throws: BlockIOError.system(operation: "pread", errno: 5)) {
      try volume.write(sector: 1, [UInt8](repeating: 7, count: 512))
    }
    #expect(throws: BlockIOError.system(operation: "pread", errno: 5)) { try volume.flush() }
  }

  /// A file that shrinks under the volume: reads past its new end come back
  /// short, which is an error, not zeros.
  @Test func aTruncatedFileGivesShortReadErrors() throws {
    let directory = try temporaryDirectory("truncated")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/volume.img"
    let backend = try FileBackend(creating: path, byteCount: 1 << 20, allocation: .sparse)
    let volume = try TestKeys.volume(backend, .bytes4096)
    try volume.write(sector: 1024, pattern(8192))
    #expect(truncate(path, 512 * 1024) == 0)
    #expect(throws: BlockIOError.shortTransfer(expected: 8192, transferred: 0)) {
      try volume.read(sector: 1024, count: 8192)
    }
    // What is still there reads fine.
    _ = try volume.read(sector: 0, count: 4096)
  }

  /// A file opened read-only: a writable volume cannot attach, a read-only
  /// one reads.
  @Test func aReadOnlyFileServesAReadOnlyVolume() throws {
    let directory = try temporaryDirectory("readonly")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/volume.img"
    do {
      let volume = try TestKeys.volume(
        try FileBackend(creating: path, byteCount: 64 * 1024, allocation: .preallocated), .bytes512)
      try volume.write(sector: 0, pattern(4096))
      try volume.detach()
    }
    let backend = try FileBackend(path: path, readOnly: true)
    #expect(throws: VolumeAttachError.backendReadOnly) { _ = try TestKeys.volume(backend, .bytes512) }
    let volume = try TestKeys.volume(backend, .bytes512, readOnly: true)
    #expect(try volume.read(sector: 0, count: 4096) == pattern(4096))
  }
}
