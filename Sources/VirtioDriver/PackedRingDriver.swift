import Virtio

/// The driver side of a packed ring as Linux's `virtqueue_add_packed` and
/// `virtqueue_get_buf_ctx_packed` do it (virtio 1.2 §2.8): descriptors
/// written in ring order with the driver's AVAIL/USED bits, the first
/// descriptor's flags last; buffer ids from a free stack; one preallocated
/// indirect table per id; event suppression per §2.8.10.
public final class PackedRingDriver {
  static let flagNext: UInt16 = 1
  static let flagWrite: UInt16 = 2
  static let flagIndirect: UInt16 = 4
  static let flagAvail: UInt16 = 1 << 7
  static let flagUsed: UInt16 = 1 << 15

  public let guest: SimulatedGuest
  public let size: UInt16
  public let addresses: VirtqueueAddresses
  public let eventIndex: Bool
  public let maximumIndirect: Int
  let ring: UnsafeMutableRawPointer
  let driverEvent: UnsafeMutableRawPointer
  let deviceEvent: UnsafeMutableRawPointer
  let indirectTables: UInt64
  var freeIDs: [UInt16]
  var slotsOfID: [UInt16]
  public private(set) var freeSlots: Int
  public private(set) var nextAvailIndex: UInt16 = 0
  public private(set) var availWrapCounter = true
  public private(set) var lastUsedIndex: UInt16 = 0
  public private(set) var usedWrapCounter = true
  var addedSinceKick: UInt16 = 0

  public init(guest: SimulatedGuest, size: UInt16, eventIndex: Bool = true, maximumIndirect: Int = 16) {
    precondition(size > 0 && size <= 32768)
    self.guest = guest
    self.size = size
    self.eventIndex = eventIndex
    self.maximumIndirect = maximumIndirect
    let n = Int(size)
    let table = guest.allocate(16 * n, alignment: 16)
    let driver = guest.allocate(4, alignment: 4)
    let device = guest.allocate(4, alignment: 4)
    addresses = VirtqueueAddresses(size: size, descriptorTable: table, driverArea: driver, deviceArea: device)
    ring = guest.pointer(table)
    driverEvent = guest.pointer(driver)
    deviceEvent = guest.pointer(device)
    indirectTables = guest.allocate(n * maximumIndirect * 16)
    freeIDs = (0..<n).reversed().map { UInt16($0) }
    slotsOfID = [UInt16](repeating: 0, count: n)
    freeSlots = n
  }

  public var start: VirtqueueStart { VirtqueueStart(lastAvailIndex: 0, wrapCounter: true) }

  /// The AVAIL/USED bits that make a descriptor available in the current lap.
  public var availableFlags: UInt16 { availWrapCounter ? Self.flagAvail : Self.flagUsed }

  /// Adds a chain and makes it available; nil when there is no room.
  public func add(_ buffers: UnsafeBufferPointer<DriverBuffer>, indirect: Bool = false) -> UInt16? {
    let needed = indirect ? 1 : buffers.count
    guard buffers.count > 0, needed <= freeSlots, let id = freeIDs.last,
      !indirect || buffers.count <= maximumIndirect
    else { return nil }
    freeIDs.removeLast()
    let first = Int(nextAvailIndex)
    let firstFlagsValue: UInt16
    if indirect {
      let table = indirectTables + UInt64(Int(id) * maximumIndirect * 16)
      let t = guest.pointer(table, count: buffers.count * 16)
      for (i, b) in buffers.enumerated() {
        write(
          into: t, i, address: b.address, length: b.length, id: 0, flags: b.isWritable ? Self.flagWrite : 0)
      }
      write(into: ring, first, address: table, length: UInt32(buffers.count * 16), id: id, flags: 0)
      firstFlagsValue = Self.flagIndirect | availableFlags
      advance()
    } else {
      var flagsOfFirst: UInt16 = 0
      for (i, b) in buffers.enumerated() {
        let slot = Int(nextAvailIndex)
        var flags = (b.isWritable ? Self.flagWrite : 0) | availableFlags
        if i < buffers.count - 1 { flags |= Self.flagNext }
        if i == 0 {
          flagsOfFirst = flags
          write(into: ring, slot, address: b.address, length: b.length, id: id, flags: 0)
        } else {
          write(into: ring, slot, address: b.address, length: b.length, id: id, flags: flags)
        }
        advance()
      }
      firstFlagsValue = flagsOfFirst
    }
    slotsOfID[Int(id)] = UInt16(needed)
    freeSlots -= needed
    addedSinceKick &+= UInt16(needed)
    // §2.8.6: the first descriptor's flags make the whole chain available.
    driverWriteBarrier()
    put16(ring, 16 * first + 14, firstFlagsValue)
    return id
  }

  public func add(_ buffers: [DriverBuffer], indirect: Bool = false) -> UInt16? {
    buffers.withUnsafeBufferPointer { add($0, indirect: indirect) }
  }

  func advance() {
    nextAvailIndex &+= 1
    if nextAvailIndex == size {
      nextAvailIndex = 0
      availWrapCounter.toggle()
    }
  }

  /// Linux `virtqueue_kick_prepare_packed`.
  public func needsKick() -> Bool {
    driverFullBarrier()
    let new = nextAvailIndex
    let old = new &- addedSinceKick
    addedSinceKick = 0
    let offWrap = le16(deviceEvent, 0)
    let flags = le16(deviceEvent, 2)
    if flags == 2 {
      var event = offWrap & 0x7fff
      if (offWrap & 0x8000 != 0) != availWrapCounter { event = event &- size }
      return (new &- event &- 1) < (new &- old)
    }
    return flags != 1
  }

  public func popUsed() -> UsedBuffer? {
    let d = ring + 16 * Int(lastUsedIndex)
    let flags = le16(d, 14)
    let avail = flags & Self.flagAvail != 0
    let used = flags & Self.flagUsed != 0
    guard avail == used && used == usedWrapCounter else { return nil }
    driverReadBarrier()
    let id = le16(d, 12)
    let length = le32(d, 8)
    var slots = 1
    if Int(id) < Int(size), slotsOfID[Int(id)] > 0 {
      slots = Int(slotsOfID[Int(id)])
      slotsOfID[Int(id)] = 0
      freeIDs.append(id)
      freeSlots += slots
    }
    var next = Int(lastUsedIndex) + slots
    if next >= Int(size) {
      next -= Int(size)
      usedWrapCounter.toggle()
    }
    lastUsedIndex = UInt16(next)
    return UsedBuffer(id: id, length: length)
  }

  /// §2.8.10: with EVENT_IDX the driver names the used slot (and lap) after
  /// which it wants an interrupt.
  public func enableInterrupts() {
    if eventIndex {
      put16(driverEvent, 0, lastUsedIndex | (usedWrapCounter ? 0x8000 : 0))
      driverWriteBarrier()
      put16(driverEvent, 2, 2)
    } else {
      put16(driverEvent, 2, 0)
    }
  }

  public func disableInterrupts() { put16(driverEvent, 2, 1) }

  /// Interrupt when the used index passes `slot` in the lap `wrap` names.
  public func setUsedEvent(slot: UInt16, wrap: Bool) {
    put16(driverEvent, 0, slot | (wrap ? 0x8000 : 0))
    put16(driverEvent, 2, 2)
  }

  public var deviceEventFlags: UInt16 { le16(deviceEvent, 2) }

  // Raw access: a hostile guest writes whatever it likes.

  public func writeDescriptor(_ slot: Int, address: UInt64, length: UInt32, id: UInt16, flags: UInt16) {
    write(into: ring, slot, address: address, length: length, id: id, flags: flags)
  }

  func write(
    into table: UnsafeMutableRawPointer, _ i: Int, address: UInt64, length: UInt32, id: UInt16, flags: UInt16
  ) {
    let d = table + 16 * i
    put64(d, 0, address)
    put32(d, 8, length)
    put16(d, 12, id)
    put16(d, 14, flags)
  }

  /// Moves the driver's next slot on, as if `slots` descriptors were added.
  public func skip(_ slots: Int) {
    for _ in 0..<slots { advance() }
  }
}
