/// Where the device side of a packed ring stands (virtio 1.2 §2.8.1): the
/// next slot it writes a used descriptor to and its used wrap counter, in
/// one 64-bit word that the queue stores to a record outside guest memory
/// (a file the back-end maps shared) around every used write. A back-end
/// killed at any instruction leaves a word that, read together with the
/// ring, says where to resume: one aligned 8-byte store is never torn by
/// the process dying, and the stores happen in program order.
///
/// Layout: bits 0–14 the used slot, bit 15 the used wrap counter, bits
/// 16–31 the slots of a used write in progress (0 if none), bits 32–47 the
/// slots of the last finished one, bits 48–63 `marker`.
public struct PackedRingPosition: Equatable, Sendable {
  public var usedIndex: UInt16
  public var usedWrapCounter: Bool
  /// Slots of the used descriptor being written when the word was stored;
  /// whether it landed is read from the ring (`resolved(ring:size:)`).
  public var pendingSlots: UInt16
  /// Slots of the last used descriptor written before `usedIndex`.
  public var lastSlots: UInt16

  /// Tells a position word from zeroes or garbage.
  static let marker: UInt64 = 0xB0E5

  public init(usedIndex: UInt16, usedWrapCounter: Bool, pendingSlots: UInt16 = 0, lastSlots: UInt16 = 0) {
    self.usedIndex = usedIndex
    self.usedWrapCounter = usedWrapCounter
    self.pendingSlots = pendingSlots
    self.lastSlots = lastSlots
  }

  /// Decodes a stored word; nil unless it is well formed for a ring of
  /// `size` slots (the record file is not trusted either).
  public init?(word: UInt64, size: UInt16) {
    guard word >> 48 == Self.marker else { return nil }
    usedIndex = UInt16(truncatingIfNeeded: word & 0x7fff)
    usedWrapCounter = word & 0x8000 != 0
    pendingSlots = UInt16(truncatingIfNeeded: word >> 16)
    lastSlots = UInt16(truncatingIfNeeded: word >> 32)
    guard size > 0, usedIndex < size, pendingSlots <= size, lastSlots <= size else { return nil }
  }

  public var word: UInt64 {
    UInt64(usedIndex & 0x7fff) | (usedWrapCounter ? 0x8000 : 0) | UInt64(pendingSlots) << 16
      | UInt64(lastSlots) << 32 | Self.marker << 48
  }

  /// The position `slots` further on, in a ring of `size`.
  func advanced(by slots: UInt16, size: UInt16) -> (index: UInt16, wrap: Bool) {
    var next = Int(usedIndex) + Int(slots)
    var wrap = usedWrapCounter
    if next >= Int(size) {
      next -= Int(size)
      wrap.toggle()
    }
    return (UInt16(next), wrap)
  }

  /// Where the device resumes (no write pending), read against the ring it
  /// describes (`ring`: the `size` descriptors, 16 bytes each): the used
  /// write in progress counts if its flags reached the ring. Nil when the ring
  /// contradicts the word, so that it cannot be this ring's position:
  ///
  /// - the slot at the position already holds a used descriptor of the
  ///   current lap (the device wrote past it: the word is stale);
  /// - the last used descriptor before it is not marked used in its lap
  ///   (nor made available again for the next lap): the word is from
  ///   before this ring was set up (a driver reset while the device was
  ///   away).
  ///
  /// Nothing in flight is kept: the device resumes reading available
  /// descriptors where it resumes writing used ones, so buffers it took but
  /// never returned are taken again.
  public func resolved(ring: UnsafeRawPointer, size: UInt16) -> PackedRingPosition? {
    guard size > 0, usedIndex < size, pendingSlots <= size, lastSlots <= size else { return nil }
    var position = PackedRingPosition(
      usedIndex: usedIndex, usedWrapCounter: usedWrapCounter, lastSlots: lastSlots)
    if pendingSlots > 0, Self.isUsed(ring: ring, slot: usedIndex, lap: usedWrapCounter) {
      let next = advanced(by: pendingSlots, size: size)
      position = PackedRingPosition(
        usedIndex: next.index, usedWrapCounter: next.wrap, lastSlots: pendingSlots)
    }
    guard !Self.isUsed(ring: ring, slot: position.usedIndex, lap: position.usedWrapCounter) else {
      return nil
    }
    if position.lastSlots > 0 {
      var slot = Int(position.usedIndex) - Int(position.lastSlots)
      var lap = position.usedWrapCounter
      if slot < 0 {
        slot += Int(size)
        lap.toggle()
      }
      // Used in lap L: AVAIL = USED = L. Made available again for the next
      // lap: AVAIL = !L, USED = L. Either way USED = L (§2.8.1).
      let flags = Self.flags(ring: ring, slot: UInt16(slot))
      guard (flags & PackedVirtqueue.flagUsed != 0) == lap else { return nil }
    }
    return position
  }

  static func flags(ring: UnsafeRawPointer, slot: UInt16) -> UInt16 {
    UInt16(
      littleEndian: ring.loadUnaligned(
        fromByteOffset: Int(slot) * PackedVirtqueue.descriptorSize + 14, as: UInt16.self))
  }

  /// §2.8.1: the device marked the slot used in lap `lap` (AVAIL and USED
  /// both equal that lap's wrap counter).
  static func isUsed(ring: UnsafeRawPointer, slot: UInt16, lap: Bool) -> Bool {
    let f = flags(ring: ring, slot: slot)
    return (f & PackedVirtqueue.flagAvail != 0) == lap && (f & PackedVirtqueue.flagUsed != 0) == lap
  }
}
