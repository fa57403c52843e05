import Synchronization

// The driver's side of the ring protocol uses the same little-endian
// layout and barriers as the device (virtio 1.2 §2.7.13, §2.8.21).
@inline(__always) func le16(_ p: UnsafeMutableRawPointer, _ o: Int) -> UInt16 {
  UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
}
@inline(__always) func le32(_ p: UnsafeMutableRawPointer, _ o: Int) -> UInt32 {
  UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}
@inline(__always) func put16(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt16) {
  p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt16.self)
}
@inline(__always) func put32(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt32) {
  p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self)
}
@inline(__always) func put64(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt64) {
  p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt64.self)
}
@inline(__always) func driverWriteBarrier() { atomicMemoryFence(ordering: .releasing) }
@inline(__always) func driverReadBarrier() { atomicMemoryFence(ordering: .acquiring) }
@inline(__always) func driverFullBarrier() { atomicMemoryFence(ordering: .sequentiallyConsistent) }
