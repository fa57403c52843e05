/// Reads big-endian integers and byte runs from an untrusted buffer. Every
/// read is bounds-checked and throws `.truncated` instead of trapping.
/// Management messages are per configuration change, not per packet, so this
/// is safe array code.
public struct ByteReader: Sendable {
  public let bytes: ArraySlice<UInt8>
  public private(set) var offset: Int

  public init(_ bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
    self.offset = bytes.startIndex
  }

  public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

  public var remaining: Int { bytes.endIndex - offset }
  public var isAtEnd: Bool { offset == bytes.endIndex }

  public mutating func readBytes(_ count: Int) throws(ManagementError) -> ArraySlice<UInt8> {
    guard count >= 0, count <= remaining else {
      throw .truncated(needed: count, available: remaining)
    }
    let run = bytes[offset..<offset + count]
    offset += count
    return run
  }

  public mutating func readUInt8() throws(ManagementError) -> UInt8 {
    try readInteger(UInt8.self)
  }

  public mutating func readUInt16() throws(ManagementError) -> UInt16 {
    try readInteger(UInt16.self)
  }

  public mutating func readUInt32() throws(ManagementError) -> UInt32 {
    try readInteger(UInt32.self)
  }

  public mutating func readUInt64() throws(ManagementError) -> UInt64 {
    try readInteger(UInt64.self)
  }

  /// Network byte order, as everywhere on the channel.
  private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(ManagementError) -> T {
    let run = try readBytes(T.bitWidth / 8)
    var value: T = 0
    for byte in run { value = value << 8 | T(byte) }
    return value
  }
}
