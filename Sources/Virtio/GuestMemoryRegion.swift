/// One contiguous piece of guest RAM as the frontend described it and as it
/// is mapped in this process.
///
/// `frontendAddress` is the frontend's own userspace address of the region
/// (vhost-user gives ring addresses in that space, not as guest-physical
/// addresses); `base` is where the region is mapped here. Whoever maps the
/// region keeps `base ..< base + size` mapped for as long as a `GuestMemory`
/// built from it is in use.
public struct GuestMemoryRegion: Equatable {
  public var guestPhysicalAddress: UInt64
  public var size: UInt64
  public var frontendAddress: UInt64
  public var base: UnsafeMutableRawPointer

  public init(
    guestPhysicalAddress: UInt64, size: UInt64, frontendAddress: UInt64, base: UnsafeMutableRawPointer
  ) {
    self.guestPhysicalAddress = guestPhysicalAddress
    self.size = size
    self.frontendAddress = frontendAddress
    self.base = base
  }

  /// One past the last guest-physical address (the constructor of
  /// `GuestMemory` has checked that it does not overflow).
  @inlinable var guestPhysicalEnd: UInt64 { guestPhysicalAddress &+ size }
  @inlinable var frontendEnd: UInt64 { frontendAddress &+ size }
}
