/// A 48-bit IEEE 802 MAC address, kept in the low 48 bits of `rawValue` in
/// transmission order (the first octet on the wire is bits 47...40).
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let rawValue: UInt64

  /// The broadcast address ff:ff:ff:ff:ff:ff.
  public static let broadcast = MACAddress(rawValue: 0xffff_ffff_ffff)
  /// The all-zero address 00:00:00:00:00:00.
  public static let zero = MACAddress(rawValue: 0)

  @inlinable
  public init(rawValue: UInt64) {
    self.rawValue = rawValue & 0xffff_ffff_ffff
  }

  public init(_ o0: UInt8, _ o1: UInt8, _ o2: UInt8, _ o3: UInt8, _ o4: UInt8, _ o5: UInt8) {
    var v = UInt64(o0) << 40 | UInt64(o1) << 32 | UInt64(o2) << 24
    v |= UInt64(o3) << 16 | UInt64(o4) << 8 | UInt64(o5)
    self.init(rawValue: v)
  }

  /// Parses `aa:bb:cc:dd:ee:ff` (or with `-` separators); nil otherwise.
  public init?(_ text: String) {
    var value: UInt64 = 0
    var octets = 0
    var digits = 0
    var separator: UInt8 = 0
    for c in text.utf8 {
      if let d = hexDigitValue(c) {
        guard digits < 2 else { return nil }
        value = value << 4 | UInt64(d)
        digits += 1
      } else if c == UInt8(ascii: ":") || c == UInt8(ascii: "-") {
        guard digits > 0, octets < 5, separator == 0 || separator == c else { return nil }
        separator = c
        value = value << (4 * UInt64(2 - digits))
        octets += 1
        digits = 0
      } else {
        return nil
      }
    }
    guard octets == 5, digits > 0 else { return nil }
    value = value << (4 * UInt64(2 - digits))
    self.init(rawValue: value)
  }

  /// Reads six octets at `pointer`.
  @inlinable @inline(__always)
  public init(loadingFrom pointer: UnsafeRawPointer) {
    let high = UInt64(pointer.loadBigEndian16(at: 0))
    let low = UInt64(pointer.loadBigEndian32(at: 2))
    self.rawValue = high << 32 | low
  }

  /// Writes the six octets to `pointer`.
  @inlinable @inline(__always)
  public func store(to pointer: UnsafeMutableRawPointer) {
    pointer.storeBigEndian16(UInt16(truncatingIfNeeded: rawValue >> 32), at: 0)
    pointer.storeBigEndian32(UInt32(truncatingIfNeeded: rawValue), at: 2)
  }

  /// Octet `index` (0...5) in transmission order.
  public func octet(_ index: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: rawValue >> UInt64(8 * (5 - index)))
  }

  /// IEEE 802 §8.2: the I/G bit, the least significant bit of the first octet.
  @inlinable public var isMulticast: Bool { rawValue & 0x0100_0000_0000 != 0 }
  @inlinable public var isBroadcast: Bool { rawValue == 0xffff_ffff_ffff }
  @inlinable public var isUnicast: Bool { !isMulticast }
  /// The U/L bit: set for locally administered addresses.
  @inlinable public var isLocallyAdministered: Bool { rawValue & 0x0200_0000_0000 != 0 }

  public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }

  public var description: String {
    var text = ""
    for i in 0..<6 {
      if i > 0 { text += ":" }
      appendHex(octet(i), width: 2, to: &text)
    }
    return text
  }
}

/// The value of an ASCII hex digit, or nil.
@usableFromInline
func hexDigitValue(_ c: UInt8) -> UInt8? {
  switch c {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
  case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
  case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
  default: return nil
  }
}

/// Appends `value` in lower-case hex; `width` 0 means no leading zeros.
func appendHex<T: FixedWidthInteger>(_ value: T, width: Int, to text: inout String) {
  var count = 1
  var v = value >> 4
  while v != 0 {
    count += 1
    v >>= 4
  }
  count = max(count, width)
  for i in stride(from: count - 1, through: 0, by: -1) {
    let d = UInt8(truncatingIfNeeded: (value >> T(4 * i)) & 0xf)
    text.unicodeScalars.append(Unicode.Scalar(d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10))
  }
}
