/// An IPv6 address as two host-order 64-bit halves (`high` holds the first
/// eight octets on the wire).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let high: UInt64
  public let low: UInt64

  public static let unspecified = IPv6Address(high: 0, low: 0)
  public static let loopback = IPv6Address(high: 0, low: 1)

  @inlinable
  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// Builds an address from its eight 16-bit groups.
  public init(
    _ g0: UInt16, _ g1: UInt16, _ g2: UInt16, _ g3: UInt16,
    _ g4: UInt16, _ g5: UInt16, _ g6: UInt16, _ g7: UInt16
  ) {
    high = UInt64(g0) << 48 | UInt64(g1) << 32 | UInt64(g2) << 16 | UInt64(g3)
    low = UInt64(g4) << 48 | UInt64(g5) << 32 | UInt64(g6) << 16 | UInt64(g7)
  }

  /// Parses RFC 4291 §2.2 text: eight groups of up to four hex digits, at
  /// most one `::` standing for one or more zero groups, and optionally a
  /// dotted-quad IPv4 tail ("::ffff:10.0.0.1"). Nil for anything else.
  public init?(_ text: String) {
    guard let (high, low) = parseIPv6(Array(text.utf8)) else { return nil }
    self.init(high: high, low: low)
  }

  /// Reads sixteen octets at `pointer`.
  @inlinable @inline(__always)
  public init(loadingFrom pointer: UnsafeRawPointer) {
    high = pointer.loadBigEndian64(at: 0)
    low = pointer.loadBigEndian64(at: 8)
  }

  @inlinable @inline(__always)
  public func store(to pointer: UnsafeMutableRawPointer) {
    pointer.storeBigEndian64(high, at: 0)
    pointer.storeBigEndian64(low, at: 8)
  }

  /// Group `index` (0...7).
  public func group(_ index: Int) -> UInt16 {
    let half = index < 4 ? high : low
    return UInt16(truncatingIfNeeded: half >> UInt64(16 * (3 - index % 4)))
  }

  /// RFC 4291 §2.7: ff00::/8.
  public var isMulticast: Bool { high >> 56 == 0xff }
  /// RFC 4291 §2.5.6: fe80::/10.
  public var isLinkLocal: Bool { high >> 54 == 0xfe80 >> 6 }
  public var isUnspecified: Bool { high == 0 && low == 0 }
  public var isLoopback: Bool { high == 0 && low == 1 }

  /// RFC 4291 §2.7.1: the solicited-node multicast address ff02::1:ffXX:XXXX
  /// that neighbour solicitations for this address go to.
  public var solicitedNodeMulticast: IPv6Address {
    IPv6Address(high: 0xff02_0000_0000_0000, low: 0x0000_0001_ff00_0000 | (low & 0xff_ffff))
  }

  public static func < (a: IPv6Address, b: IPv6Address) -> Bool {
    (a.high, a.low) < (b.high, b.low)
  }

  /// RFC 5952 §4: lower case, no leading zeros, the longest run of two or
  /// more zero groups (the first if tied) shortened to `::`.
  public var description: String {
    var bestStart = -1
    var bestLength = 1
    var runStart = -1
    for i in 0...8 {
      if i < 8 && group(i) == 0 {
        if runStart < 0 { runStart = i }
      } else if runStart >= 0 {
        if i - runStart > bestLength {
          bestStart = runStart
          bestLength = i - runStart
        }
        runStart = -1
      }
    }
    var text = ""
    var i = 0
    while i < 8 {
      if i == bestStart {
        text += "::"
        i += bestLength
        continue
      }
      if i > 0 && i != bestStart + bestLength { text += ":" }
      appendHex(group(i), width: 0, to: &text)
      i += 1
    }
    return text
  }
}

/// RFC 4291 §2.2 text form; see `IPv6Address.init?(_:)`.
func parseIPv6(_ text: [UInt8]) -> (UInt64, UInt64)? {
  guard text.count >= 2, text.count <= 45 else { return nil }
  var groups: [UInt16] = []
  var gapAt = -1
  var index = 0
  let colon = UInt8(ascii: ":")
  if text[0] == colon {
    guard text[1] == colon else { return nil }
    gapAt = 0
    index = 2
  }
  while index < text.count {
    // One group, or an IPv4 tail.
    var end = index
    var sawDot = false
    while end < text.count && text[end] != colon {
      if text[end] == UInt8(ascii: ".") { sawDot = true }
      end += 1
    }
    if sawDot {
      guard end == text.count, groups.count <= 6, let v4 = parseIPv4(text[index..<end]) else {
        return nil
      }
      groups.append(UInt16(v4 >> 16))
      groups.append(UInt16(v4 & 0xffff))
      index = end
      break
    }
    guard end > index, end - index <= 4 else { return nil }
    var value: UInt16 = 0
    for c in text[index..<end] {
      guard let d = hexDigitValue(c) else { return nil }
      value = value << 4 | UInt16(d)
    }
    groups.append(value)
    guard groups.count <= 8 else { return nil }
    index = end
    if index < text.count {
      // A colon follows: either a separator or the start of `::`.
      index += 1
      if index < text.count && text[index] == colon {
        guard gapAt < 0 else { return nil }
        gapAt = groups.count
        index += 1
      } else if index == text.count {
        return nil  // trailing single colon
      }
    }
  }
  if gapAt >= 0 {
    guard groups.count <= 7 else { return nil }
    groups.insert(contentsOf: [UInt16](repeating: 0, count: 8 - groups.count), at: gapAt)
  }
  guard groups.count == 8 else { return nil }
  var high: UInt64 = 0
  var low: UInt64 = 0
  for i in 0..<4 { high = high << 16 | UInt64(groups[i]) }
  for i in 4..<8 { low = low << 16 | UInt64(groups[i]) }
  return (high, low)
}
