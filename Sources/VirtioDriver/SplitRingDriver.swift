import Virtio

/// The driver side of a split ring laid out as a Linux guest does (virtio
/// 1.2 §2.7; Linux `vring_init`): descriptor table, available ring right
/// after it, used ring on the next 4096-byte boundary; a free list threaded
/// through `next`; one preallocated indirect table per head.
///
/// For tests, benchmarks, the fuzzer and the self-test: it trusts itself,
/// and the raw `write…`/`push…` methods let a test play a hostile guest.
public final class SplitRingDriver {
  static let flagNext: UInt16 = 1
  static let flagWrite: UInt16 = 2
  static let flagIndirect: UInt16 = 4

  public let guest: SimulatedGuest
  public let size: UInt16
  public let addresses: VirtqueueAddresses
  public let eventIndex: Bool
  public let maximumIndirect: Int
  let descriptors: UnsafeMutableRawPointer
  let available: UnsafeMutableRawPointer
  let used: UnsafeMutableRawPointer
  let indirectTables: UInt64
  var freeHead: UInt16 = 0
  public private(set) var freeCount: Int
  /// Descriptors of the table each in-flight head holds.
  var chainDescriptors: [UInt16]
  public private(set) var availableIndex: UInt16
  public private(set) var lastUsedIndex: UInt16
  var addedSinceKick: UInt16 = 0

  public init(
    guest: SimulatedGuest, size: UInt16, eventIndex: Bool = true, maximumIndirect: Int = 16,
    startIndex: UInt16 = 0
  ) {
    precondition(size > 0 && size & (size - 1) == 0)
    self.guest = guest
    self.size = size
    self.eventIndex = eventIndex
    self.maximumIndirect = maximumIndirect
    let n = Int(size)
    let usedOffset = (16 * n + 6 + 2 * n + 4095) & ~4095
    let base = guest.allocate(usedOffset + 6 + 8 * n, alignment: 4096)
    addresses = VirtqueueAddresses(
      size: size, descriptorTable: base, driverArea: base + UInt64(16 * n),
      deviceArea: base + UInt64(usedOffset))
    descriptors = guest.pointer(base)
    available = guest.pointer(addresses.driverArea)
    used = guest.pointer(addresses.deviceArea)
    indirectTables = guest.allocate(n * maximumIndirect * 16)
    for i in 0..<n { put16(descriptors, 16 * i + 14, UInt16(truncatingIfNeeded: i + 1)) }
    freeCount = n
    chainDescriptors = [UInt16](repeating: 0, count: n)
    availableIndex = startIndex
    lastUsedIndex = startIndex
    put16(available, 2, startIndex)
    put16(used, 2, startIndex)
  }

  /// The device's start state for this ring.
  public var start: VirtqueueStart { VirtqueueStart(lastAvailIndex: lastUsedIndex) }

  /// Adds a chain (readable buffers first) and publishes it; nil when the
  /// ring is full. With `indirect`, the buffers go into the head's
  /// indirect table and the ring holds one descriptor.
  public func add(_ buffers: UnsafeBufferPointer<DriverBuffer>, indirect: Bool = false) -> UInt16? {
    let needed = indirect ? 1 : buffers.count
    guard buffers.count > 0, needed <= freeCount, !indirect || buffers.count <= maximumIndirect else {
      return nil
    }
    let head = freeHead
    if indirect {
      let table = indirectTables + UInt64(Int(head) * maximumIndirect * 16)
      let t = guest.pointer(table, count: buffers.count * 16)
      for (i, b) in buffers.enumerated() {
        let last = i == buffers.count - 1
        writeDescriptor(
          into: t, i, address: b.address, length: b.length,
          flags: (b.isWritable ? Self.flagWrite : 0) | (last ? 0 : Self.flagNext), next: UInt16(i + 1))
      }
      freeHead = le16(descriptors, 16 * Int(head) + 14)
      writeDescriptor(
        Int(head), address: table, length: UInt32(buffers.count * 16), flags: Self.flagIndirect,
        next: freeHead)
    } else {
      var index = head
      for (i, b) in buffers.enumerated() {
        let last = i == buffers.count - 1
        let next = le16(descriptors, 16 * Int(index) + 14)
        writeDescriptor(
          Int(index), address: b.address, length: b.length,
          flags: (b.isWritable ? Self.flagWrite : 0) | (last ? 0 : Self.flagNext), next: next)
        if !last { index = next } else { freeHead = next }
      }
    }
    freeCount -= needed
    chainDescriptors[Int(head)] = UInt16(needed)
    pushAvailable(head: head)
    return head
  }

  public func add(_ buffers: [DriverBuffer], indirect: Bool = false) -> UInt16? {
    buffers.withUnsafeBufferPointer { add($0, indirect: indirect) }
  }

  /// Linux `virtqueue_kick_prepare_split`: whether the device asked to be
  /// notified of what was added since the last call.
  public func needsKick() -> Bool {
    driverFullBarrier()
    let new = availableIndex
    let old = new &- addedSinceKick
    addedSinceKick = 0
    if eventIndex {
      let event = le16(used, 4 + 8 * Int(size))
      return (new &- event &- 1) < (new &- old)
    }
    return le16(used, 0) & 1 == 0
  }

  /// The next returned buffer, its descriptors back on the free list.
  public func popUsed() -> UsedBuffer? {
    guard le16(used, 2) != lastUsedIndex else { return nil }
    driverReadBarrier()
    let element = 4 + 8 * Int(lastUsedIndex & (size - 1))
    let id = UInt16(truncatingIfNeeded: le32(used, element))
    let length = le32(used, element + 4)
    lastUsedIndex &+= 1
    if id < size, chainDescriptors[Int(id)] > 0 {
      // Walk to the chain's last descriptor and splice it onto the free list.
      var last = id
      for _ in 1..<Int(chainDescriptors[Int(id)]) { last = le16(descriptors, 16 * Int(last) + 14) }
      put16(descriptors, 16 * Int(last) + 14, freeHead)
      freeHead = id
      freeCount += Int(chainDescriptors[Int(id)])
      chainDescriptors[Int(id)] = 0
    }
    if eventIndex { put16(available, 4 + 2 * Int(size), lastUsedIndex) }
    return UsedBuffer(id: id, length: length)
  }

  /// Interrupt suppression (§2.7.7): with EVENT_IDX, used_event names the
  /// used index after which to interrupt; otherwise the NO_INTERRUPT flag.
  public func enableInterrupts() {
    if eventIndex { put16(available, 4 + 2 * Int(size), lastUsedIndex) } else { put16(available, 0, 0) }
  }

  public func disableInterrupts() {
    if eventIndex {
      // Linux leaves used_event behind; pushing it half a ring away does the same.
      put16(available, 4 + 2 * Int(size), lastUsedIndex &- 1 &- size / 2)
    } else {
      put16(available, 0, 1)
    }
  }

  public func setUsedEvent(_ value: UInt16) { put16(available, 4 + 2 * Int(size), value) }
  public var availEvent: UInt16 { le16(used, 4 + 8 * Int(size)) }
  public var usedFlags: UInt16 { le16(used, 0) }
  public var usedIndex: UInt16 { le16(used, 2) }

  // Raw access: a hostile guest.

  public func writeDescriptor(_ index: Int, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
    writeDescriptor(into: descriptors, index, address: address, length: length, flags: flags, next: next)
  }

  func writeDescriptor(
    into table: UnsafeMutableRawPointer, _ index: Int, address: UInt64, length: UInt32, flags: UInt16,
    next: UInt16
  ) {
    let d = table + 16 * index
    put64(d, 0, address)
    put32(d, 8, length)
    put16(d, 12, flags)
    put16(d, 14, next)
  }

  /// Puts `head` in the available ring and publishes the new index.
  public func pushAvailable(head: UInt16) {
    put16(available, 4 + 2 * Int(availableIndex & (size - 1)), head)
    availableIndex &+= 1
    addedSinceKick &+= 1
    driverWriteBarrier()
    put16(available, 2, availableIndex)
  }

  public func setAvailableIndex(_ value: UInt16) {
    availableIndex = value
    put16(available, 2, value)
  }
}
