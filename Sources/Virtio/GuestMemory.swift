/// The guest's RAM as a small table of mapped regions: the only way any
/// code touches guest memory.
///
/// Unsafe code: every pointer handed out is `region.base + offset` with
/// `offset + count <= region.size`, checked here with overflow-safe
/// arithmetic; the region's mapping is kept alive by its owner (see
/// `GuestMemoryRegion`). The guest may change the bytes at any time, so
/// callers read each field once into a local and validate the local.
///
/// A table is immutable: a new memory layout (vhost-user SET_MEM_TABLE)
/// is a new `GuestMemory`, handed to the queues with `remap(memory:)`.
public final class GuestMemory {
  /// vhost-user's SET_MEM_TABLE carries at most 8; ADD_MEM_REG allows more.
  public static let maximumRegionCount = 64

  /// Sorted by guest-physical address; allocated once.
  @usableFromInline let regions: UnsafeMutablePointer<GuestMemoryRegion>
  public let regionCount: Int

  public init(regions input: [GuestMemoryRegion]) throws(GuestMemoryError) {
    guard input.count <= Self.maximumRegionCount else { throw .tooManyRegions(input.count) }
    var sorted = input
    sorted.sort { $0.guestPhysicalAddress < $1.guestPhysicalAddress }
    for r in sorted {
      guard r.size > 0 else { throw .emptyRegion(guestPhysical: r.guestPhysicalAddress) }
      let (_, gpaOverflow) = r.guestPhysicalAddress.addingReportingOverflow(r.size)
      let (_, feOverflow) = r.frontendAddress.addingReportingOverflow(r.size)
      guard !gpaOverflow, !feOverflow, r.size <= UInt64(Int.max) else {
        throw .regionWrapsAround(guestPhysical: r.guestPhysicalAddress)
      }
    }
    for i in sorted.indices {
      for j in sorted.indices where j > i {
        let a = sorted[i]
        let b = sorted[j]
        let physical =
          a.guestPhysicalAddress < b.guestPhysicalEnd && b.guestPhysicalAddress < a.guestPhysicalEnd
        let frontend = a.frontendAddress < b.frontendEnd && b.frontendAddress < a.frontendEnd
        if physical || frontend { throw .overlappingRegions(a.guestPhysicalAddress, b.guestPhysicalAddress) }
      }
    }
    regionCount = sorted.count
    regions = UnsafeMutablePointer<GuestMemoryRegion>.allocate(capacity: max(1, sorted.count))
    for (i, r) in sorted.enumerated() { (regions + i).initialize(to: r) }
  }

  deinit {
    regions.deinitialize(count: regionCount)
    regions.deallocate()
  }

  public func region(_ index: Int) -> GuestMemoryRegion {
    precondition(index >= 0 && index < regionCount)
    return regions[index]
  }

  /// The region holding `address`, or nil. Per packet (a few regions: a
  /// linear scan beats a search).
  @inlinable
  func regionIndex(containing address: UInt64) -> Int? {
    var i = 0
    while i < regionCount {
      let r = regions[i]
      if address >= r.guestPhysicalAddress && address - r.guestPhysicalAddress < r.size { return i }
      i += 1
    }
    return nil
  }

  /// `count` bytes of guest memory at `guestPhysical`, in one region.
  /// Per packet.
  @inlinable
  public func bytes(guestPhysical: UInt64, count: Int) throws(GuestMemoryError)
    -> UnsafeMutableRawBufferPointer
  {
    guard count >= 0, let i = regionIndex(containing: guestPhysical) else {
      throw .outOfBounds(guestPhysical: guestPhysical, count: count)
    }
    let r = regions[i]
    let offset = guestPhysical - r.guestPhysicalAddress
    guard UInt64(count) <= r.size - offset else {
      // Distinguish a range that runs on into an adjacent region (legal
      // for the guest, but not one pointer range) from plain garbage.
      if i + 1 < regionCount && regions[i + 1].guestPhysicalAddress == r.guestPhysicalEnd
        && UInt64(count) - (r.size - offset) <= regions[i + 1].size
      {
        throw .crossesRegions(guestPhysical: guestPhysical, count: count)
      }
      throw .outOfBounds(guestPhysical: guestPhysical, count: count)
    }
    // Sound: offset + count <= size, checked above without overflow.
    return UnsafeMutableRawBufferPointer(start: r.base + Int(offset), count: count)
  }

  /// The longest prefix (at most `count` bytes) of the range at
  /// `guestPhysical` that lies in one region: how a descriptor that spans
  /// adjacent regions is split into segments. Per packet.
  @inlinable
  public func contiguousBytes(guestPhysical: UInt64, upTo count: Int) throws(GuestMemoryError)
    -> UnsafeMutableRawBufferPointer
  {
    guard count >= 0, let i = regionIndex(containing: guestPhysical) else {
      throw .outOfBounds(guestPhysical: guestPhysical, count: count)
    }
    let r = regions[i]
    let offset = guestPhysical - r.guestPhysicalAddress
    let available = r.size - offset
    let take = UInt64(count) < available ? count : Int(available)
    // Sound: offset + take <= size.
    return UnsafeMutableRawBufferPointer(start: r.base + Int(offset), count: take)
  }

  /// Translates a frontend (vhost-user) userspace address, as used for
  /// ring addresses, to a guest-physical address.
  public func guestPhysical(frontendAddress: UInt64) throws(GuestMemoryError) -> UInt64 {
    var i = 0
    while i < regionCount {
      let r = regions[i]
      if frontendAddress >= r.frontendAddress && frontendAddress - r.frontendAddress < r.size {
        return r.guestPhysicalAddress + (frontendAddress - r.frontendAddress)
      }
      i += 1
    }
    throw .unmappedFrontendAddress(frontendAddress)
  }
}
