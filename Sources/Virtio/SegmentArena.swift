/// Per-queue storage for chain segments, allocated once: each popped chain
/// takes the next `maximumChainSegments` slots, wrapping to the start when
/// they would run past the end. Old chains' slots are reused, so a chain's
/// segments are only valid for a while (see `DescriptorChain`); reused
/// slots still point into guest memory, so a stale read is wrong data for
/// that guest, never memory outside it.
final class SegmentArena {
  let slots: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>
  let capacity: Int
  let maximumChainSegments: Int
  var cursor = 0

  init(capacity: Int, maximumChainSegments: Int) {
    precondition(maximumChainSegments > 0 && capacity >= maximumChainSegments)
    self.capacity = capacity
    self.maximumChainSegments = maximumChainSegments
    slots = UnsafeMutablePointer<UnsafeMutableRawBufferPointer>.allocate(capacity: capacity)
    slots.initialize(repeating: UnsafeMutableRawBufferPointer(start: nil, count: 0), count: capacity)
  }

  deinit { slots.deallocate() }

  /// Room for one chain.
  func reserve() -> UnsafeMutablePointer<UnsafeMutableRawBufferPointer> {
    if cursor + maximumChainSegments > capacity { cursor = 0 }
    return slots + cursor
  }

  /// Marks `used` slots of the last reservation as taken.
  func commit(_ used: Int) { cursor += used }
}
