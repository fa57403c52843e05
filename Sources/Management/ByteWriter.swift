/// Appends big-endian integers and byte runs to a growing buffer.
public struct ByteWriter: Sendable {
  public private(set) var bytes: [UInt8]

  public init(capacity: Int = 64) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  public mutating func write(_ value: UInt8) { bytes.append(value) }
  public mutating func write(_ value: UInt16) { writeInteger(value) }
  public mutating func write(_ value: UInt32) { writeInteger(value) }
  public mutating func write(_ value: UInt64) { writeInteger(value) }
  public mutating func write<C: Collection>(contentsOf run: C) where C.Element == UInt8 {
    bytes.append(contentsOf: run)
  }

  /// Overwrites a big-endian `UInt32` already written (a length filled in
  /// once the value behind it is known).
  public mutating func patch(_ value: UInt32, at offset: Int) {
    for index in 0..<4 {
      bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(index)))
    }
  }

  private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
    var shift = T.bitWidth - 8
    while shift >= 0 {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
      shift -= 8
    }
  }
}
