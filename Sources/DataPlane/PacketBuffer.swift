/// One packet in a fixed-size buffer from a `PacketPool`. The frame lives
/// at `storage + dataOffset`; the bytes before it are headroom, so that
/// encapsulation is a prepend without a copy of the payload.
///
/// Unsafe code: `storage` points into the pool's one allocation, which
/// outlives every buffer; `dataOffset + length <= capacity` is kept by
/// every mutating method (checked, never trusted from a packet).
public struct PacketBuffer {
  public let storage: UnsafeMutableRawPointer
  public let capacity: Int
  /// The buffer's index in its pool.
  public let index: Int32
  @usableFromInline var frameStart: Int
  @usableFromInline var frameLength: Int
  public var inputPort: UInt16
  public var outputPort: UInt16
  public var verdict: Verdict

  @inlinable
  init(storage: UnsafeMutableRawPointer, capacity: Int, index: Int32, headroom: Int) {
    self.storage = storage
    self.capacity = capacity
    self.index = index
    self.frameStart = headroom
    self.frameLength = 0
    self.inputPort = 0
    self.outputPort = 0
    self.verdict = .pending
  }

  /// Where the frame starts in the buffer (the headroom before it).
  @inlinable public var dataOffset: Int { frameStart }
  @inlinable public var length: Int { frameLength }

  /// The frame. Per packet.
  @inlinable public var data: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: storage + frameStart, count: frameLength)
  }

  @inlinable public var headroom: Int { frameStart }
  @inlinable public var tailroom: Int { capacity - frameStart - frameLength }

  /// Makes `bytes` more bytes in front of the frame; false without headroom.
  @inlinable
  public mutating func prepend(_ bytes: Int) -> Bool {
    guard bytes >= 0, bytes <= frameStart else { return false }
    frameStart -= bytes
    frameLength += bytes
    return true
  }

  /// `prepend` for a caller that has checked `headroom` (the fast path's
  /// encapsulation, which checks before any action runs). Per packet.
  @inlinable @inline(__always)
  mutating func extendFront(uncheckedBy bytes: Int) {
    frameStart &-= bytes
    frameLength &+= bytes
  }

  /// Drops `bytes` bytes from the front (decapsulation).
  @inlinable
  public mutating func removeFront(_ bytes: Int) -> Bool {
    guard bytes >= 0, bytes <= frameLength else { return false }
    frameStart += bytes
    frameLength -= bytes
    return true
  }

  /// Sets the frame length (for a reply built in place); false past the end.
  @inlinable
  public mutating func setLength(_ newLength: Int) -> Bool {
    guard newLength >= 0, frameStart + newLength <= capacity else { return false }
    frameLength = newLength
    return true
  }

  /// Copies `bytes` in as the frame, `headroom` bytes into the buffer
  /// (device ports, tests). False if it does not fit.
  public mutating func load(_ bytes: UnsafeRawBufferPointer, headroom: Int) -> Bool {
    guard headroom >= 0, headroom + bytes.count <= capacity else { return false }
    frameStart = headroom
    frameLength = bytes.count
    if let source = bytes.baseAddress {
      (storage + headroom).copyMemory(from: source, byteCount: bytes.count)
    }
    verdict = .pending
    return true
  }

  /// The frame's bytes as an array (tests and diagnostics: allocates).
  public var bytes: [UInt8] { [UInt8](UnsafeRawBufferPointer(data)) }
}
