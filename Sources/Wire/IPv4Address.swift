/// An IPv4 address; `rawValue` is the address as a host-order number
/// (10.0.0.1 is 0x0a00_0001).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let rawValue: UInt32

  public static let any = IPv4Address(rawValue: 0)
  public static let broadcast = IPv4Address(rawValue: 0xffff_ffff)

  @inlinable
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// Parses dotted-quad text ("10.0.0.1"): exactly four decimal octets, no
  /// leading zeros (which some parsers read as octal), nothing else.
  public init?(_ text: String) {
    guard let value = parseIPv4(text.utf8) else { return nil }
    rawValue = value
  }

  /// Reads four octets at `pointer`.
  @inlinable @inline(__always)
  public init(loadingFrom pointer: UnsafeRawPointer) {
    rawValue = pointer.loadBigEndian32(at: 0)
  }

  @inlinable @inline(__always)
  public func store(to pointer: UnsafeMutableRawPointer) {
    pointer.storeBigEndian32(rawValue, at: 0)
  }

  /// RFC 1112 §4: 224.0.0.0/4.
  public var isMulticast: Bool { rawValue >> 28 == 0xe }
  public var isLoopback: Bool { rawValue >> 24 == 127 }
  public var isUnspecified: Bool { rawValue == 0 }
  public var isBroadcast: Bool { rawValue == 0xffff_ffff }
  /// RFC 3927: 169.254.0.0/16.
  public var isLinkLocal: Bool { rawValue >> 16 == 0xa9fe }

  public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }

  public var description: String {
    var text = ""
    for shift in [24, 16, 8, 0] as [UInt32] {
      if shift != 24 { text += "." }
      text += String(UInt8(truncatingIfNeeded: rawValue >> shift))
    }
    return text
  }
}

/// Dotted-quad parse shared by IPv4 and the IPv4 tail of IPv6 text.
func parseIPv4<C: Collection>(_ text: C) -> UInt32? where C.Element == UInt8 {
  var value: UInt32 = 0
  var octet: UInt32 = 0
  var digits = 0
  var octets = 0
  var leadingZero = false
  for c in text {
    if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
      if leadingZero { return nil }
      if digits == 0 && c == UInt8(ascii: "0") { leadingZero = true }
      octet = octet * 10 + UInt32(c - UInt8(ascii: "0"))
      digits += 1
      guard digits <= 3, octet <= 255 else { return nil }
    } else if c == UInt8(ascii: ".") {
      guard digits > 0, octets < 3 else { return nil }
      value = value << 8 | octet
      octets += 1
      octet = 0
      digits = 0
      leadingZero = false
    } else {
      return nil
    }
  }
  guard digits > 0, octets == 3 else { return nil }
  return value << 8 | octet
}
