import Testing
import VirtioDriver

@testable import Virtio

final class PackedFixture {
  let guest = SimulatedGuest(size: 1 << 20)
  let driver: PackedRingDriver
  let queue: PackedVirtqueue
  let data: UInt64

  init(
    size: UInt16 = 8,
    features: VirtqueueFeatures = [.version1, .ringPacked, .eventIndex, .indirectDescriptors],
    limits: VirtqueueLimits = .standard
  ) throws {
    driver = PackedRingDriver(guest: guest, size: size, eventIndex: features.contains(.eventIndex))
    queue = try PackedVirtqueue(
      addresses: driver.addresses, features: features, memory: guest.memory, start: driver.start,
      limits: limits)
    data = guest.allocate(64 * 1024, alignment: 4096)
  }
}

@Suite struct PackedVirtqueueTests {
  @Test func popsAndCompletesChains() throws {
    let f = try PackedFixture()
    let id = try #require(
      f.driver.add([.readable(f.data, 14), .readable(f.data + 14, 50), .writable(f.data + 4096, 100)]))
    let chain = try #require(try f.queue.nextChain())
    #expect(chain.head == id && chain.ringSlots == 3)
    #expect(chain.readableCount == 2 && chain.readableLength == 64 && chain.writableLength == 100)
    #expect(try f.queue.nextChain() == nil)
    f.queue.complete(chain, writtenLength: 42)
    #expect(f.driver.popUsed() == UsedBuffer(id: id, length: 42))
    #expect(f.driver.freeSlots == 8)
  }

  @Test func wrapsManyLapsWithChainsAcrossTheEnd() throws {
    let f = try PackedFixture(size: 5)
    var expectedLap = true
    for round in 0..<40 {
      // 3 + 1 descriptors: chains straddle the ring end in most laps.
      let a = try #require(
        f.driver.add([.readable(f.data, 8), .readable(f.data + 8, 8), .writable(f.data + 64, 32)]))
      let b = try #require(f.driver.add([.writable(f.data + 128, 16)], indirect: round % 2 == 0))
      let first = try #require(try f.queue.nextChain())
      let second = try #require(try f.queue.nextChain())
      #expect(first.head == a && second.head == b)
      #expect(first.readableLength == 16 && second.writableLength == 16)
      f.queue.complete(second, writtenLength: 16)
      f.queue.complete(first, writtenLength: round)
      #expect(f.driver.popUsed() == UsedBuffer(id: b, length: 16))
      #expect(f.driver.popUsed() == UsedBuffer(id: a, length: UInt32(min(round, 32))))
      #expect(f.driver.popUsed() == nil)
      _ = expectedLap
      expectedLap = f.driver.availWrapCounter
    }
    #expect(f.queue.counters.chainsCompleted == 80 && f.queue.counters.guestErrors == 0)
    #expect(f.queue.start.wrapCounter == f.driver.availWrapCounter)
    #expect(f.queue.start.lastAvailIndex == f.driver.nextAvailIndex)
  }

  @Test func vhostRingBaseCarriesTheWrapCounter() {
    let s = VirtqueueStart(lastAvailIndex: 5, wrapCounter: false)
    #expect(s.vhostRingBase(packed: true) == 5)
    #expect(
      VirtqueueStart(vhostRingBase: 0x8003, packed: true)
        == VirtqueueStart(lastAvailIndex: 3, wrapCounter: true))
    #expect(VirtqueueStart(vhostRingBase: 0x8003, packed: false).lastAvailIndex == 0x8003)
  }

  @Test func resumesFromWhereItStopped() throws {
    let f = try PackedFixture(size: 4)
    for _ in 0..<13 {
      _ = f.driver.add([.readable(f.data, 8)])
      f.queue.complete(try #require(try f.queue.nextChain()), writtenLength: 0)
      #expect(f.driver.popUsed() != nil)
    }
    // GET_VRING_BASE, then SET_VRING_BASE on a new queue.
    let base = f.queue.start.vhostRingBase(packed: true)
    let resumed = try PackedVirtqueue(
      addresses: f.driver.addresses, features: [.version1, .ringPacked], memory: f.guest.memory,
      start: VirtqueueStart(vhostRingBase: base, packed: true))
    let id = try #require(f.driver.add([.readable(f.data, 8)]))
    let chain = try #require(try resumed.nextChain())
    #expect(chain.head == id)
    resumed.complete(chain, writtenLength: 0)
    #expect(f.driver.popUsed()?.id == id)
  }
}

/// Malformed packed chains.
@Suite struct PackedHostileChainTests {
  static let next: UInt16 = 1
  static let write: UInt16 = 2
  static let indirect: UInt16 = 4

  func expectDropped(_ error: VirtqueueError, slots: Int, _ build: (PackedFixture, UInt16) -> Void) throws {
    let f = try PackedFixture()
    build(f, f.driver.availableFlags)
    #expect(throws: error) { try f.queue.nextChain() }
    #expect(f.queue.counters.chainsDropped == 1 && f.queue.counters.guestErrors == 1 && !f.queue.isBroken)
    #expect(f.queue.start.lastAvailIndex == UInt16(slots))
    // Given back at slot 0 with the id of the chain's last descriptor.
    let used = try #require(f.driver.popUsed())
    #expect(used.id == 77 && used.length == 0)
    f.driver.skip(slots)
    let id = try #require(f.driver.add([.readable(f.data, 4)]))
    #expect(try f.queue.nextChain()?.head == id)
  }

  @Test func zeroLength() throws {
    try expectDropped(.zeroLengthDescriptor, slots: 1) { f, a in
      f.driver.writeDescriptor(0, address: f.data, length: 0, id: 77, flags: a)
    }
  }

  @Test func readableAfterWritableInChain() throws {
    try expectDropped(.readableAfterWritable, slots: 3) { f, a in
      f.driver.writeDescriptor(1, address: f.data, length: 4, id: 77, flags: a | Self.next)
      f.driver.writeDescriptor(2, address: f.data, length: 4, id: 77, flags: a)
      f.driver.writeDescriptor(0, address: f.data, length: 4, id: 77, flags: a | Self.write | Self.next)
    }
  }

  @Test func hugeLength() throws {
    try expectDropped(.chainLengthExceeded, slots: 1) { f, a in
      f.driver.writeDescriptor(0, address: f.data, length: .max, id: 77, flags: a)
    }
  }

  @Test func outOfGuestMemory() throws {
    try expectDropped(.bufferOutOfBounds(.outOfBounds(guestPhysical: 8, count: 4)), slots: 2) { f, a in
      f.driver.writeDescriptor(1, address: 8, length: 4, id: 77, flags: a)
      f.driver.writeDescriptor(0, address: f.data, length: 4, id: 77, flags: a | Self.next)
    }
  }

  @Test func indirectInChain() throws {
    try expectDropped(.indirectInChain, slots: 2) { f, a in
      f.driver.writeDescriptor(1, address: f.data, length: 16, id: 77, flags: a | Self.indirect)
      f.driver.writeDescriptor(0, address: f.data, length: 4, id: 77, flags: a | Self.next)
    }
  }

  @Test func indirectWithNext() throws {
    try expectDropped(.indirectWithNext, slots: 2) { f, a in
      f.driver.writeDescriptor(1, address: f.data, length: 4, id: 77, flags: a)
      f.driver.writeDescriptor(0, address: f.data, length: 16, id: 77, flags: a | Self.indirect | Self.next)
    }
  }

  @Test func indirectMisaligned() throws {
    try expectDropped(.indirectTableLength(20), slots: 1) { f, a in
      f.driver.writeDescriptor(0, address: f.data, length: 20, id: 77, flags: a | Self.indirect)
    }
  }

  @Test func indirectOutOfRange() throws {
    try expectDropped(.indirectTableOutOfBounds(.outOfBounds(guestPhysical: 0x10, count: 32)), slots: 1) {
      f, a in
      f.driver.writeDescriptor(0, address: 0x10, length: 32, id: 77, flags: a | Self.indirect)
    }
  }

  @Test func nestedIndirect() throws {
    try expectDropped(.nestedIndirect, slots: 1) { f, a in
      let t = f.guest.pointer(f.data + 1024, count: 16)
      t.storeBytes(of: f.data.littleEndian, as: UInt64.self)
      t.storeBytes(of: UInt32(16).littleEndian, toByteOffset: 8, as: UInt32.self)
      t.storeBytes(of: Self.indirect.littleEndian, toByteOffset: 14, as: UInt16.self)
      f.driver.writeDescriptor(0, address: f.data + 1024, length: 16, id: 77, flags: a | Self.indirect)
    }
  }

  @Test func indirectNotNegotiated() throws {
    let f = try PackedFixture(features: [.version1, .ringPacked])
    f.driver.writeDescriptor(
      0, address: f.data, length: 16, id: 3, flags: f.driver.availableFlags | Self.indirect)
    #expect(throws: VirtqueueError.indirectNotNegotiated) { try f.queue.nextChain() }
    #expect(f.queue.counters.indirectErrors == 1)
  }

  @Test func unterminatedChainBreaksTheQueue() throws {
    let f = try PackedFixture()
    let a = f.driver.availableFlags
    for slot in 0..<8 {
      f.driver.writeDescriptor(slot, address: f.data, length: 4, id: 1, flags: a | Self.next)
    }
    #expect(throws: VirtqueueError.packedChainUnterminated) { try f.queue.nextChain() }
    #expect(f.queue.isBroken && f.queue.counters.unterminatedChains == 1)
    #expect(try f.queue.nextChain() == nil)
  }

  @Test func descriptorNotYetAvailableIsNotRead() throws {
    let f = try PackedFixture()
    // Written with the other lap's bits: not available.
    f.driver.writeDescriptor(0, address: 0, length: 0, id: 1, flags: f.driver.availableFlags ^ 0x8080)
    #expect(try f.queue.nextChain() == nil)
    #expect(f.queue.counters.guestErrors == 0)
  }
}
