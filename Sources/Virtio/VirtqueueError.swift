/// What is wrong with a ring or a descriptor chain. Everything here comes
/// from the guest and is counted; see `Docs/virtio.md` for which errors drop
/// one chain and which break the queue.
public enum VirtqueueError: Error, Equatable, CustomStringConvertible {
  // Queue set-up (the frontend's values).
  /// Split sizes must be a power of two up to 32768, packed up to 32768
  /// (§2.7, §2.8).
  case invalidQueueSize(UInt16)
  /// Descriptor table, driver or device area misaligned (§2.7 table 2.1,
  /// §2.8.10.1) or not in guest memory.
  case misalignedRing(UInt64)
  case ringOutOfBounds(GuestMemoryError)

  // Ring errors: the ring itself is inconsistent, so no later chain can be
  // trusted. The queue is broken; the device sets NEEDS_RESET (§2.1.2).
  /// The available index moved more than the queue size past the last one
  /// seen (§2.7.6).
  case availableIndexJumped(from: UInt16, to: UInt16)
  /// A head index in the available ring is not a descriptor (§2.7.6).
  case headOutOfRange(UInt16)
  /// A packed chain whose end is not within `size` descriptors: its extent
  /// is unknown, so the ring position cannot be advanced (§2.8.6).
  case packedChainUnterminated
  /// The slot a packed ring starts at already holds a used descriptor of
  /// the lap its wrap counter names: the start position the front-end gave
  /// (or a resume record) is not where the device stopped (§2.8.1).
  case packedStartInconsistent(UInt16)

  // Chain errors: the chain is completed with 0 bytes written and dropped.
  /// More descriptors than the queue size (direct), the table (indirect) or
  /// `maximumChainSegments`: a loop or a chain the spec forbids (§2.7.5.3.1).
  case chainTooLong
  /// A `next` field past the descriptor table (§2.7.5).
  case nextOutOfRange(UInt16)
  /// A descriptor of length zero.
  case zeroLengthDescriptor
  /// Total chain length over the queue's `maximumChainLength`.
  case chainLengthExceeded
  /// A device-readable descriptor after a device-writable one (§2.7.4.2).
  case readableAfterWritable
  /// A buffer that is not in guest memory.
  case bufferOutOfBounds(GuestMemoryError)
  /// INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated (§2.7.5.3.1).
  case indirectNotNegotiated
  /// INDIRECT inside an indirect table (§2.7.5.3.1).
  case nestedIndirect
  /// INDIRECT and NEXT on one descriptor (§2.7.5.3.1).
  case indirectWithNext
  /// Indirect table length zero or not a multiple of 16 (§2.7.5.3.1).
  case indirectTableLength(UInt32)
  /// Indirect table outside guest memory or across regions.
  case indirectTableOutOfBounds(GuestMemoryError)
  /// A packed indirect descriptor that is not alone in its chain (§2.8.7).
  case indirectInChain

  /// Ring errors leave the queue broken; chain errors drop one chain.
  public var breaksQueue: Bool {
    switch self {
    case .invalidQueueSize, .misalignedRing, .ringOutOfBounds, .availableIndexJumped, .headOutOfRange,
      .packedChainUnterminated, .packedStartInconsistent:
      return true
    default: return false
    }
  }

  public var description: String {
    switch self {
    case .invalidQueueSize(let n): return "invalid queue size " + String(n)
    case .misalignedRing(let a): return "misaligned ring area at 0x" + String(a, radix: 16)
    case .ringOutOfBounds(let e): return "ring area: " + e.description
    case .availableIndexJumped(let a, let b):
      return "available index jumped from " + String(a) + " to " + String(b)
    case .headOutOfRange(let h): return "head descriptor " + String(h) + " out of range"
    case .packedChainUnterminated: return "packed chain without an end"
    case .packedStartInconsistent(let i):
      return "packed ring start slot " + String(i) + " already used in this lap (stale start position)"
    case .chainTooLong: return "descriptor chain too long (loop?)"
    case .nextOutOfRange(let n): return "next descriptor " + String(n) + " out of range"
    case .zeroLengthDescriptor: return "zero-length descriptor"
    case .chainLengthExceeded: return "descriptor chain longer than allowed"
    case .readableAfterWritable: return "device-readable descriptor after a writable one"
    case .bufferOutOfBounds(let e): return "buffer: " + e.description
    case .indirectNotNegotiated: return "indirect descriptor without VIRTIO_F_INDIRECT_DESC"
    case .nestedIndirect: return "nested indirect descriptor"
    case .indirectWithNext: return "indirect descriptor with NEXT"
    case .indirectTableLength(let n): return "indirect table length " + String(n)
    case .indirectTableOutOfBounds(let e): return "indirect table: " + e.description
    case .indirectInChain: return "packed indirect descriptor inside a chain"
    }
  }
}
