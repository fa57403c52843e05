import CPacketMemory

/// An entry of an `OpenAddressingTable`: a plain struct with its key.
public protocol OpenAddressingEntry {
  associatedtype Key: Equatable
  var key: Key { get }
  var isOccupied: Bool { get }
  static var empty: Self { get }
  static func hash(_ key: Key) -> UInt64
}

/// A hash table of plain structs in one allocation sized at configuration
/// time (a power of two): linear probing, at most `maximumProbes` slots
/// per lookup, deletion by backward shift (Knuth 6.4 Algorithm R) so no
/// tombstones lengthen probes. Single-threaded: one table per core.
/// The flow table and the connection table are instances.
///
/// Unsafe code: `slots` holds `capacity` initialised entries for the
/// table's lifetime; every index is masked into range.
public final class OpenAddressingTable<Entry: OpenAddressingEntry> {
  public let capacity: Int
  @usableFromInline let mask: Int
  @usableFromInline let slots: UnsafeMutablePointer<Entry>
  public var count = 0
  @usableFromInline let maximumProbes = 64
  @usableFromInline var sweepCursor = 0

  /// Whether the kernel backs the slots with huge pages (fewer TLB misses
  /// on random lookups in a large table).
  public let isHugePageBacked: Bool
  @usableFromInline let mappedBytes: Int

  /// `requested` is rounded up to a power of two; keep the load under 3/4.
  /// The slots are one mapping, on huge pages when the kernel gives them,
  /// else one heap allocation.
  public init(capacity requested: Int) {
    var c = 16
    while c < requested { c <<= 1 }
    capacity = c
    mask = c - 1
    let bytes = c * MemoryLayout<Entry>.stride
    var backing: Int32 = 0
    if let mapped = packet_memory_map(bytes, &backing) {
      // Sound: the mapping is page-aligned (at least the entry's alignment)
      // and `bytes` long; it is initialised just below before any read.
      slots = mapped.bindMemory(to: Entry.self, capacity: c)
      mappedBytes = bytes
    } else {
      slots = UnsafeMutablePointer<Entry>.allocate(capacity: c)
      mappedBytes = 0
    }
    isHugePageBacked = backing != 0
    slots.initialize(repeating: Entry.empty, count: c)
  }

  deinit {
    slots.deinitialize(count: capacity)
    if mappedBytes > 0 {
      packet_memory_unmap(UnsafeMutableRawPointer(slots), mappedBytes)
    } else {
      slots.deallocate()
    }
  }

  /// The slots a lookup after `prefetchRun` finds in the cache.
  public static var prefetchedRun: Int { 2 }

  /// Hints the cache to fetch the slot `slot` (a hash: its home slot) and
  /// the slot after it (four lines of 128-byte entries): at a load of
  /// 1/2, keys inserted after others often sit one slot past home. Per
  /// packet.
  @inlinable @inline(__always)
  public func prefetchRun(slot: Int) {
    let (first, second) = run(from: slot)
    packet_memory_prefetch(first)
    packet_memory_prefetch(UnsafeRawPointer(first) + 64)
    packet_memory_prefetch(second)
    packet_memory_prefetch(UnsafeRawPointer(second) + 64)
  }

  /// The entries in `slot` (a hash: its home slot) and the slot after it:
  /// the two `prefetchRun` fetches. Per packet.
  @inlinable @inline(__always)
  public func run(from slot: Int) -> (first: UnsafeMutablePointer<Entry>, second: UnsafeMutablePointer<Entry>)
  {
    let home = slot & mask
    return (slots + home, slots + ((home &+ 1) & mask))
  }

  /// Hints the cache to fetch the entry in `slot` for writing. Per packet.
  @inlinable @inline(__always)
  public func prefetch(slot: Int) {
    let entry = UnsafeRawPointer(slots + (slot & mask))
    packet_memory_prefetch_for_write(entry)
    packet_memory_prefetch_for_write(entry + (MemoryLayout<Entry>.stride - 1))
  }

  /// Hints the cache to fetch `entry` (from `entry(at:)`) for writing.
  /// Per packet.
  @inlinable @inline(__always)
  public func prefetch(entry: UnsafeMutablePointer<Entry>) {
    let raw = UnsafeRawPointer(entry)
    packet_memory_prefetch_for_write(raw)
    packet_memory_prefetch_for_write(raw + (MemoryLayout<Entry>.stride - 1))
  }

  public static var bytesPerSlot: Int { MemoryLayout<Entry>.stride }
  public var memoryBytes: Int { capacity * Self.bytesPerSlot }

  /// The slot holding `key`, or nil. Per packet.
  @inlinable @inline(__always)
  public func find(_ key: Entry.Key, hash: UInt64) -> Int? {
    var i = Int(truncatingIfNeeded: hash) & mask
    for _ in 0..<maximumProbes {
      let entry = slots + i
      if !entry.pointee.isOccupied { return nil }
      if entry.pointee.key == key { return i }
      i = (i &+ 1) & mask  // i ≤ mask: no overflow
    }
    return nil
  }

  /// The entry holding the key at `key`, looking at most `probes` slots
  /// from `slot` on (a home slot is the hash masked): the key compared
  /// where it lies rather than copied into registers first (a copy of a
  /// 64-byte key spills). Nil when it is not there, with `next` set to
  /// the slot to go on from when the limit was reached first, or to -1
  /// when the key is absent (an empty slot ends its run). A caller that
  /// prefetched the first slots of the run stops where its prefetch
  /// ends, prefetches on, and comes back later instead of waiting on
  /// memory. Per packet.
  @inlinable @inline(__always)
  public func entry(
    forKeyAt key: UnsafePointer<Entry.Key>, from slot: Int, probes: Int, next: inout Int
  ) -> UnsafeMutablePointer<Entry>? {
    var i = slot & mask
    for _ in 0..<probes {
      let entry = slots + i
      if !entry.pointee.isOccupied {
        next = -1
        return nil
      }
      if entry.pointee.key == key.pointee { return entry }
      i = (i &+ 1) & mask  // i ≤ mask: no overflow
    }
    next = i
    return nil
  }

  @inlinable
  public func entry(at slot: Int) -> UnsafeMutablePointer<Entry> { slots + (slot & mask) }

  /// The slot that holds `key` or where it would go (first free slot of
  /// its run), or nil when the run is longer than `maximumProbes`.
  @inlinable
  public func slotForInsert(_ key: Entry.Key, hash: UInt64) -> Int? {
    var i = Int(truncatingIfNeeded: hash) & mask
    for _ in 0..<maximumProbes {
      let entry = slots + i
      if !entry.pointee.isOccupied || entry.pointee.key == key { return i }
      i = (i &+ 1) & mask  // i ≤ mask: no overflow
    }
    return nil
  }

  /// Stores `entry` in `slot` (from `slotForInsert`).
  @inlinable
  public func store(_ entry: Entry, at slot: Int) {
    let p = slots + (slot & mask)
    if !p.pointee.isOccupied { count += 1 }
    p.pointee = entry
  }

  /// Removes the entry in `slot`, shifting later entries of its probe run
  /// back into the hole.
  public func remove(slot: Int) {
    var hole = slot & mask
    guard slots[hole].isOccupied else { return }
    count -= 1
    var j = hole
    while true {
      j = (j + 1) & mask
      if !slots[j].isOccupied { break }
      let home = Int(truncatingIfNeeded: Entry.hash(slots[j].key)) & mask
      // j may move into the hole unless its home lies cyclically in (hole, j].
      let homeBetween = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
      if !homeBetween {
        slots[hole] = slots[j]
        hole = j
      }
    }
    slots[hole] = Entry.empty
  }

  public func removeAll() {
    for i in 0..<capacity { slots[i] = Entry.empty }
    count = 0
  }

  /// Looks at `budget` slots from where the last sweep stopped and removes
  /// those `isStale` says are stale: ageing at a bounded cost per batch.
  @inlinable
  public func sweep(budget: Int, isStale: (Entry) -> Bool) {
    var looked = 0
    while looked < budget {
      let i = sweepCursor & mask
      if slots[i].isOccupied && isStale(slots[i]) {
        // The slot may now hold a shifted entry: look at it again.
        remove(slot: i)
      } else {
        sweepCursor = (sweepCursor + 1) & mask
      }
      looked += 1
    }
  }
}
