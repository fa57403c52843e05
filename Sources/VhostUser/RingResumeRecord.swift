import Virtio

/// Where each packed ring of one socket stood, kept in memory the back-end
/// maps shared from a small file (next to the socket, on tmpfs), so that it
/// outlives the process: QEMU's vhost-user net device cannot tell a
/// restarted back-end where a packed ring was (it has no used index in
/// guest memory to read back, as split rings have), so it sends a stale
/// SET_VRING_BASE. See Docs/vhost-user.md "Reconnect".
///
/// No system calls here: the server maps the bytes (`ResumeRecordFile`),
/// tests and the fuzzer pass plain memory. Nothing read from it is
/// trusted: every field is checked, and a position is used only if the
/// ring it names agrees (`PackedRingPosition.resolved`).
///
/// Layout, little-endian: a 16-byte header (magic, version, queue count,
/// zero), then one 32-byte entry per queue: le64 descriptor ring address,
/// le64 device event suppression address (both front-end addresses, as
/// SET_VRING_ADDR gave them), le32 size, le32 state (`live` or 0), the
/// 64-bit position word (host order, as the queue stores it). An entry is live only while its ring runs: it is cleared
/// when the ring stops cleanly (the front-end then knows the position) and
/// when the front-end resets the device or goes away.
public struct RingResumeRecord {
  static let magic: UInt32 = 0x5252_4842  // "BHRR"
  static let version: UInt32 = 1
  static let headerSize = 16
  static let entrySize = 32
  static let live: UInt32 = 0x4556_494C  // "LIVE"

  /// What a record entry must match: the ring as the front-end placed it.
  public struct Identity: Equatable, Sendable {
    public var descriptorRing: UInt64
    public var deviceEvent: UInt64
    public var size: UInt16
    public init(descriptorRing: UInt64, deviceEvent: UInt64, size: UInt16) {
      self.descriptorRing = descriptorRing
      self.deviceEvent = deviceEvent
      self.size = size
    }
  }

  let base: UnsafeMutableRawPointer
  public let queueCount: Int

  /// Bytes a record for `queueCount` queues takes.
  public static func byteCount(queueCount: Int) -> Int { headerSize + entrySize * queueCount }

  /// Adopts `bytes` (at least `byteCount(queueCount:)`, 8-aligned). A
  /// header that is not this layout for this many queues (a new file, or
  /// one from another device) is rewritten with every entry cleared.
  public init?(bytes: UnsafeMutableRawBufferPointer, queueCount: Int) {
    guard queueCount > 0, bytes.count >= Self.byteCount(queueCount: queueCount),
      let base = bytes.baseAddress, Int(bitPattern: base) % 8 == 0
    else { return nil }
    self.base = base
    self.queueCount = queueCount
    if load32(0) != Self.magic || load32(4) != Self.version || load32(8) != UInt32(queueCount) {
      for q in 0..<queueCount { clear(queue: q) }
      store32(8, UInt32(queueCount))
      store32(4, Self.version)
      store32(12, 0)
      store32(0, Self.magic)
    }
  }

  /// Entry `queue`'s position word, for `PackedVirtqueue.positionRecord`.
  public func positionWord(queue: Int) -> UnsafeMutablePointer<UInt64>? {
    guard queue >= 0, queue < queueCount else { return nil }
    // Sound: 8-aligned (base is, offsets are multiples of 8) and inside.
    return (base + entryOffset(queue) + 24).assumingMemoryBound(to: UInt64.self)
  }

  /// The position kept for `queue` if its entry is live and names this
  /// ring; nil otherwise (cleared, never written, another ring, garbage).
  public func position(queue: Int, for ring: Identity) -> PackedRingPosition? {
    guard queue >= 0, queue < queueCount else { return nil }
    let e = entryOffset(queue)
    guard load32(e + 20) == Self.live, load64(e) == ring.descriptorRing, load64(e + 8) == ring.deviceEvent,
      load32(e + 16) == UInt32(ring.size)
    else { return nil }
    return PackedRingPosition(word: positionWord(queue: queue)!.pointee, size: ring.size)
  }

  /// Makes entry `queue` name `ring` at `position`. The entry is not live
  /// until every field is written, so a back-end killed midway leaves it
  /// ignored rather than half right.
  public func claim(queue: Int, for ring: Identity, at position: PackedRingPosition) {
    guard queue >= 0, queue < queueCount else { return }
    let e = entryOffset(queue)
    store32(e + 20, 0)
    store64(e, ring.descriptorRing)
    store64(e + 8, ring.deviceEvent)
    store32(e + 16, UInt32(ring.size))
    positionWord(queue: queue)!.pointee = position.word
    store32(e + 20, Self.live)
  }

  public func clear(queue: Int) {
    guard queue >= 0, queue < queueCount else { return }
    store32(entryOffset(queue) + 20, 0)
  }

  public func clearAll() { for q in 0..<queueCount { clear(queue: q) } }

  func entryOffset(_ queue: Int) -> Int { Self.headerSize + Self.entrySize * queue }

  // The record's own bytes, little-endian like the rings. Stores are plain
  // stores in program order; each field is naturally aligned.
  func load32(_ o: Int) -> UInt32 { UInt32(littleEndian: base.load(fromByteOffset: o, as: UInt32.self)) }
  func load64(_ o: Int) -> UInt64 { UInt64(littleEndian: base.load(fromByteOffset: o, as: UInt64.self)) }
  func store32(_ o: Int, _ v: UInt32) {
    base.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self)
  }
  func store64(_ o: Int, _ v: UInt64) {
    base.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt64.self)
  }
}
