/// An IPv4 or IPv6 address, kept as 128 bits (IPv4 in the low 32) so that
/// prefix arithmetic is one code path.
public struct IPAddressValue: Hashable, Sendable, CustomStringConvertible {
  public var isIPv6: Bool
  public var bits: UInt128

  public var width: Int { isIPv6 ? 128 : 32 }

  /// Parses dotted-quad IPv4 or RFC 4291 §2.2 IPv6 text.
  public init?(_ text: Substring) {
    if text.contains(":") {
      guard let bits = Self.parseIPv6(text) else { return nil }
      self.isIPv6 = true
      self.bits = bits
    } else {
      let parts = text.split(separator: ".", omittingEmptySubsequences: false)
      guard parts.count == 4 else { return nil }
      var value: UInt128 = 0
      for part in parts {
        guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else {
          return nil
        }
        guard part.count == 1 || part.first != "0" else { return nil }  // no octal-looking octets
        value = value << 8 | UInt128(octet)
      }
      self.isIPv6 = false
      self.bits = value
    }
  }

  public init(isIPv6: Bool, bits: UInt128) {
    self.isIPv6 = isIPv6
    self.bits = bits
  }

  /// Network byte order, 4 or 16 bytes.
  public var bytes: [UInt8] {
    (0..<(width / 8)).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt128($0))) }
  }

  public var description: String {
    if !isIPv6 { return bytes.map(String.init).joined(separator: ".") }
    let groups = stride(from: 0, to: 16, by: 2).map {
      String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
    }
    return groups.joined(separator: ":")
  }

  private static func parseIPv6(_ text: Substring) -> UInt128? {
    let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
    guard halves.count <= 2 else { return nil }
    func groups(_ part: Substring) -> [UInt16]? {
      if part.isEmpty { return [] }
      var result: [UInt16] = []
      for group in part.split(separator: ":", omittingEmptySubsequences: false) {
        guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
        result.append(value)
      }
      return result
    }
    guard let head = groups(halves[0]) else { return nil }
    var all = head
    if halves.count == 2 {
      guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
      all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
    guard all.count == 8 else { return nil }
    return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
  }
}

/// A CIDR block such as `10.0.0.0/16` or `fd00::/48`, canonical (no host
/// bits set), as VPCs, subnets and routes use them.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
  public var network: IPAddressValue
  public var prefixLength: Int

  public enum ParseProblem: Error, Equatable {
    case malformed
    case hostBitsSet(canonical: String)
  }

  public static func parse(_ text: String) -> Result<CIDRBlock, ParseProblem> {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPAddressValue(parts[0]), let length = Int(parts[1]),
      (0...address.width).contains(length), parts[1].allSatisfy(\.isNumber)
    else { return .failure(.malformed) }
    let block = CIDRBlock(network: address, prefixLength: length)
    let canonical = CIDRBlock(
      network: IPAddressValue(isIPv6: address.isIPv6, bits: address.bits & block.mask), prefixLength: length)
    guard canonical.network == address else {
      return .failure(.hostBitsSet(canonical: canonical.description))
    }
    return .success(block)
  }

  public init(network: IPAddressValue, prefixLength: Int) {
    self.network = network
    self.prefixLength = prefixLength
  }

  var mask: UInt128 {
    let hostBits = network.width - prefixLength
    let all: UInt128 = network.isIPv6 ? .max : 0xFFFF_FFFF
    return hostBits >= 128 ? 0 : (all >> hostBits) << hostBits
  }

  public func contains(_ address: IPAddressValue) -> Bool {
    address.isIPv6 == network.isIPv6 && address.bits & mask == network.bits
  }

  /// Whether `other` lies wholly inside this block.
  public func contains(_ other: CIDRBlock) -> Bool {
    other.prefixLength >= prefixLength && contains(other.network)
  }

  public func overlaps(_ other: CIDRBlock) -> Bool { contains(other) || other.contains(self) }

  public var description: String { "\(network)/\(prefixLength)" }
}
