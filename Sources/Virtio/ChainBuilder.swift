/// Turns the descriptors of one chain into guest-memory segments while
/// checking what both ring kinds share: non-zero lengths, readable before
/// writable (§2.7.4.2), a total length cap, a segment cap, and that every
/// byte is in guest memory. A descriptor that spans adjacent regions
/// becomes several segments. Per packet.
@usableFromInline
struct ChainBuilder {
  let memory: GuestMemory
  let segments: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>
  let maximumSegments: Int
  let maximumLength: Int
  var readableCount = 0
  var writableCount = 0
  var readableLength = 0
  var writableLength = 0

  init(
    memory: GuestMemory, segments: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>, maximumSegments: Int,
    maximumLength: Int
  ) {
    self.memory = memory
    self.segments = segments
    self.maximumSegments = maximumSegments
    self.maximumLength = maximumLength
  }

  mutating func append(address: UInt64, length: UInt32, isWritable: Bool) throws(VirtqueueError) {
    guard length > 0 else { throw .zeroLengthDescriptor }
    if !isWritable && writableCount > 0 { throw .readableAfterWritable }
    let total = readableLength + writableLength
    guard Int(length) <= maximumLength - total else { throw .chainLengthExceeded }
    var remaining = Int(length)
    var next = address
    while remaining > 0 {
      guard readableCount + writableCount < maximumSegments else { throw .chainTooLong }
      let piece: UnsafeMutableRawBufferPointer
      do {
        piece = try memory.contiguousBytes(guestPhysical: next, upTo: remaining)
      } catch {
        throw .bufferOutOfBounds(error)
      }
      // `next + piece.count` cannot overflow: the piece is inside a region
      // whose end does not overflow.
      next &+= UInt64(piece.count)
      remaining -= piece.count
      segments[readableCount + writableCount] = piece
      if isWritable {
        writableCount += 1
        writableLength += piece.count
      } else {
        readableCount += 1
        readableLength += piece.count
      }
    }
  }

  func chain(head: UInt16, ringSlots: UInt16) -> DescriptorChain {
    DescriptorChain(
      head: head, ringSlots: ringSlots, segments: segments, readableCount: readableCount,
      writableCount: writableCount, readableLength: readableLength, writableLength: writableLength)
  }
}
