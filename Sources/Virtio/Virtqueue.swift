/// A device-side virtqueue, split or packed: what a device model needs to
/// consume available buffers and return them. Device code is generic over
/// it (`func transmit<Queue: Virtqueue>(from: Queue)`) so that each ring
/// kind gets a specialised loop.
///
/// Not thread-safe: one queue is served by one core.
public protocol Virtqueue: AnyObject {
  var size: UInt16 { get }
  var features: VirtqueueFeatures { get }
  /// The guest broke the ring (see `VirtqueueError.breaksQueue`); the
  /// device should set NEEDS_RESET (§2.1.2). A broken queue pops nothing.
  var isBroken: Bool { get }
  var brokenReason: VirtqueueError? { get }
  var counters: VirtqueueCounters { get }
  /// Where to resume (GET_VRING_BASE).
  var start: VirtqueueStart { get }

  /// The next available chain, or nil when there is none (or the queue is
  /// broken). A malformed chain is completed with 0 bytes, counted and
  /// thrown; the caller goes on with the next one. Per packet.
  func nextChain() throws(VirtqueueError) -> DescriptorChain?
  /// Returns a chain to the driver with `writtenLength` bytes written into
  /// its writable segments (capped at its writable length). Per packet.
  func complete(_ chain: DescriptorChain, writtenLength: Int)
  /// Gives back the most recently popped chain, unused and uncompleted, so
  /// that it is popped again later (a packet that did not fit). Chains are
  /// put back in the reverse order of popping. Per packet.
  func putBack(_ chain: DescriptorChain)
  /// Whether the driver wants a used-buffer notification for what was
  /// completed since the last call (§2.7.10, §2.8.10). Per batch.
  func needsNotification() -> Bool
  /// Asks the driver for available-buffer notifications again; returns true
  /// if buffers arrived meanwhile, so the caller polls once more.
  func enableNotifications() -> Bool
  /// Tells the driver not to notify while the device is polling.
  func disableNotifications()
  /// Whether a chain is available, without popping it.
  var hasAvailable: Bool { get }
  /// A new memory table (the ring areas are translated again).
  func remap(memory: GuestMemory) throws(VirtqueueError)
}
