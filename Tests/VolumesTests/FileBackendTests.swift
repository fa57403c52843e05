import BlockStorage
import CardCrypto
import Foundation
import Testing

@testable import Volumes

@Suite struct FileBackendTests {
  @Test(arguments: [FileBackend.Allocation.preallocated, .sparse])
  func aFileVolumeRoundTripsWithNoPlaintextInTheFile(allocation: FileBackend.Allocation) throws {
    let directory = try temporaryDirectory("file")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/volume.img"
    let text = pattern(256 * 1024)
    do {
      let volume = try TestKeys.volume(
        try FileBackend(creating: path, byteCount: 4 << 20, allocation: allocation), .bytes4096)
      try volume.write(sector: 2048, text)
      try volume.write(sector: 3, Array(text[0..<1024]))
      try volume.detach()
    }
    let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(file.count == 4 << 20)
    #expect(!contains(file, Array(text[0..<26])), "plaintext in the backing file")
    let volume = try TestKeys.volume(try FileBackend(path: path), .bytes4096)
    #expect(try volume.read(sector: 2048, count: text.count) == text)
    #expect(try volume.read(sector: 3, count: 1024) == Array(text[0..<1024]))
  }

  @Test func preallocationReservesBlocksAndSparseDoesNot() throws {
    let directory = try temporaryDirectory("alloc")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try FileBackend(creating: directory + "/full.img", byteCount: 4 << 20, allocation: .preallocated)
    _ = try FileBackend(creating: directory + "/sparse.img", byteCount: 4 << 20, allocation: .sparse)
    #expect(try allocatedBytes(directory + "/full.img") >= 4 << 20)
    #expect(try allocatedBytes(directory + "/sparse.img") < 4 << 20)
  }

  @Test func discardPunchesHoles() throws {
    let directory = try temporaryDirectory("discard")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/volume.img"
    let volume = try TestKeys.volume(
      try FileBackend(creating: path, byteCount: 4 << 20, allocation: .preallocated), .bytes4096)
    try volume.write(sector: 0, pattern(4 << 20))
    try volume.discard(sector: 0, sectors: 4096)
    try volume.flush()
    #expect(try allocatedBytes(path) <= 2 << 20 + 64 * 1024)
  }

  @Test func theBackendSaysWhetherItBypassesThePageCache() throws {
    let directory = try temporaryDirectory("direct")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let backend = try FileBackend(creating: directory + "/v.img", byteCount: 1 << 20, allocation: .sparse)
    // ext4 and xfs accept O_DIRECT, tmpfs does not: either way I/O works.
    let volume = try TestKeys.volume(backend, .bytes512)
    try volume.write(sector: 1, pattern(1536))
    #expect(try volume.read(sector: 1, count: 1536) == pattern(1536))
    print("file backend: O_DIRECT \(backend.isDirect ? "on" : "off (buffered fallback)")")
  }

  private func allocatedBytes(_ path: String) throws -> Int {
    var info = stat()
    try #require(stat(path, &info) == 0)
    return Int(info.st_blocks) * 512
  }
}
