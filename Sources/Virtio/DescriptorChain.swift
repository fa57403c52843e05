/// One available buffer popped from a queue: its device-readable segments
/// followed by its device-writable segments, each a slice of guest memory.
///
/// The segments live in the queue's segment arena (no allocation per
/// chain). A chain's segments stay valid until the queue has popped
/// `segmentArenaCapacity - maximumChainSegments` more segments; a device
/// that holds chains longer copies what it needs. The bytes are guest
/// memory the guest may change at any moment: read each value once.
public struct DescriptorChain {
  /// The value the used ring reports back: the head descriptor index
  /// (split) or the buffer ID (packed).
  public let head: UInt16
  /// Ring slots this chain occupies (packed rings advance the used index by
  /// this many, §2.8.7); 1 for split rings.
  public let ringSlots: UInt16
  @usableFromInline let segments: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>
  public let readableCount: Int
  public let writableCount: Int
  /// Total bytes in the readable and writable segments.
  public let readableLength: Int
  public let writableLength: Int

  @inlinable
  init(
    head: UInt16, ringSlots: UInt16, segments: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>,
    readableCount: Int, writableCount: Int, readableLength: Int, writableLength: Int
  ) {
    self.head = head
    self.ringSlots = ringSlots
    self.segments = segments
    self.readableCount = readableCount
    self.writableCount = writableCount
    self.readableLength = readableLength
    self.writableLength = writableLength
  }

  /// The `index`th device-readable segment.
  @inlinable
  public func readable(_ index: Int) -> UnsafeRawBufferPointer {
    precondition(index >= 0 && index < readableCount)
    return UnsafeRawBufferPointer(segments[index])
  }

  /// The `index`th device-writable segment.
  @inlinable
  public func writable(_ index: Int) -> UnsafeMutableRawBufferPointer {
    precondition(index >= 0 && index < writableCount)
    return segments[readableCount + index]
  }

  /// Copies readable bytes from `offset` (counted across segments) into
  /// `destination`; returns how many were copied. Per packet.
  @inlinable
  public func copyReadable(from offset: Int, into destination: UnsafeMutableRawBufferPointer) -> Int {
    guard offset >= 0, let out = destination.baseAddress else { return 0 }
    var skip = offset
    var copied = 0
    var i = 0
    while i < readableCount && copied < destination.count {
      let s = segments[i]
      i += 1
      if skip >= s.count {
        skip -= s.count
        continue
      }
      let n = min(s.count - skip, destination.count - copied)
      // Sound: n bytes remain in both the segment (after skip) and the destination.
      (out + copied).copyMemory(from: s.baseAddress! + skip, byteCount: n)
      copied += n
      skip = 0
    }
    return copied
  }

  /// Copies `source` into the writable segments starting at `offset`;
  /// returns how many bytes fit. Per packet.
  @inlinable
  public func copyIntoWritable(at offset: Int, from source: UnsafeRawBufferPointer) -> Int {
    guard offset >= 0, let input = source.baseAddress else { return 0 }
    var skip = offset
    var copied = 0
    var i = 0
    while i < writableCount && copied < source.count {
      let s = segments[readableCount + i]
      i += 1
      if skip >= s.count {
        skip -= s.count
        continue
      }
      let n = min(s.count - skip, source.count - copied)
      // Sound: n bytes remain in both the segment (after skip) and the source.
      (s.baseAddress! + skip).copyMemory(from: input + copied, byteCount: n)
      copied += n
      skip = 0
    }
    return copied
  }
}
