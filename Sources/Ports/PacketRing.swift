import DataPlane

/// A fixed-capacity FIFO of packet buffers, allocated once: the queue
/// behind an in-memory port (tests, benchmarks) and a host function's
/// hand-over point. Single-threaded, like the run loop that owns it.
///
/// Unsafe code: `slots` holds `capacity` initialized buffers for the
/// ring's lifetime (PacketBuffer is a trivial struct, so overwriting a slot
/// needs no deinitialization); indices are masked into range.
public final class PacketRing {
  public let capacity: Int
  @usableFromInline let mask: Int
  @usableFromInline let slots: UnsafeMutablePointer<PacketBuffer>
  // One thread owns a ring and never overlaps accesses: no dynamic
  // exclusivity checks (a runtime call each) on the per-packet path.
  @exclusivity(unchecked) @usableFromInline var head = 0
  @exclusivity(unchecked) @usableFromInline var tail = 0

  /// `capacity` is rounded up to a power of two.
  public init(capacity: Int, pool: PacketPool) {
    precondition(capacity > 0)
    var size = 1
    while size < capacity { size <<= 1 }
    self.capacity = size
    mask = size - 1
    slots = UnsafeMutablePointer<PacketBuffer>.allocate(capacity: size)
    // Placeholder contents: a buffer value that is never handed out
    // (index -1), so every slot is initialized.
    let placeholder = PacketRing.placeholder(pool)
    slots.initialize(repeating: placeholder, count: size)
  }

  deinit { slots.deallocate() }

  private static func placeholder(_ pool: PacketPool) -> PacketBuffer {
    // A buffer taken and given straight back: a valid value whose storage
    // belongs to the pool; never read from a slot that was not pushed.
    guard let b = pool.take() else { preconditionFailure("PacketRing needs a pool with a free buffer") }
    pool.give(b)
    return b
  }

  @inlinable public var count: Int { tail &- head }
  @inlinable public var isEmpty: Bool { head == tail }
  @inlinable public var isFull: Bool { tail &- head == capacity }

  /// Per packet. False when full (the caller still owns the buffer).
  @inlinable
  public func push(_ buffer: PacketBuffer) -> Bool {
    guard tail &- head < capacity else { return false }
    slots[tail & mask] = buffer
    tail &+= 1
    return true
  }

  /// Per packet.
  @inlinable
  public func pop() -> PacketBuffer? {
    guard head != tail else { return nil }
    let buffer = slots[head & mask]
    head &+= 1
    return buffer
  }
}
