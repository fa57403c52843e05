// Big-endian loads and stores for the ESP code paths in this module.
//
// Wire keeps its own helpers internal; these are the same single unaligned
// load or store plus byte swap. Every caller has checked `offset + size`
// against the region it was given (the frame's length, headroom or
// tailroom) before it calls them: they check nothing themselves.

extension UnsafeMutableRawPointer {
  @inlinable @inline(__always)
  func byte(at offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }

  @inlinable @inline(__always)
  func setByte(_ value: UInt8, at offset: Int) { storeBytes(of: value, toByteOffset: offset, as: UInt8.self) }

  @inlinable @inline(__always)
  func bigEndian16(at offset: Int) -> UInt16 {
    UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
  }

  @inlinable @inline(__always)
  func bigEndian32(at offset: Int) -> UInt32 {
    UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }

  @inlinable @inline(__always)
  func bigEndian64(at offset: Int) -> UInt64 {
    UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }

  @inlinable @inline(__always)
  func setBigEndian16(_ value: UInt16, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
  }

  @inlinable @inline(__always)
  func setBigEndian32(_ value: UInt32, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
  }

  @inlinable @inline(__always)
  func setBigEndian64(_ value: UInt64, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
  }
}
