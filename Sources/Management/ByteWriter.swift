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

  private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
    var shift = T.bitWidth - 8
    while shift >= 0 {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
      shift -= 8
    }
  }
}
