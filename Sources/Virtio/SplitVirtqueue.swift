/// The device side of a split virtqueue (virtio 1.2 §2.7): descriptor
/// table, available ring (driver area) and used ring (device area).
public final class SplitVirtqueue: Virtqueue {
  // §2.7.5 descriptor: le64 addr, le32 len, le16 flags, le16 next.
  @usableFromInline static let descriptorSize = 16
  @usableFromInline static let flagNext: UInt16 = 1
  @usableFromInline static let flagWrite: UInt16 = 2
  @usableFromInline static let flagIndirect: UInt16 = 4
  // §2.7.6 available ring: le16 flags, le16 idx, le16 ring[size], le16 used_event.
  static let availFlagNoInterrupt: UInt16 = 1
  // §2.7.8 used ring: le16 flags, le16 idx, {le32 id, le32 len}[size], le16 avail_event.
  static let usedFlagNoNotify: UInt16 = 1

  public let size: UInt16
  public let features: VirtqueueFeatures
  public let addresses: VirtqueueAddresses
  public let limits: VirtqueueLimits
  public private(set) var isBroken = false
  public private(set) var brokenReason: VirtqueueError?
  public private(set) var counters = VirtqueueCounters()

  var memory: GuestMemory
  var descriptors: UnsafeMutableRawPointer
  var available: UnsafeMutableRawPointer
  var used: UnsafeMutableRawPointer
  let arena: SegmentArena
  let mask: UInt16
  let eventIndex: Bool
  let indirect: Bool

  /// The next available-ring entry to read (free-running, §2.7.6).
  public private(set) var lastAvailIndex: UInt16
  /// The device's used index (free-running); published after each completion.
  public private(set) var usedIndex: UInt16
  /// The used index at the last notification decision.
  var signalledUsedIndex: UInt16
  var signalledUsedIsValid = false
  var notificationsEnabled = true

  public init(
    addresses: VirtqueueAddresses, features: VirtqueueFeatures, memory: GuestMemory,
    start: VirtqueueStart = VirtqueueStart(), usedIndex: UInt16? = nil, limits: VirtqueueLimits = .standard
  ) throws(VirtqueueError) {
    let size = addresses.size
    guard size > 0, size <= 32768, size & (size - 1) == 0 else { throw .invalidQueueSize(size) }
    self.size = size
    self.features = features
    self.addresses = addresses
    self.limits = limits
    self.memory = memory
    mask = size - 1
    eventIndex = features.contains(.eventIndex)
    indirect = features.contains(.indirectDescriptors)
    (descriptors, available, used) = try Self.translate(addresses, memory)
    arena = SegmentArena(
      capacity: limits.segmentArenaCapacity, maximumChainSegments: limits.maximumChainSegments)
    lastAvailIndex = start.lastAvailIndex
    self.usedIndex = usedIndex ?? start.lastAvailIndex
    signalledUsedIndex = self.usedIndex
  }

  /// Table 2.1 (§2.7): descriptor table 16-aligned, available ring 2,
  /// used ring 4; each area wholly in one region.
  static func translate(_ a: VirtqueueAddresses, _ memory: GuestMemory) throws(VirtqueueError) -> (
    UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer
  ) {
    guard a.descriptorTable % 16 == 0 else { throw .misalignedRing(a.descriptorTable) }
    guard a.driverArea % 2 == 0 else { throw .misalignedRing(a.driverArea) }
    guard a.deviceArea % 4 == 0 else { throw .misalignedRing(a.deviceArea) }
    let n = Int(a.size)
    do {
      let d = try memory.bytes(guestPhysical: a.descriptorTable, count: descriptorSize * n)
      let av = try memory.bytes(guestPhysical: a.driverArea, count: 6 + 2 * n)
      let u = try memory.bytes(guestPhysical: a.deviceArea, count: 6 + 8 * n)
      return (d.baseAddress!, av.baseAddress!, u.baseAddress!)
    } catch {
      throw .ringOutOfBounds(error)
    }
  }

  public var start: VirtqueueStart { VirtqueueStart(lastAvailIndex: lastAvailIndex, wrapCounter: true) }

  public func remap(memory: GuestMemory) throws(VirtqueueError) {
    (descriptors, available, used) = try Self.translate(addresses, memory)
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

  public var hasAvailable: Bool {
    !isBroken && loadLE16(available, 2) != lastAvailIndex
  }

  public func nextChain() throws(VirtqueueError) -> DescriptorChain? {
    guard !isBroken else { return nil }
    let availIndex = loadLE16(available, 2)
    if availIndex == lastAvailIndex {
      // Drained: with EVENT_IDX ask for a kick when the next buffer comes (§2.7.10).
      if eventIndex && notificationsEnabled { publishAvailEvent() }
      return nil
    }
    // §2.7.13.3: the driver never has more than `size` entries outstanding.
    guard availIndex &- lastAvailIndex <= size else {
      breakQueue(.availableIndexJumped(from: lastAvailIndex, to: availIndex))
      throw .availableIndexJumped(from: lastAvailIndex, to: availIndex)
    }
    readBarrier()
    let head = loadLE16(available, 4 + 2 * Int(lastAvailIndex & mask))
    guard head < size else {
      breakQueue(.headOutOfRange(head))
      throw .headOutOfRange(head)
    }
    lastAvailIndex &+= 1
    counters.chainsPopped &+= 1
    var builder = ChainBuilder(
      memory: memory, segments: arena.reserve(), maximumSegments: limits.maximumChainSegments,
      maximumLength: limits.maximumChainLength)
    do {
      try walk(head: head, into: &builder)
    } catch {
      // The ring is sound, only this chain is not: give it back empty.
      counters.count(error)
      counters.chainsDropped &+= 1
      writeUsed(id: head, length: 0)
      throw error
    }
    arena.commit(builder.readableCount + builder.writableCount)
    return builder.chain(head: head, ringSlots: 1)
  }

  /// §2.7.5.3: direct descriptors, optionally ending in one indirect table.
  func walk(head: UInt16, into builder: inout ChainBuilder) throws(VirtqueueError) {
    var table = descriptors
    var tableSize = Int(size)
    var index = Int(head)
    var walked = 0
    var inIndirect = false
    while true {
      // A loop or an over-long chain (§2.7.5.3.1: no longer than the queue
      // size, or than the indirect table).
      guard walked < tableSize else { throw .chainTooLong }
      walked += 1
      let d = table + index * Self.descriptorSize
      let address = loadLE64(d, 0)
      let length = loadLE32(d, 8)
      let flags = loadLE16(d, 12)
      let next = loadLE16(d, 14)
      if flags & Self.flagIndirect != 0 {
        guard indirect else { throw .indirectNotNegotiated }
        guard !inIndirect else { throw .nestedIndirect }
        guard flags & Self.flagNext == 0 else { throw .indirectWithNext }
        guard length > 0, length % UInt32(Self.descriptorSize) == 0 else {
          throw .indirectTableLength(length)
        }
        let count = Int(length) / Self.descriptorSize
        guard count <= limits.maximumIndirectDescriptors else { throw .chainTooLong }
        do {
          table = try memory.bytes(guestPhysical: address, count: Int(length)).baseAddress!
        } catch {
          throw .indirectTableOutOfBounds(error)
        }
        tableSize = count
        index = 0
        walked = 0
        inIndirect = true
        continue
      }
      try builder.append(address: address, length: length, isWritable: flags & Self.flagWrite != 0)
      if flags & Self.flagNext == 0 { return }
      guard Int(next) < tableSize else { throw .nextOutOfRange(next) }
      index = Int(next)
    }
  }

  public func putBack(_ chain: DescriptorChain) {
    lastAvailIndex &-= 1
    counters.chainsPopped &-= 1
  }

  public func complete(_ chain: DescriptorChain, writtenLength: Int) {
    let written = min(max(writtenLength, 0), chain.writableLength)
    counters.bytesWritten &+= UInt64(written)
    writeUsed(id: chain.head, length: UInt32(written))
  }

  /// §2.7.8: the element first, then (after a barrier) the index.
  func writeUsed(id: UInt16, length: UInt32) {
    let element = used + 4 + 8 * Int(usedIndex & mask)
    storeLE32(element, 0, UInt32(id))
    storeLE32(element, 4, length)
    usedIndex &+= 1
    writeBarrier()
    storeLE16(used, 2, usedIndex)
    counters.chainsCompleted &+= 1
  }

  public func needsNotification() -> Bool {
    // The used index store must be visible before used_event / flags are
    // read, or a driver that just re-enabled interrupts is missed.
    fullBarrier()
    let new = usedIndex
    let old = signalledUsedIndex
    let wasValid = signalledUsedIsValid
    signalledUsedIndex = new
    signalledUsedIsValid = true
    let notify: Bool
    if new == old {
      notify = false
    } else if eventIndex {
      let usedEvent = loadLE16(available, 4 + 2 * Int(size))
      notify = !wasValid || needsEvent(event: usedEvent, new: new, old: old)
    } else {
      notify = loadLE16(available, 0) & Self.availFlagNoInterrupt == 0
    }
    if notify { counters.notificationsNeeded &+= 1 } else { counters.notificationsSuppressed &+= 1 }
    return notify
  }

  func publishAvailEvent() {
    storeLE16(used, 4 + 8 * Int(size), lastAvailIndex)
  }

  public func enableNotifications() -> Bool {
    notificationsEnabled = true
    if eventIndex {
      publishAvailEvent()
    } else {
      storeLE16(used, 0, 0)
    }
    // The flag/event store must be visible before the index is re-read.
    fullBarrier()
    return hasAvailable
  }

  public func disableNotifications() {
    notificationsEnabled = false
    // With EVENT_IDX, an avail_event left behind suppresses kicks by itself.
    if !eventIndex { storeLE16(used, 0, Self.usedFlagNoNotify) }
  }
}
