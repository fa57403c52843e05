/// Why a vhost-user message was refused. Every case is something a
/// front-end controls: the session counts it and answers with an error
/// (REPLY_ACK) or drops the connection, never traps.
public enum VhostUserError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Fewer than 12 header bytes.
  case truncatedHeader
  /// The header's version bits are not 1 (vhost-user.rst: "the lower 2 bits
  /// ... version, currently 0x1").
  case unsupportedVersion(flags: UInt32)
  /// A payload larger than any message this back-end accepts.
  case payloadTooLarge(size: UInt32)
  /// A request code this back-end does not know.
  case unknownRequest(UInt32)
  /// A known request that this back-end refuses (e.g. dirty logging).
  case unsupportedRequest(VhostUserRequest)
  /// The payload size does not match what the request carries.
  case payloadSizeMismatch(VhostUserRequest, size: UInt32)
  /// More descriptors than the request carries.
  case tooManyFDs(VhostUserRequest, count: Int)
  /// A descriptor the request needs was not sent.
  case missingFD(VhostUserRequest)
  /// A memory table with more regions than slots.
  case tooManyRegions(count: UInt32)
  /// A region of size zero, or whose end overflows 64 bits.
  case invalidRegion(guestAddress: UInt64, size: UInt64)
  /// Two regions overlap in guest-physical or front-end address space.
  case overlappingRegions
  /// A region larger than its file, or than this back-end maps.
  case regionTooLarge(size: UInt64)
  /// The memory file could not be mapped.
  case mapFailed(errno: Int32)
  /// REM_MEM_REG named a region that is not in the table.
  case regionNotFound(guestAddress: UInt64)
  /// A ring index beyond the queues this device has.
  case invalidQueueIndex(UInt32)
  /// A ring size that is zero, not a power of two, or above the maximum.
  case invalidQueueSize(UInt32)
  /// A ring's structures are not inside one mapped region, or misaligned.
  case ringOutsideMemory(queue: UInt32)
  /// A packed ring's base (SET_VRING_BASE) names a slot beyond the ring.
  case invalidRingBase(queue: UInt32, base: UInt32)
  /// The device could not serve a ring the session had checked.
  case deviceRefusedRing(queue: UInt32)
  /// A config access outside the device's config space.
  case invalidConfigAccess(offset: UInt32, size: UInt32)
  /// A message that needs the memory table before it.
  case noMemoryTable
  /// SET_FEATURES with bits the back-end did not offer.
  case unofferedFeatures(UInt64)
  /// The front-end sent a message the negotiated features do not allow.
  case protocolViolation(VhostUserRequest)

  public var description: String {
    switch self {
    case .truncatedHeader: return "vhost-user: header shorter than 12 bytes"
    case .unsupportedVersion(let f):
      return "vhost-user: header flags " + hex(UInt64(f)) + " name no version 1"
    case .payloadTooLarge(let s): return "vhost-user: payload of " + String(s) + " bytes is too large"
    case .unknownRequest(let r): return "vhost-user: unknown request " + String(r)
    case .unsupportedRequest(let r): return "vhost-user: " + r.description + " is not supported"
    case .payloadSizeMismatch(let r, let s):
      return "vhost-user: " + r.description + " with a payload of " + String(s) + " bytes"
    case .tooManyFDs(let r, let n): return "vhost-user: " + r.description + " with " + String(n) + " fds"
    case .missingFD(let r): return "vhost-user: " + r.description + " without its fd"
    case .tooManyRegions(let n): return "vhost-user: memory table of " + String(n) + " regions"
    case .invalidRegion(let a, let s):
      return "vhost-user: invalid region at " + hex(a) + " of " + String(s) + " bytes"
    case .overlappingRegions: return "vhost-user: memory regions overlap"
    case .regionTooLarge(let s):
      return "vhost-user: region of " + String(s) + " bytes is larger than its file"
    case .mapFailed(let e): return "vhost-user: mmap failed, errno " + String(e)
    case .regionNotFound(let a): return "vhost-user: no region at " + hex(a)
    case .invalidQueueIndex(let i): return "vhost-user: no queue " + String(i)
    case .invalidQueueSize(let n): return "vhost-user: invalid queue size " + String(n)
    case .ringOutsideMemory(let q): return "vhost-user: ring " + String(q) + " lies outside guest memory"
    case .invalidRingBase(let q, let b):
      return "vhost-user: ring " + String(q) + " base " + hex(UInt64(b)) + " is beyond the ring"
    case .deviceRefusedRing(let q): return "vhost-user: the device refused ring " + String(q)
    case .invalidConfigAccess(let o, let s):
      return "vhost-user: config access at " + String(o) + " of " + String(s) + " bytes"
    case .noMemoryTable: return "vhost-user: no memory table yet"
    case .unofferedFeatures(let f): return "vhost-user: features " + hex(f) + " were not offered"
    case .protocolViolation(let r): return "vhost-user: " + r.description + " is not allowed now"
    }
  }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
