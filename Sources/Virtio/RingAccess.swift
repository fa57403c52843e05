import Synchronization

/// Little-endian loads and stores of ring fields (virtio 1.x rings are
/// little-endian, §2.4) and the memory barriers the ring protocol needs.
/// Callers pass pointers obtained from `GuestMemory` with the field inside.
@inline(__always) @usableFromInline
func loadLE16(_ p: UnsafeMutableRawPointer, _ offset: Int) -> UInt16 {
  UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always) @usableFromInline
func loadLE32(_ p: UnsafeMutableRawPointer, _ offset: Int) -> UInt32 {
  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always) @usableFromInline
func loadLE64(_ p: UnsafeMutableRawPointer, _ offset: Int) -> UInt64 {
  UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

@inline(__always) @usableFromInline
func storeLE16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt16) {
  p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
}

@inline(__always) @usableFromInline
func storeLE32(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt32) {
  p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
}

/// Reads after an index or flags load see what the driver wrote before it
/// published that index (the driver's write barrier, §2.7.13.3).
@inline(__always) @usableFromInline
func readBarrier() { atomicMemoryFence(ordering: .acquiring) }

/// Ring entries are visible before the index or flags that publish them.
@inline(__always) @usableFromInline
func writeBarrier() { atomicMemoryFence(ordering: .releasing) }

/// A store (used index) is ordered before a later load (used_event or the
/// suppression flags): the classic lost-notification race (§2.7.10).
@inline(__always) @usableFromInline
func fullBarrier() { atomicMemoryFence(ordering: .sequentiallyConsistent) }

/// virtio 1.2 §2.7.10: the driver wants a notification when the used
/// index passes `event`, i.e. when `event` lies in [old, new) modulo 2^16.
@inline(__always) @usableFromInline
func needsEvent(event: UInt16, new: UInt16, old: UInt16) -> Bool {
  (new &- event &- 1) < (new &- old)
}
