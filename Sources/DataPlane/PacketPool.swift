/// Fixed-size packet buffers allocated once, with a free list. Nothing is
/// allocated per packet: `take`/`give` move indices on a stack.
public final class PacketPool {
  public let bufferSize: Int
  public let bufferCount: Int
  /// Room kept in front of a received frame for the largest outer header
  /// (Ethernet + IPv6 + UDP + Geneve with options).
  public let headroom: Int
  let memory: UnsafeMutableRawPointer
  var freeList: UnsafeMutablePointer<Int32>
  var freeCount: Int

  public static let defaultHeadroom = 256

  public init(bufferCount: Int, bufferSize: Int = 2048 + defaultHeadroom, headroom: Int = defaultHeadroom) {
    precondition(bufferCount > 0 && bufferCount < Int(Int32.max) && bufferSize > headroom)
    self.bufferCount = bufferCount
    self.bufferSize = bufferSize
    self.headroom = headroom
    memory = UnsafeMutableRawPointer.allocate(byteCount: bufferCount * bufferSize, alignment: 64)
    freeList = UnsafeMutablePointer<Int32>.allocate(capacity: bufferCount)
    for i in 0..<bufferCount { freeList[i] = Int32(bufferCount - 1 - i) }
    freeCount = bufferCount
  }

  deinit {
    memory.deallocate()
    freeList.deallocate()
  }

  public var availableCount: Int { freeCount }

  /// A free buffer with the default headroom, or nil when all are in use.
  public func take() -> PacketBuffer? {
    guard freeCount > 0 else { return nil }
    freeCount -= 1
    let index = freeList[freeCount]
    return PacketBuffer(
      storage: memory + Int(index) * bufferSize, capacity: bufferSize, index: index, headroom: headroom)
  }

  /// Returns a buffer taken from this pool.
  public func give(_ buffer: PacketBuffer) {
    precondition(buffer.index >= 0 && Int(buffer.index) < bufferCount && freeCount < bufferCount)
    freeList[freeCount] = buffer.index
    freeCount += 1
  }
}

/// Up to `PacketBatch.capacity` buffers processed together.
public struct PacketBatch {
  public static let capacity = 32
  public var buffers: [PacketBuffer]

  /// The array's storage is reserved once; appends never reallocate while
  /// `count <= capacity`.
  public init() {
    buffers = []
    buffers.reserveCapacity(Self.capacity)
  }

  @inlinable public var count: Int { buffers.count }
  @inlinable public var isFull: Bool { buffers.count >= Self.capacity }

  @inlinable
  public mutating func append(_ buffer: PacketBuffer) {
    precondition(buffers.count < Self.capacity)
    buffers.append(buffer)
  }

  /// Empties the batch, keeping its storage.
  @inlinable public mutating func removeAll() { buffers.removeAll(keepingCapacity: true) }

  @inlinable
  public subscript(index: Int) -> PacketBuffer {
    get { buffers[index] }
    set { buffers[index] = newValue }
  }
}
