/// Little-endian integer reads and writes on byte arrays, bounds-checked by
/// the callers' size checks (vhost-user is little-endian on every host we
/// serve; vhost-user.rst: "in the host's native endianness", and both the
/// x86 host and the aarch64 card are little-endian).
extension Array where Element == UInt8 {
  /// Reads a little-endian integer at `offset`; the caller checked
  /// `offset + size <= count`.
  func littleEndian<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
    var value: T = 0
    for i in 0..<MemoryLayout<T>.size {
      value |= T(truncatingIfNeeded: self[offset + i]) << (8 * i)
    }
    return value
  }

  mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    for i in 0..<MemoryLayout<T>.size {
      append(UInt8(truncatingIfNeeded: value >> (8 * i)))
    }
  }
}
