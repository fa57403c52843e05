/// An IPv4 or IPv6 address with a prefix length, as the channel carries it:
/// one byte of prefix length, then 4 or 16 address bytes. A host address is
/// a prefix of full length.
public struct IPPrefix: Sendable, Equatable {
  public var address: [UInt8]
  public var length: UInt8

  public init(address: [UInt8], length: UInt8) {
    self.address = address
    self.length = length
  }

  public static func host(_ address: [UInt8]) -> IPPrefix {
    IPPrefix(address: address, length: UInt8(address.count * 8))
  }

  public func encoded() -> [UInt8] { [length] + address }

  public static func decode(_ field: TLVField) throws(ManagementError) -> IPPrefix {
    try decode(field.value, tag: field.tag)
  }

  static func decode(_ bytes: ArraySlice<UInt8>, tag: UInt8) throws(ManagementError) -> IPPrefix {
    guard bytes.count == 5 || bytes.count == 17 else { throw .badFieldLength(tag: tag, length: bytes.count) }
    let length = bytes[bytes.startIndex]
    let address = Array(bytes.dropFirst())
    guard Int(length) <= address.count * 8 else { throw .invalidValue(tag: tag, value: UInt64(length)) }
    return IPPrefix(address: address, length: length)
  }
}
