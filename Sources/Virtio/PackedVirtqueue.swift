/// The device side of a packed virtqueue (virtio 1.2 §2.8): one descriptor
/// ring whose entries the driver and the device hand back and forth with
/// the AVAIL/USED flag bits and a wrap counter each, plus the driver and
/// device event suppression structures (§2.8.10).
public final class PackedVirtqueue: Virtqueue {
  // §2.8.13 descriptor: le64 addr, le32 len, le16 id, le16 flags.
  static let descriptorSize = 16
  static let flagNext: UInt16 = 1
  static let flagWrite: UInt16 = 2
  static let flagIndirect: UInt16 = 4
  static let flagAvail: UInt16 = 1 << 7
  static let flagUsed: UInt16 = 1 << 15
  // §2.8.10 event suppression: le16 off_wrap (desc), le16 flags.
  static let eventEnable: UInt16 = 0
  static let eventDisable: UInt16 = 1
  static let eventDescriptor: UInt16 = 2

  public let size: UInt16
  public let features: VirtqueueFeatures
  public let addresses: VirtqueueAddresses
  public let limits: VirtqueueLimits
  public private(set) var isBroken = false
  public private(set) var brokenReason: VirtqueueError?
  public private(set) var counters = VirtqueueCounters()

  var memory: GuestMemory
  var ring: UnsafeMutableRawPointer
  var driverEvent: UnsafeMutableRawPointer
  var deviceEvent: UnsafeMutableRawPointer
  let arena: SegmentArena
  let eventIndex: Bool
  let indirect: Bool

  /// The next ring slot the driver makes available, in [0, size), and the
  /// driver ring wrap counter the device expects there (§2.8.1).
  public private(set) var lastAvailIndex: UInt16
  public private(set) var availWrapCounter: Bool
  /// The next ring slot the device writes a used descriptor to.
  public private(set) var usedIndex: UInt16
  public private(set) var usedWrapCounter: Bool
  /// Ring slots made used since the last notification decision.
  var usedSinceSignal = 0
  var signalledIsValid = false
  /// Slots of the last used descriptor written (for the position record).
  var lastUsedSlots: UInt16 = 0

  /// A word outside guest memory (the back-end's resume record, mapped
  /// shared from a file) that keeps the device's used position across a
  /// back-end restart (`PackedRingPosition`). Written around every used
  /// descriptor; nil: not kept. Whoever sets it has stored the start
  /// position there.
  public var positionRecord: UnsafeMutablePointer<UInt64>?

  /// The device's used position now, for the position record.
  public func position(pendingSlots: UInt16) -> PackedRingPosition {
    PackedRingPosition(
      usedIndex: usedIndex, usedWrapCounter: usedWrapCounter, pendingSlots: pendingSlots,
      lastSlots: lastUsedSlots)
  }

  public init(
    addresses: VirtqueueAddresses, features: VirtqueueFeatures, memory: GuestMemory,
    start: VirtqueueStart = VirtqueueStart(), limits: VirtqueueLimits = .standard
  ) throws(VirtqueueError) {
    let size = addresses.size
    guard size > 0, size <= 32768, start.lastAvailIndex < size else { throw .invalidQueueSize(size) }
    self.size = size
    self.features = features
    self.addresses = addresses
    self.limits = limits
    self.memory = memory
    eventIndex = features.contains(.eventIndex)
    indirect = features.contains(.indirectDescriptors)
    (ring, driverEvent, deviceEvent) = try Self.translate(addresses, memory)
    arena = SegmentArena(
      capacity: limits.segmentArenaCapacity, maximumChainSegments: limits.maximumChainSegments)
    lastAvailIndex = start.lastAvailIndex
    availWrapCounter = start.wrapCounter
    // vhost-user restarts with nothing in flight: used catches up with avail.
    usedIndex = start.lastAvailIndex
    usedWrapCounter = start.wrapCounter
    // A used descriptor of this lap where the device would write next
    // means the device already went past: the position is stale, and
    // serving from it would hand the driver ids it does not have in
    // flight. The queue stays broken (NEEDS_RESET) instead.
    if PackedRingPosition.isUsed(ring: ring, slot: lastAvailIndex, lap: availWrapCounter) {
      breakQueue(.packedStartInconsistent(lastAvailIndex))
    }
  }

  /// §2.8.10.1: ring 16-aligned, event suppression structures 4-aligned.
  static func translate(_ a: VirtqueueAddresses, _ memory: GuestMemory) throws(VirtqueueError) -> (
    UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer
  ) {
    guard a.descriptorTable % 16 == 0 else { throw .misalignedRing(a.descriptorTable) }
    guard a.driverArea % 4 == 0 else { throw .misalignedRing(a.driverArea) }
    guard a.deviceArea % 4 == 0 else { throw .misalignedRing(a.deviceArea) }
    do {
      let r = try memory.bytes(guestPhysical: a.descriptorTable, count: descriptorSize * Int(a.size))
      let driver = try memory.bytes(guestPhysical: a.driverArea, count: 4)
      let device = try memory.bytes(guestPhysical: a.deviceArea, count: 4)
      return (r.baseAddress!, driver.baseAddress!, device.baseAddress!)
    } catch {
      throw .ringOutOfBounds(error)
    }
  }

  public var start: VirtqueueStart {
    VirtqueueStart(lastAvailIndex: lastAvailIndex, wrapCounter: availWrapCounter)
  }

  public func remap(memory: GuestMemory) throws(VirtqueueError) {
    (ring, driverEvent, deviceEvent) = try Self.translate(addresses, memory)
    self.memory = memory
  }

  func breakQueue(_ reason: VirtqueueError) {
    if !isBroken {
      isBroken = true
      brokenReason = reason
      counters.queueBreaks &+= 1
    }
    counters.count(reason)
  }

  /// §2.8.1: available when AVAIL equals the driver wrap counter and USED
  /// does not.
  func isAvailable(flags: UInt16, wrap: Bool) -> Bool {
    (flags & Self.flagAvail != 0) == wrap && (flags & Self.flagUsed != 0) != wrap
  }

  func descriptor(_ slot: Int) -> UnsafeMutableRawPointer { ring + slot * Self.descriptorSize }

  public var hasAvailable: Bool {
    !isBroken && isAvailable(flags: loadLE16(descriptor(Int(lastAvailIndex)), 14), wrap: availWrapCounter)
  }

  public func nextChain() throws(VirtqueueError) -> DescriptorChain? {
    guard !isBroken else { return nil }
    let first = Int(lastAvailIndex)
    let firstFlags = loadLE16(descriptor(first), 14)
    guard isAvailable(flags: firstFlags, wrap: availWrapCounter) else { return nil }
    // The driver writes the first descriptor's flags last (§2.8.6): read
    // the rest only after them.
    readBarrier()

    var builder = ChainBuilder(
      memory: memory, segments: arena.reserve(), maximumSegments: limits.maximumChainSegments,
      maximumLength: limits.maximumChainLength)
    var slot = first
    var slots = 0
    var bufferID: UInt16 = 0
    var chainError: VirtqueueError?
    while true {
      // The chain's extent must be known to advance past it; beyond `size`
      // descriptors it is not (§2.8.6).
      guard slots < Int(size) else {
        breakQueue(.packedChainUnterminated)
        throw .packedChainUnterminated
      }
      let d = descriptor(slot)
      let flags = slots == 0 ? firstFlags : loadLE16(d, 14)
      slots += 1
      slot += 1
      if slot == Int(size) { slot = 0 }
      bufferID = loadLE16(d, 12)
      if chainError == nil {
        do {
          try append(descriptor: d, flags: flags, position: slots, into: &builder)
        } catch {
          chainError = error
        }
      }
      if flags & Self.flagNext == 0 { break }
    }
    advanceAvail(by: slots)
    counters.chainsPopped &+= 1
    let chain = builder.chain(head: bufferID, ringSlots: UInt16(slots))
    if let error = chainError {
      counters.count(error)
      counters.chainsDropped &+= 1
      writeUsed(id: bufferID, slots: slots, length: 0)
      throw error
    }
    arena.commit(builder.readableCount + builder.writableCount)
    return chain
  }

  func append(
    descriptor d: UnsafeMutableRawPointer, flags: UInt16, position: Int, into builder: inout ChainBuilder
  )
    throws(VirtqueueError)
  {
    let address = loadLE64(d, 0)
    let length = loadLE32(d, 8)
    guard flags & Self.flagIndirect != 0 else {
      try builder.append(address: address, length: length, isWritable: flags & Self.flagWrite != 0)
      return
    }
    // §2.8.7: an indirect descriptor stands alone; its table holds packed
    // descriptors whose NEXT and id are ignored and which may not be
    // indirect themselves.
    guard indirect else { throw .indirectNotNegotiated }
    guard flags & Self.flagNext == 0 else { throw .indirectWithNext }
    guard position == 1 else { throw .indirectInChain }
    guard length > 0, length % UInt32(Self.descriptorSize) == 0 else { throw .indirectTableLength(length) }
    let count = Int(length) / Self.descriptorSize
    guard count <= limits.maximumIndirectDescriptors else { throw .chainTooLong }
    let table: UnsafeMutableRawPointer
    do {
      table = try memory.bytes(guestPhysical: address, count: Int(length)).baseAddress!
    } catch {
      throw .indirectTableOutOfBounds(error)
    }
    for i in 0..<count {
      let e = table + i * Self.descriptorSize
      let entryFlags = loadLE16(e, 14)
      guard entryFlags & Self.flagIndirect == 0 else { throw .nestedIndirect }
      try builder.append(
        address: loadLE64(e, 0), length: loadLE32(e, 8), isWritable: entryFlags & Self.flagWrite != 0)
    }
  }

  func advanceAvail(by slots: Int) {
    var next = Int(lastAvailIndex) + slots
    if next >= Int(size) {
      next -= Int(size)
      availWrapCounter.toggle()
    }
    lastAvailIndex = UInt16(next)
  }

  public func putBack(_ chain: DescriptorChain) {
    var previous = Int(lastAvailIndex) - Int(chain.ringSlots)
    if previous < 0 {
      previous += Int(size)
      availWrapCounter.toggle()
    }
    lastAvailIndex = UInt16(previous)
    counters.chainsPopped &-= 1
  }

  public func complete(_ chain: DescriptorChain, writtenLength: Int) {
    let written = min(max(writtenLength, 0), chain.writableLength)
    counters.bytesWritten &+= UInt64(written)
    writeUsed(id: chain.head, slots: Int(chain.ringSlots), length: UInt32(written))
  }

  /// §2.8.7: id and length first; then the flags, whose AVAIL and USED both
  /// equal the device's used wrap counter, hand the slot back.
  /// With a position record: the word names this write as pending before
  /// the flags are stored and the new position after, so a back-end killed
  /// in between finds out from the ring whether the flags landed.
  func writeUsed(id: UInt16, slots: Int, length: UInt32) {
    let d = descriptor(Int(usedIndex))
    positionRecord?.pointee = position(pendingSlots: UInt16(truncatingIfNeeded: slots)).word
    storeLE16(d, 12, id)
    storeLE32(d, 8, length)
    var flags: UInt16 = usedWrapCounter ? Self.flagAvail | Self.flagUsed : 0
    if length > 0 { flags |= Self.flagWrite }
    writeBarrier()
    storeLE16(d, 14, flags)
    var next = Int(usedIndex) + slots
    if next >= Int(size) {
      next -= Int(size)
      usedWrapCounter.toggle()
    }
    usedIndex = UInt16(next)
    lastUsedSlots = UInt16(truncatingIfNeeded: slots)
    if let record = positionRecord {
      writeBarrier()
      record.pointee = position(pendingSlots: 0).word
    }
    usedSinceSignal += slots
    counters.chainsCompleted &+= 1
  }

  public func needsNotification() -> Bool {
    fullBarrier()
    let advanced = usedSinceSignal
    let wasValid = signalledIsValid
    usedSinceSignal = 0
    signalledIsValid = true
    guard advanced > 0 else { return false }
    let flags = loadLE16(driverEvent, 2)
    let notify: Bool
    switch flags {
    case Self.eventDisable: notify = false
    case Self.eventDescriptor where eventIndex:
      // §2.8.10: notify when the used index passes the driver's event
      // offset in the lap its wrap bit names. Indices are in [0, size), so
      // move the event into the current lap's frame before the 16-bit math.
      let offWrap = loadLE16(driverEvent, 0)
      var event = offWrap & 0x7fff
      if (offWrap & 0x8000 != 0) != usedWrapCounter { event = event &- size }
      let new = usedIndex
      let old = new &- UInt16(truncatingIfNeeded: advanced)
      notify = !wasValid || needsEvent(event: event, new: new, old: old)
    default: notify = true
    }
    if notify { counters.notificationsNeeded &+= 1 } else { counters.notificationsSuppressed &+= 1 }
    return notify
  }

  public func enableNotifications() -> Bool {
    if eventIndex {
      let offWrap = lastAvailIndex | (availWrapCounter ? 0x8000 : 0)
      storeLE16(deviceEvent, 0, offWrap)
      writeBarrier()
      storeLE16(deviceEvent, 2, Self.eventDescriptor)
    } else {
      storeLE16(deviceEvent, 2, Self.eventEnable)
    }
    fullBarrier()
    return hasAvailable
  }

  public func disableNotifications() {
    storeLE16(deviceEvent, 2, Self.eventDisable)
  }
}
