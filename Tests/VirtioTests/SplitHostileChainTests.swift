import Testing
import VirtioDriver

@testable import Virtio

/// Every malformed split chain a guest can build: each is a typed,
/// counted error; chain errors return the chain with 0 bytes and leave the
/// queue working, ring errors break only this queue.
@Suite struct SplitHostileChainTests {
  static let next: UInt16 = 1
  static let write: UInt16 = 2
  static let indirect: UInt16 = 4

  /// Writes raw descriptors, makes `head` available, and expects `error`
  /// with the chain dropped; then checks a good chain still goes through.
  func expectDropped(
    _ error: VirtqueueError, features: VirtqueueFeatures = [.version1, .indirectDescriptors],
    _ build: (SplitFixture) -> Void
  ) throws {
    let f = try SplitFixture(features: features)
    build(f)
    f.driver.pushAvailable(head: 0)
    #expect(throws: error) { try f.queue.nextChain() }
    #expect(f.queue.counters.chainsDropped == 1)
    #expect(f.queue.counters.guestErrors == 1)
    #expect(!f.queue.isBroken)
    #expect(f.driver.usedIndex == 1)
    // The dropped chain was given back with nothing written.
    let usedElement = f.guest.pointer(f.driver.addresses.deviceArea + 4, count: 8)
    #expect(usedElement.loadUnaligned(as: UInt32.self) == 0)
    #expect(usedElement.loadUnaligned(fromByteOffset: 4, as: UInt32.self) == 0)
    // The queue still works.
    f.driver.writeDescriptor(5, address: f.data, length: 10, flags: 0, next: 0)
    f.driver.pushAvailable(head: 5)
    let good = try #require(try f.queue.nextChain())
    #expect(good.head == 5 && good.readableLength == 10)
  }

  @Test func loop() throws {
    try expectDropped(.chainTooLong) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 4, flags: Self.next, next: 1)
      f.driver.writeDescriptor(1, address: f.data, length: 4, flags: Self.next, next: 0)
    }
  }

  @Test func selfLoop() throws {
    try expectDropped(.chainTooLong) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 4, flags: Self.next, next: 0)
    }
  }

  @Test func nextOutOfRange() throws {
    try expectDropped(.nextOutOfRange(8)) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 4, flags: Self.next, next: 8)
    }
  }

  @Test func zeroLength() throws {
    try expectDropped(.zeroLengthDescriptor) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 0, flags: 0, next: 0)
    }
  }

  @Test func hugeLength() throws {
    try expectDropped(.chainLengthExceeded) { f in
      f.driver.writeDescriptor(0, address: f.data, length: UInt32.max, flags: 0, next: 0)
    }
  }

  @Test func hugeTotalOverSeveralDescriptors() throws {
    try expectDropped(.chainLengthExceeded) { f in
      for i in 0..<7 {
        f.driver.writeDescriptor(
          i, address: f.guest.guestPhysicalBase, length: 1 << 20, flags: i < 6 ? Self.next : 0,
          next: UInt16(i + 1))
      }
    }
  }

  @Test func bufferOutsideGuestMemory() throws {
    try expectDropped(.bufferOutOfBounds(.outOfBounds(guestPhysical: 0x10, count: 4))) { f in
      f.driver.writeDescriptor(0, address: 0x10, length: 4, flags: 0, next: 0)
    }
  }

  @Test func bufferRunningOffTheEnd() throws {
    try expectDropped(.bufferOutOfBounds(.outOfBounds(guestPhysical: 0x4010_0000, count: 16))) { f in
      f.driver.writeDescriptor(0, address: 0x400f_fff0, length: 32, flags: 0, next: 0)
    }
  }

  @Test func readableAfterWritable() throws {
    try expectDropped(.readableAfterWritable) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 4, flags: Self.write | Self.next, next: 1)
      f.driver.writeDescriptor(1, address: f.data, length: 4, flags: 0, next: 0)
    }
  }

  @Test func indirectNotNegotiated() throws {
    try expectDropped(.indirectNotNegotiated, features: [.version1]) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 16, flags: Self.indirect, next: 0)
    }
  }

  @Test func indirectWithNext() throws {
    try expectDropped(.indirectWithNext) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 16, flags: Self.indirect | Self.next, next: 1)
    }
  }

  @Test func indirectTableMisalignedLength() throws {
    try expectDropped(.indirectTableLength(24)) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 24, flags: Self.indirect, next: 0)
    }
  }

  @Test func indirectTableEmpty() throws {
    try expectDropped(.indirectTableLength(0)) { f in
      f.driver.writeDescriptor(0, address: f.data, length: 0, flags: Self.indirect, next: 0)
    }
  }

  @Test func indirectTableOutOfRange() throws {
    try expectDropped(.indirectTableOutOfBounds(.outOfBounds(guestPhysical: 0x9000_0000, count: 32))) { f in
      f.driver.writeDescriptor(0, address: 0x9000_0000, length: 32, flags: Self.indirect, next: 0)
    }
  }

  @Test func nestedIndirect() throws {
    try expectDropped(.nestedIndirect) { f in
      let table = f.guest.pointer(f.data, count: 32)
      table.storeBytes(of: f.data.littleEndian, as: UInt64.self)
      table.storeBytes(of: UInt32(16).littleEndian, toByteOffset: 8, as: UInt32.self)
      table.storeBytes(of: Self.indirect.littleEndian, toByteOffset: 12, as: UInt16.self)
      f.driver.writeDescriptor(0, address: f.data, length: 16, flags: Self.indirect, next: 0)
    }
  }

  @Test func loopInsideIndirectTable() throws {
    try expectDropped(.chainTooLong) { f in
      let table = f.guest.pointer(f.data, count: 32)
      for i in 0..<2 {
        let d = table + 16 * i
        d.storeBytes(of: (f.data + 0x1000).littleEndian, as: UInt64.self)
        d.storeBytes(of: UInt32(8).littleEndian, toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: Self.next.littleEndian, toByteOffset: 12, as: UInt16.self)
        d.storeBytes(of: UInt16(1 - i).littleEndian, toByteOffset: 14, as: UInt16.self)
      }
      f.driver.writeDescriptor(0, address: f.data, length: 32, flags: Self.indirect, next: 0)
    }
  }

  @Test func indirectNextOutOfTable() throws {
    try expectDropped(.nextOutOfRange(2)) { f in
      let d = f.guest.pointer(f.data, count: 32)
      d.storeBytes(of: (f.data + 0x1000).littleEndian, as: UInt64.self)
      d.storeBytes(of: UInt32(8).littleEndian, toByteOffset: 8, as: UInt32.self)
      d.storeBytes(of: Self.next.littleEndian, toByteOffset: 12, as: UInt16.self)
      d.storeBytes(of: UInt16(2).littleEndian, toByteOffset: 14, as: UInt16.self)
      f.driver.writeDescriptor(0, address: f.data, length: 32, flags: Self.indirect, next: 0)
    }
  }

  @Test func availableIndexJumpBreaksOnlyThisQueue() throws {
    let f = try SplitFixture()
    let other = SplitRingDriver(guest: f.guest, size: 8)
    let otherQueue = try SplitVirtqueue(
      addresses: other.addresses, features: [.version1], memory: f.guest.memory)
    f.driver.setAvailableIndex(9)
    #expect(throws: VirtqueueError.availableIndexJumped(from: 0, to: 9)) { try f.queue.nextChain() }
    #expect(f.queue.isBroken && f.queue.brokenReason == .availableIndexJumped(from: 0, to: 9))
    #expect(f.queue.counters.availableIndexJumps == 1 && f.queue.counters.queueBreaks == 1)
    #expect(try f.queue.nextChain() == nil)
    #expect(!f.queue.hasAvailable)
    _ = other.add([.readable(f.data, 4)])
    #expect(try otherQueue.nextChain()?.readableLength == 4)
  }

  @Test func headOutOfRangeBreaksTheQueue() throws {
    let f = try SplitFixture()
    f.driver.pushAvailable(head: 8)
    #expect(throws: VirtqueueError.headOutOfRange(8)) { try f.queue.nextChain() }
    #expect(f.queue.isBroken && f.queue.counters.headsOutOfRange == 1)
    #expect(VirtqueueError.headOutOfRange(8).breaksQueue)
    #expect(!VirtqueueError.chainTooLong.breaksQueue)
  }

  @Test func refusesBadSetUp() throws {
    let guest = SimulatedGuest(size: 1 << 16)
    #expect(throws: VirtqueueError.invalidQueueSize(6)) {
      try SplitVirtqueue(
        addresses: VirtqueueAddresses(
          size: 6, descriptorTable: 0x4000_0000, driverArea: 0x4000_1000, deviceArea: 0x4000_2000),
        features: [], memory: guest.memory)
    }
    #expect(throws: VirtqueueError.misalignedRing(0x4000_0008)) {
      try SplitVirtqueue(
        addresses: VirtqueueAddresses(
          size: 8, descriptorTable: 0x4000_0008, driverArea: 0x4000_1000, deviceArea: 0x4000_2000),
        features: [], memory: guest.memory)
    }
    #expect(throws: VirtqueueError.ringOutOfBounds(.outOfBounds(guestPhysical: 0x4000_fff0, count: 70))) {
      try SplitVirtqueue(
        addresses: VirtqueueAddresses(
          size: 8, descriptorTable: 0x4000_0000, driverArea: 0x4000_1000, deviceArea: 0x4000_fff0),
        features: [], memory: guest.memory)
    }
  }
}
