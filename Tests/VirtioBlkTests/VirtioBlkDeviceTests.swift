import BlockStorage
import Testing
import Virtio

@testable import VirtioBlk

@Suite struct VirtioBlkDeviceTests {
  let guest: TestGuest
  let backend: MemoryBackend
  let device: VirtioBlkDevice<PlainStore<MemoryBackend>>

  init() throws {
    guest = try TestGuest()
    backend = MemoryBackend(byteCount: 256 * 1024)
    device = VirtioBlkDevice(store: PlainStore(backend: backend), serial: "vol-0001")
    try device.activateQueue(0, ring: try guest.ring())
  }

  /// Submits a request with the header and data in separate descriptors
  /// and a 1-byte status descriptor; returns (status, used length).
  func request(
    _ type: UInt32, sector: UInt64, write data: [UInt8] = [], readLength: Int = 0
  ) -> (status: UInt8, length: UInt32, data: [UInt8]) {
    var parts: [(address: UInt64, length: UInt32, writable: Bool)] = [
      (guest.buffer(TestGuest.header(type, sector: sector)), 16, false)
    ]
    if !data.isEmpty { parts.append((guest.buffer(data), UInt32(data.count), false)) }
    var readAddress: UInt64 = 0
    if readLength > 0 {
      readAddress = guest.buffer([UInt8](repeating: 0xee, count: readLength))
      parts.append((readAddress, UInt32(readLength), true))
    }
    let statusAddress = guest.buffer([0xff])
    parts.append((statusAddress, 1, true))
    guest.submit(parts)
    _ = device.processQueue(0)
    let done = guest.completions()
    let status = guest.bytes(at: statusAddress, count: 1)[0]
    return (
      status, done.last?.length ?? 0, readLength > 0 ? guest.bytes(at: readAddress, count: readLength) : []
    )
  }

  @Test func writesAndReadsRoundTrip() {
    let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let w = request(1, sector: 8, write: data)
    #expect(w.status == 0)
    #expect(w.length == 1)
    #expect(Array(backend.bytes[4096..<8192]) == data)
    let r = request(0, sector: 8, readLength: 4096)
    #expect(r.status == 0)
    #expect(r.length == 4097)
    #expect(r.data == data)
  }

  /// The header split 3 + 13 bytes, the data in odd pieces, the status in
  /// the last byte of a longer writable descriptor (§2.6.4: any framing).
  @Test func anyDescriptorFramingIsAccepted() {
    let header = TestGuest.header(1, sector: 2)
    let data = [UInt8](repeating: 0x5a, count: 1024)
    guest.submit([
      (guest.buffer(Array(header[0..<3])), 3, false),
      (guest.buffer(Array(header[3...]) + data[0..<100]), 113, false),
      (guest.buffer(Array(data[100...])), 924, false), (guest.buffer([0xff]), 1, true),
    ])
    _ = device.processQueue(0)
    #expect(guest.completions().count == 1)
    #expect(Array(backend.bytes[1024..<2048]) == data)
  }

  @Test func flushAndGetID() {
    #expect(request(4, sector: 0).status == 0)
    #expect(backend.flushCount == 1)
    let id = request(8, sector: 0, readLength: 20)
    #expect(id.status == 0)
    #expect(id.data == Array("vol-0001".utf8) + [UInt8](repeating: 0, count: 12))
  }

  @Test func malformedRequestsFailAndTheDeviceKeepsServing() {
    let capacity = UInt64(256 * 1024 / 512)
    // Past the end, and a range that straddles it: IOERR, nothing written.
    #expect(request(0, sector: capacity, readLength: 512).status == 1)
    #expect(request(1, sector: capacity - 1, write: [UInt8](repeating: 1, count: 1024)).status == 1)
    #expect(backend.bytes.allSatisfy { $0 == 0 })
    // sector + length wrapping past 2^64.
    #expect(request(0, sector: .max, readLength: 1024).status == 1)
    // Odd length.
    #expect(request(1, sector: 0, write: [UInt8](repeating: 1, count: 100)).status == 1)
    // A read carrying readable data; a write asking for writable data.
    #expect(request(0, sector: 0, write: [UInt8](repeating: 1, count: 512), readLength: 512).status == 1)
    // Unknown type: UNSUPP.
    #expect(request(99, sector: 0).status == 2)
    // DISCARD with the unmap flag: UNSUPP (§5.2.6.2).
    #expect(request(11, sector: 0, write: TestGuest.range(sector: 0, sectors: 8, flags: 1)).status == 2)
    // A range past the end.
    #expect(
      request(13, sector: 0, write: TestGuest.range(sector: capacity, sectors: 8, flags: 0)).status == 1)
    #expect(device.counters.malformed >= 4)
    // Still serving.
    #expect(request(1, sector: 0, write: [UInt8](repeating: 9, count: 512)).status == 0)
    #expect(backend.bytes[0] == 9)
  }

  @Test func aChainWithoutAStatusByteIsReturnedEmpty() {
    guest.submit([(guest.buffer(TestGuest.header(0, sector: 0)), 16, false)])
    _ = device.processQueue(0)
    let done = guest.completions()
    #expect(done.count == 1)
    #expect(done.first?.length == 0)
    #expect(device.counters.withoutStatus == 1)
  }

  @Test func aShortHeaderIsAnIOError() {
    let status = guest.buffer([0xff])
    guest.submit([(guest.buffer([0, 0, 0, 0, 0, 0, 0, 0]), 8, false), (status, 1, true)])
    _ = device.processQueue(0)
    #expect(guest.completions().count == 1)
    #expect(guest.bytes(at: status, count: 1) == [1])
  }

  @Test func discardAndWriteZeroesReachTheStore() {
    backend.bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0x77) }
    #expect(request(13, sector: 4, write: TestGuest.range(sector: 4, sectors: 4, flags: 0)).status == 0)
    #expect(backend.bytes[2048..<4096].allSatisfy { $0 == 0 })
    #expect(backend.bytes[1024] == 0x77 && backend.bytes[4096] == 0x77)
    #expect(request(11, sector: 0, write: TestGuest.range(sector: 16, sectors: 8, flags: 0)).status == 0)
    #expect(device.counters.discards == 1 && device.counters.writeZeroes == 1)
  }

  @Test func theConfigSpaceDescribesTheStore() throws {
    var config = [UInt8](repeating: 0xff, count: VirtioBlkConfiguration.size)
    try config.withUnsafeMutableBytes { try device.readConfig(offset: 0, into: $0) }
    let capacity = config.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    #expect(capacity == 512)
    #expect(config[20] == 0 && config[21] == 2)  // blk_size 512
    #expect(config[34] == 2)  // num_queues
    #expect(device.offeredFeatures & VirtioBlkFeatures.multiQueue != 0)
    #expect(device.offeredFeatures & VirtioBlkFeatures.readOnly == 0)
    #expect(throws: VirtioDeviceError.self) {
      try config.withUnsafeMutableBytes { try device.readConfig(offset: 50, into: $0) }
    }
    #expect(!device.refreshCapacity())
  }

  @Test func aReadOnlyStoreRefusesWritesAndOffersRO() throws {
    let guest = try TestGuest()
    let readOnly = VirtioBlkDevice(
      store: PlainStore(backend: MemoryBackend(byteCount: 8192, isReadOnly: true)), serial: "ro")
    #expect(readOnly.offeredFeatures & VirtioBlkFeatures.readOnly != 0)
    try readOnly.activateQueue(0, ring: try guest.ring())
    let status = guest.buffer([0xff])
    guest.submit([
      (guest.buffer(TestGuest.header(1, sector: 0)), 16, false),
      (guest.buffer([UInt8](repeating: 1, count: 512)), 512, false),
      (status, 1, true),
    ])
    _ = readOnly.processQueue(0)
    #expect(guest.bytes(at: status, count: 1) == [1])
  }
}
