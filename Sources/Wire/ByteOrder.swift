// Big-endian loads and stores at any byte offset.
//
// This is the one place where header fields are read from or written to raw
// memory. Every caller (the protocol views in this module) has checked, when
// the view was created, that `offset + size` lies inside the region it was
// given; the helpers themselves check nothing, so that a header access is a
// single unaligned load plus a byte swap on the per-packet path. The
// loads are public for other modules' per-packet readers (receive
// steering), which bound their offsets the same way.

extension UnsafeRawPointer {
  @inlinable @inline(__always)
  public func loadBigEndian8(at offset: Int) -> UInt8 {
    load(fromByteOffset: offset, as: UInt8.self)
  }

  @inlinable @inline(__always)
  public func loadBigEndian16(at offset: Int) -> UInt16 {
    UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
  }

  @inlinable @inline(__always)
  public func loadBigEndian32(at offset: Int) -> UInt32 {
    UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }

  @inlinable @inline(__always)
  public func loadBigEndian64(at offset: Int) -> UInt64 {
    UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }
}

extension UnsafeMutableRawPointer {
  // Loads go through the read-only helpers above.
  @inlinable @inline(__always)
  func loadBigEndian8(at offset: Int) -> UInt8 { UnsafeRawPointer(self).loadBigEndian8(at: offset) }

  @inlinable @inline(__always)
  func loadBigEndian16(at offset: Int) -> UInt16 { UnsafeRawPointer(self).loadBigEndian16(at: offset) }

  @inlinable @inline(__always)
  func loadBigEndian32(at offset: Int) -> UInt32 { UnsafeRawPointer(self).loadBigEndian32(at: offset) }

  @inlinable @inline(__always)
  func loadBigEndian64(at offset: Int) -> UInt64 { UnsafeRawPointer(self).loadBigEndian64(at: offset) }

  @inlinable @inline(__always)
  func storeBigEndian8(_ value: UInt8, at offset: Int) {
    storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
  }

  @inlinable @inline(__always)
  func storeBigEndian16(_ value: UInt16, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
  }

  @inlinable @inline(__always)
  func storeBigEndian32(_ value: UInt32, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
  }

  @inlinable @inline(__always)
  func storeBigEndian64(_ value: UInt64, at offset: Int) {
    storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
  }
}

extension UnsafeMutableRawBufferPointer {
  /// The sub-region `[start, start + count)`, rebased so that its index 0 is
  /// `start`. Callers have checked the range against `self.count`.
  @inlinable @inline(__always)
  func region(from start: Int, count: Int) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: baseAddress.map { $0 + start }, count: count)
  }
}
