import BlockStorage
import CardCrypto
import Foundation
import Testing

@testable import Volumes

/// A slice's volume has a size of its own: its file is made or extended
/// to it, a larger backend serves only that much, and it grows in place.
@Suite struct VolumeSizingTests {
  func size(_ path: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value
  }

  @Test func aFileIsCreatedSparseExtendedAndNeverShortened() throws {
    let directory = try temporaryDirectory("sizing")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/v.img"
    #expect(try FileBackend.ensureSize(path: path, atLeast: 1 << 20) == 1 << 20)
    var st = stat()
    #expect(stat(path, &st) == 0 && st.st_blocks == 0)
    #expect(try FileBackend.ensureSize(path: path, atLeast: 3 << 20) == 3 << 20)
    #expect(size(path) == 3 << 20)
    #expect(try FileBackend.ensureSize(path: path, atLeast: 1 << 20) == 3 << 20)
    #expect(size(path) == 3 << 20)
    #expect(throws: BlockIOError.self) {
      try FileBackend.ensureSize(path: directory + "/none/v.img", atLeast: 4096)
    }
  }

  @Test func aVolumeServesItsSizeAndGrowsWithinItsBackend() throws {
    let backend = MemoryBackend(byteCount: 64 * 1024)
    let volume = try EncryptedVolume(
      spec: try TestKeys.spec(.bytes4096), kek: try TestKeys.kek(), backend: backend, byteCount: 16 * 1024)
    #expect(volume.sectorCount == 32)
    let unit = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { unit.deallocate() }
    #expect(throws: BlockIOError.outOfRange(sector: 32, sectors: 8)) {
      try volume.read(sector: 32, into: unit)
    }
    try volume.grow(toByteCount: 32 * 1024)
    #expect(volume.sectorCount == 64)
    try volume.read(sector: 32, into: unit)
    #expect(throws: VolumeAttachError.shrinking(from: 32 * 1024, to: 16 * 1024)) {
      try volume.grow(toByteCount: 16 * 1024)
    }
    #expect(throws: VolumeAttachError.backendTooSmall(backend: 64 * 1024, needed: 128 * 1024)) {
      try volume.grow(toByteCount: 128 * 1024)
    }
    #expect(throws: VolumeAttachError.backendSize(40 * 1024 + 512)) {
      try volume.grow(toByteCount: 40 * 1024 + 512)
    }
    #expect(throws: VolumeAttachError.backendTooSmall(backend: 64 * 1024, needed: 128 * 1024)) {
      _ = try EncryptedVolume(
        spec: try TestKeys.spec(.bytes4096), kek: try TestKeys.kek(), backend: backend, byteCount: 128 * 1024)
    }
    // Without a size, the whole backend, as a `volume` line has it.
    #expect(try TestKeys.volume(backend, .bytes4096).sectorCount == 128)
  }
}
