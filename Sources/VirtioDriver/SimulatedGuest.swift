import Virtio

/// A guest's RAM for tests, benchmarks, the fuzzer and the self-test: one
/// zeroed allocation at a guest-physical base, carved up by a bump
/// allocator the way a driver allocates rings and buffers.
///
/// Unsafe code: `pointer(_:)` checks that the range is inside the
/// allocation, which lives as long as this object.
public final class SimulatedGuest {
  public let base: UnsafeMutableRawPointer
  public let size: Int
  public let guestPhysicalBase: UInt64
  /// An arbitrary frontend address for the region (vhost-user style).
  public let frontendBase: UInt64
  public private(set) var allocated = 0
  public let memory: GuestMemory

  public init(size: Int, guestPhysicalBase: UInt64 = 0x4000_0000, frontendBase: UInt64 = 0x7f00_0000_0000) {
    precondition(size > 0)
    self.size = size
    self.guestPhysicalBase = guestPhysicalBase
    self.frontendBase = frontendBase
    base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    let region = GuestMemoryRegion(
      guestPhysicalAddress: guestPhysicalBase, size: UInt64(size), frontendAddress: frontendBase, base: base)
    do {
      memory = try GuestMemory(regions: [region])
    } catch {
      preconditionFailure("one region cannot be refused")
    }
  }

  deinit { base.deallocate() }

  public var region: GuestMemoryRegion { memory.region(0) }

  /// `count` bytes aligned to `alignment` (a power of two); their
  /// guest-physical address.
  public func allocate(_ count: Int, alignment: Int = 16) -> UInt64 {
    let start = (allocated + alignment - 1) & ~(alignment - 1)
    precondition(start + count <= size, "simulated guest is out of memory")
    allocated = start + count
    return guestPhysicalBase + UInt64(start)
  }

  /// Where guest-physical `address` is in this process.
  public func pointer(_ address: UInt64, count: Int = 1) -> UnsafeMutableRawPointer {
    precondition(address >= guestPhysicalBase && Int(address - guestPhysicalBase) + count <= size)
    return base + Int(address - guestPhysicalBase)
  }

  public func bytes(_ address: UInt64, count: Int) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: pointer(address, count: count), count: count)
  }
}
