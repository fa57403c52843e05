/// An IPv4 prefix (CIDR block). The address is kept with its host bits
/// cleared, so that two prefixes naming the same block are equal.
public struct IPv4Prefix: Hashable, Sendable, CustomStringConvertible {
  public let address: IPv4Address
  public let length: Int

  /// Nil when `length` is outside 0...32. Host bits of `address` are cleared.
  public init?(address: IPv4Address, length: Int) {
    guard length >= 0 && length <= 32 else { return nil }
    self.length = length
    self.address = IPv4Address(rawValue: address.rawValue & IPv4Prefix.mask(length))
  }

  /// Parses "10.0.0.0/8". Text with host bits set ("10.0.0.1/8") is
  /// accepted and normalised.
  public init?(_ text: String) {
    guard let (addressText, length) = splitPrefix(text, maximumLength: 32),
      let address = IPv4Address(addressText)
    else { return nil }
    self.init(address: address, length: length)
  }

  @inlinable @inline(__always)
  static func mask(_ length: Int) -> UInt32 {
    length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
  }

  /// The netmask as an address (255.255.255.0 for /24).
  public var netmask: IPv4Address { IPv4Address(rawValue: IPv4Prefix.mask(length)) }

  @inlinable
  public func contains(_ other: IPv4Address) -> Bool {
    other.rawValue & IPv4Prefix.mask(length) == address.rawValue
  }

  /// Whether `other` is this block or a block inside it.
  public func contains(_ other: IPv4Prefix) -> Bool {
    other.length >= length && contains(other.address)
  }

  public var description: String { address.description + "/" + String(length) }
}

/// An IPv6 prefix, host bits cleared like `IPv4Prefix`.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
  public let address: IPv6Address
  public let length: Int

  public init?(address: IPv6Address, length: Int) {
    guard length >= 0 && length <= 128 else { return nil }
    self.length = length
    let (highMask, lowMask) = IPv6Prefix.mask(length)
    self.address = IPv6Address(high: address.high & highMask, low: address.low & lowMask)
  }

  /// Parses "2001:db8::/32".
  public init?(_ text: String) {
    guard let (addressText, length) = splitPrefix(text, maximumLength: 128),
      let address = IPv6Address(addressText)
    else { return nil }
    self.init(address: address, length: length)
  }

  @inlinable @inline(__always)
  static func mask(_ length: Int) -> (UInt64, UInt64) {
    let high: UInt64 = length == 0 ? 0 : (length >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - length))
    let low: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
    return (high, low)
  }

  @inlinable
  public func contains(_ other: IPv6Address) -> Bool {
    let (highMask, lowMask) = IPv6Prefix.mask(length)
    return other.high & highMask == address.high && other.low & lowMask == address.low
  }

  public func contains(_ other: IPv6Prefix) -> Bool {
    other.length >= length && contains(other.address)
  }

  public var description: String { address.description + "/" + String(length) }
}

/// Splits "ADDRESS/LENGTH"; the length is decimal without leading zeros.
func splitPrefix(_ text: String, maximumLength: Int) -> (String, Int)? {
  let bytes = Array(text.utf8)
  guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return nil }
  let digits = bytes[(slash + 1)...]
  guard !digits.isEmpty, digits.count <= 3 else { return nil }
  if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
  var length = 0
  for c in digits {
    guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
    length = length * 10 + Int(c - UInt8(ascii: "0"))
  }
  guard length <= maximumLength else { return nil }
  return (String(decoding: bytes[..<slash], as: UTF8.self), length)
}
