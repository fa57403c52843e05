/// Why a guest-memory table or a guest address was refused. Addresses come
/// from the guest or the frontend and are hostile: every one of these is an
/// ordinary, counted outcome, never a trap.
public enum GuestMemoryError: Error, Equatable, CustomStringConvertible {
  /// More regions than `GuestMemory.maximumRegionCount`.
  case tooManyRegions(Int)
  /// A region of size zero.
  case emptyRegion(guestPhysical: UInt64)
  /// `address + size` overflows 64 bits (guest-physical or frontend space).
  case regionWrapsAround(guestPhysical: UInt64)
  /// Two regions share guest-physical or frontend addresses.
  case overlappingRegions(UInt64, UInt64)
  /// The range is not inside guest memory (or its length is negative or
  /// makes the end overflow).
  case outOfBounds(guestPhysical: UInt64, count: Int)
  /// The range starts in one region and runs into the next one, which is
  /// mapped elsewhere in this process: it cannot be one pointer range.
  case crossesRegions(guestPhysical: UInt64, count: Int)
  /// A frontend (vhost-user) address that no region covers.
  case unmappedFrontendAddress(UInt64)

  public var description: String {
    switch self {
    case .tooManyRegions(let n): return "too many guest memory regions: " + String(n)
    case .emptyRegion(let a): return "empty guest memory region at 0x" + String(a, radix: 16)
    case .regionWrapsAround(let a):
      return "guest memory region at 0x" + String(a, radix: 16) + " wraps around"
    case .overlappingRegions(let a, let b):
      return "guest memory regions at 0x" + String(a, radix: 16) + " and 0x" + String(b, radix: 16)
        + " overlap"
    case .outOfBounds(let a, let n):
      return "guest range 0x" + String(a, radix: 16) + "+" + String(n) + " is outside guest memory"
    case .crossesRegions(let a, let n):
      return "guest range 0x" + String(a, radix: 16) + "+" + String(n) + " crosses a region boundary"
    case .unmappedFrontendAddress(let a):
      return "frontend address 0x" + String(a, radix: 16) + " is not mapped"
    }
  }
}
