import Testing
import VirtioDriver

@testable import Virtio

/// A guest with one split ring and data buffers, and the device's queue on it.
final class SplitFixture {
  let guest = SimulatedGuest(size: 1 << 20)
  let driver: SplitRingDriver
  let queue: SplitVirtqueue
  let data: UInt64

  init(
    size: UInt16 = 8, features: VirtqueueFeatures = [.version1, .eventIndex, .indirectDescriptors],
    startIndex: UInt16 = 0, limits: VirtqueueLimits = .standard
  ) throws {
    driver = SplitRingDriver(
      guest: guest, size: size, eventIndex: features.contains(.eventIndex), startIndex: startIndex)
    queue = try SplitVirtqueue(
      addresses: driver.addresses, features: features, memory: guest.memory, start: driver.start,
      limits: limits)
    data = guest.allocate(64 * 1024, alignment: 4096)
  }

  func fill(_ address: UInt64, _ bytes: [UInt8]) {
    let p = guest.bytes(address, count: bytes.count)
    for (i, b) in bytes.enumerated() { p[i] = b }
  }

  func read(_ address: UInt64, _ count: Int) -> [UInt8] {
    [UInt8](UnsafeRawBufferPointer(guest.bytes(address, count: count)))
  }
}

@Suite struct SplitVirtqueueTests {
  @Test func popsAChainAndReturnsIt() throws {
    let f = try SplitFixture()
    f.fill(f.data, [1, 2, 3, 4, 5])
    let head = try #require(f.driver.add([.readable(f.data, 5), .writable(f.data + 0x100, 64)]))
    let chain = try #require(try f.queue.nextChain())
    #expect(chain.head == head)
    #expect(chain.readableCount == 1 && chain.writableCount == 1)
    #expect(chain.readableLength == 5 && chain.writableLength == 64)
    #expect(Array(chain.readable(0)) == [1, 2, 3, 4, 5])
    #expect([UInt8](repeating: 9, count: 3).withUnsafeBytes { chain.copyIntoWritable(at: 2, from: $0) } == 3)
    f.queue.complete(chain, writtenLength: 5)
    #expect(try f.queue.nextChain() == nil)
    #expect(f.driver.popUsed() == UsedBuffer(id: head, length: 5))
    #expect(f.read(f.data + 0x100, 5) == [0, 0, 9, 9, 9])
    #expect(f.driver.freeCount == 8)
  }

  @Test func walksIndirectTables() throws {
    let f = try SplitFixture()
    f.fill(f.data, Array(0..<32))
    let head = try #require(
      f.driver.add(
        [.readable(f.data, 10), .readable(f.data + 10, 22), .writable(f.data + 0x200, 8)], indirect: true))
    let chain = try #require(try f.queue.nextChain())
    #expect(chain.head == head && chain.readableCount == 2 && chain.readableLength == 32)
    var out = [UInt8](repeating: 0, count: 32)
    #expect(out.withUnsafeMutableBytes { chain.copyReadable(from: 0, into: $0) } == 32)
    #expect(out == Array(0..<32))
    var tail = [UInt8](repeating: 0, count: 4)
    #expect(tail.withUnsafeMutableBytes { chain.copyReadable(from: 28, into: $0) } == 4)
    #expect(tail == [28, 29, 30, 31])
    f.queue.complete(chain, writtenLength: 100)
    #expect(f.driver.popUsed() == UsedBuffer(id: head, length: 8))
  }

  @Test func indexWrapsAroundSixteenBits() throws {
    let f = try SplitFixture(size: 4, startIndex: 65533)
    for round in 0..<20 {
      let a = try #require(f.driver.add([.writable(f.data, 16)]))
      let b = try #require(f.driver.add([.readable(f.data + 64, 8)]))
      let first = try #require(try f.queue.nextChain())
      let second = try #require(try f.queue.nextChain())
      #expect(first.head == a && second.head == b)
      // Out of order completion.
      f.queue.complete(second, writtenLength: 0)
      f.queue.complete(first, writtenLength: round % 16)
      #expect(f.driver.popUsed()?.id == b)
      #expect(f.driver.popUsed() == UsedBuffer(id: a, length: UInt32(round % 16)))
    }
    #expect(f.queue.lastAvailIndex == 65533 &+ 40)
    #expect(f.queue.counters.chainsCompleted == 40 && f.queue.counters.guestErrors == 0)
  }

  @Test func descriptorSpanningAdjacentRegionsBecomesTwoSegments() throws {
    let first = UnsafeMutableRawPointer.allocate(byteCount: 0x10000, alignment: 4096)
    let second = UnsafeMutableRawPointer.allocate(byteCount: 0x1000, alignment: 4096)
    defer {
      first.deallocate()
      second.deallocate()
    }
    first.initializeMemory(as: UInt8.self, repeating: 0, count: 0x10000)
    second.initializeMemory(as: UInt8.self, repeating: 7, count: 0x1000)
    let memory = try GuestMemory(regions: [
      GuestMemoryRegion(guestPhysicalAddress: 0, size: 0x10000, frontendAddress: 0, base: first),
      GuestMemoryRegion(guestPhysicalAddress: 0x10000, size: 0x1000, frontendAddress: 0x10000, base: second),
    ])
    // A hand-made ring at 0: descriptor 0 covers 0xfff0..<0x10010.
    let addresses = VirtqueueAddresses(size: 4, descriptorTable: 0, driverArea: 0x100, deviceArea: 0x200)
    let queue = try SplitVirtqueue(addresses: addresses, features: [.version1], memory: memory)
    first.storeBytes(of: UInt64(0xfff0).littleEndian, as: UInt64.self)
    first.storeBytes(of: UInt32(0x20).littleEndian, toByteOffset: 8, as: UInt32.self)
    first.storeBytes(of: UInt16(1).littleEndian, toByteOffset: 0x102, as: UInt16.self)
    let chain = try #require(try queue.nextChain())
    #expect(chain.readableCount == 2 && chain.readableLength == 0x20)
    #expect(chain.readable(0).count == 0x10 && chain.readable(1).first == 7)
  }

  @Test func respectsTheChainLengthCap() throws {
    let f = try SplitFixture(limits: VirtqueueLimits(maximumChainLength: 1000))
    _ = f.driver.add([.readable(f.data, 600), .writable(f.data + 4096, 600)])
    #expect(throws: VirtqueueError.chainLengthExceeded) { try f.queue.nextChain() }
    #expect(f.queue.counters.chainLengthsExceeded == 1)
    #expect(f.driver.popUsed()?.length == 0)
  }
}
