/// Guest memory as the front-end described it: regions of memory files
/// mapped into this process. Translates guest-physical addresses (in
/// descriptors) and front-end virtual addresses (in SET_VRING_ADDR) to
/// pointers, each only if the whole range lies inside one region.
public struct MemoryTable: Sendable {
  public struct Region: Equatable, Sendable {
    public var description: MemoryRegionDescription
    /// Start of the mapping (the file's offset 0).
    public var mappingBase: UInt
    public var mappingLength: UInt64
    /// The region's first byte: mappingBase + mmapOffset.
    public var hostAddress: UInt { mappingBase + UInt(description.mmapOffset) }
    public var guestAddress: UInt64 { description.guestAddress }
    public var size: UInt64 { description.size }
  }

  /// The largest region this back-end maps (1 TiB): bigger is refused
  /// before mmap.
  public static let maximumRegionSize: UInt64 = 1 << 40

  public private(set) var regions: [Region] = []

  public init() {}

  public var isEmpty: Bool { regions.isEmpty }

  /// Checks one region alone: non-empty, no 64-bit overflow, not huge.
  static func validate(_ r: MemoryRegionDescription) throws(VhostUserError) {
    guard r.size > 0, r.guestAddress <= UInt64.max - (r.size - 1), r.userAddress <= UInt64.max - (r.size - 1),
      r.mmapOffset <= UInt64.max - r.size
    else { throw .invalidRegion(guestAddress: r.guestAddress, size: r.size) }
    guard r.size <= maximumRegionSize, r.mmapOffset <= maximumRegionSize else {
      throw .regionTooLarge(size: r.size)
    }
  }

  /// Checks that `r` overlaps none of `others`, in either address space.
  static func checkDisjoint(_ r: MemoryRegionDescription, from others: [MemoryRegionDescription])
    throws(VhostUserError)
  {
    for o in others {
      if overlaps(r.guestAddress, r.size, o.guestAddress, o.size)
        || overlaps(r.userAddress, r.size, o.userAddress, o.size)
      {
        throw .overlappingRegions
      }
    }
  }

  private static func overlaps(_ a: UInt64, _ aSize: UInt64, _ b: UInt64, _ bSize: UInt64) -> Bool {
    // Sizes are non-zero and ends do not overflow (validate ran).
    a <= b + (bSize - 1) && b <= a + (aSize - 1)
  }

  /// Maps `r` from `fd` and adds it. The caller validated it and checked it
  /// against the table. The descriptor is closed either way.
  mutating func map<Host: HostResources>(_ r: MemoryRegionDescription, fd: Int32, host: inout Host)
    throws(VhostUserError)
  {
    defer { host.close(fd: fd) }
    let length = r.mmapOffset + r.size
    let base = try host.mapMemoryFile(fd: fd, length: length)
    regions.append(Region(description: r, mappingBase: UInt(bitPattern: base), mappingLength: length))
  }

  /// Unmaps every region.
  mutating func removeAll<Host: HostResources>(host: inout Host) {
    for r in regions { host.unmap(pointer(r.mappingBase), length: r.mappingLength) }
    regions.removeAll()
  }

  /// Unmaps and removes the region `r` describes (REM_MEM_REG matches by
  /// guest address, size and front-end address).
  mutating func remove<Host: HostResources>(_ r: MemoryRegionDescription, host: inout Host)
    throws(VhostUserError)
  {
    guard
      let i = regions.firstIndex(where: {
        $0.guestAddress == r.guestAddress && $0.size == r.size && $0.description.userAddress == r.userAddress
      })
    else { throw .regionNotFound(guestAddress: r.guestAddress) }
    host.unmap(pointer(regions[i].mappingBase), length: regions[i].mappingLength)
    regions.remove(at: i)
  }

  /// A pointer to `length` bytes at front-end virtual address `address`,
  /// if they lie inside one region.
  public func hostAddress(forUserAddress address: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
    for r in regions {
      let start = r.description.userAddress
      if address >= start, length <= r.size, address - start <= r.size - length {
        return pointer(r.hostAddress + UInt(address - start))
      }
    }
    return nil
  }

  /// A pointer to `length` bytes at guest-physical address `address`, if
  /// they lie inside one region.
  public func hostAddress(forGuestAddress address: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
    for r in regions {
      if address >= r.guestAddress, length <= r.size, address - r.guestAddress <= r.size - length {
        return pointer(r.hostAddress + UInt(address - r.guestAddress))
      }
    }
    return nil
  }

  private func pointer(_ address: UInt) -> UnsafeMutableRawPointer {
    // Sound: every address here lies inside a live mapping of this table.
    UnsafeMutableRawPointer(bitPattern: address)!
  }
}
