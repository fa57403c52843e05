import Testing

@testable import Virtio

/// Two adjacent regions and one far away, over one host allocation per region.
final class ThreeRegions {
  let blocks: [UnsafeMutableRawPointer]
  let memory: GuestMemory

  init() throws {
    blocks = (0..<3).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 0x1000, alignment: 64) }
    memory = try GuestMemory(regions: [
      GuestMemoryRegion(
        guestPhysicalAddress: 0x1_0000, size: 0x1000, frontendAddress: 0x7000_0000, base: blocks[2]),
      GuestMemoryRegion(
        guestPhysicalAddress: 0x0, size: 0x1000, frontendAddress: 0x5000_0000, base: blocks[0]),
      GuestMemoryRegion(
        guestPhysicalAddress: 0x1000, size: 0x1000, frontendAddress: 0x6000_0000, base: blocks[1]),
    ])
  }

  deinit { for b in blocks { b.deallocate() } }
}

@Suite struct GuestMemoryTests {
  @Test func translatesInsideARegion() throws {
    let m = try ThreeRegions()
    let b = try m.memory.bytes(guestPhysical: 0x1010, count: 16)
    #expect(b.baseAddress == m.blocks[1] + 0x10)
    #expect(b.count == 16)
    let last = try m.memory.bytes(guestPhysical: 0x1_0fff, count: 1)
    #expect(last.baseAddress == m.blocks[2] + 0xfff)
  }

  @Test func refusesOutOfBoundsAndOverflow() throws {
    let m = try ThreeRegions()
    #expect(throws: GuestMemoryError.outOfBounds(guestPhysical: 0x2000, count: 1)) {
      try m.memory.bytes(guestPhysical: 0x2000, count: 1)
    }
    #expect(throws: GuestMemoryError.outOfBounds(guestPhysical: 0x1_0ff0, count: 0x20)) {
      try m.memory.bytes(guestPhysical: 0x1_0ff0, count: 0x20)
    }
    #expect(throws: GuestMemoryError.outOfBounds(guestPhysical: UInt64.max, count: 2)) {
      try m.memory.bytes(guestPhysical: UInt64.max, count: 2)
    }
    #expect(throws: GuestMemoryError.outOfBounds(guestPhysical: 0x10, count: -1)) {
      try m.memory.bytes(guestPhysical: 0x10, count: -1)
    }
    #expect(throws: GuestMemoryError.outOfBounds(guestPhysical: 0x10, count: Int.max)) {
      try m.memory.bytes(guestPhysical: 0x10, count: Int.max)
    }
  }

  @Test func aRangeAcrossAdjacentRegionsIsNotOnePointer() throws {
    let m = try ThreeRegions()
    #expect(throws: GuestMemoryError.crossesRegions(guestPhysical: 0xff0, count: 0x20)) {
      try m.memory.bytes(guestPhysical: 0xff0, count: 0x20)
    }
    let prefix = try m.memory.contiguousBytes(guestPhysical: 0xff0, upTo: 0x20)
    #expect(prefix.count == 0x10 && prefix.baseAddress == m.blocks[0] + 0xff0)
  }

  @Test func translatesFrontendAddresses() throws {
    let m = try ThreeRegions()
    #expect(try m.memory.guestPhysical(frontendAddress: 0x6000_0010) == 0x1010)
    #expect(try m.memory.guestPhysical(frontendAddress: 0x7000_0fff) == 0x1_0fff)
    #expect(throws: GuestMemoryError.unmappedFrontendAddress(0x6000_1000)) {
      try m.memory.guestPhysical(frontendAddress: 0x6000_1000)
    }
  }

  @Test func refusesBadTables() {
    let p = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    defer { p.deallocate() }
    func region(_ gpa: UInt64, _ size: UInt64, _ fe: UInt64) -> GuestMemoryRegion {
      GuestMemoryRegion(guestPhysicalAddress: gpa, size: size, frontendAddress: fe, base: p)
    }
    #expect(throws: GuestMemoryError.overlappingRegions(0, 0x800)) {
      try GuestMemory(regions: [region(0, 0x1000, 0), region(0x800, 0x1000, 0x10000)])
    }
    #expect(throws: GuestMemoryError.overlappingRegions(0, 0x1000)) {
      try GuestMemory(regions: [region(0, 0x1000, 0), region(0x1000, 0x1000, 0x800)])
    }
    #expect(throws: GuestMemoryError.emptyRegion(guestPhysical: 0)) {
      try GuestMemory(regions: [region(0, 0, 0)])
    }
    #expect(throws: GuestMemoryError.regionWrapsAround(guestPhysical: UInt64.max - 4)) {
      try GuestMemory(regions: [region(UInt64.max - 4, 16, 0)])
    }
    let many = (0..<65).map { region(UInt64($0) << 20, 16, UInt64($0) << 20) }
    #expect(throws: GuestMemoryError.tooManyRegions(65)) { try GuestMemory(regions: many) }
  }
}
