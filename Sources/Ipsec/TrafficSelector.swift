import Wire

/// A block of addresses a selector matches: IPv4 or IPv6.
public enum AddressBlock: Hashable, Sendable, CustomStringConvertible {
  case v4(IPv4Prefix)
  case v6(IPv6Prefix)

  /// Any IPv4 or any IPv6 address.
  public static let anyV4 = AddressBlock.v4(IPv4Prefix(address: .any, length: 0)!)
  public static let anyV6 = AddressBlock.v6(IPv6Prefix(address: .unspecified, length: 0)!)

  public static func host(_ address: IPAddress) -> AddressBlock {
    switch address {
    case .v4(let a): return .v4(IPv4Prefix(address: a, length: 32)!)
    case .v6(let a): return .v6(IPv6Prefix(address: a, length: 128)!)
    }
  }

  /// Per packet: whether the 4- or 16-byte address at `pointer` is inside.
  func contains(addressAt pointer: UnsafeMutableRawPointer, isIPv6: Bool) -> Bool {
    switch self {
    case .v4(let prefix): return !isIPv6 && prefix.contains(IPv4Address(rawValue: pointer.bigEndian32(at: 0)))
    case .v6(let prefix):
      return isIPv6
        && prefix.contains(IPv6Address(high: pointer.bigEndian64(at: 0), low: pointer.bigEndian64(at: 8)))
    }
  }

  public var description: String {
    switch self {
    case .v4(let p): return p.description
    case .v6(let p): return p.description
    }
  }
}

/// RFC 4301 §4.4.1.1 selectors, reduced to what the card needs: a local and
/// a remote address block (IKEv2 traffic selectors, RFC 7296 §3.13, carry
/// the same as address ranges; ports and protocol are left to the security
/// groups in front).
public struct TrafficSelector: Hashable, Sendable, CustomStringConvertible {
  public var local: AddressBlock
  public var remote: AddressBlock

  public init(local: AddressBlock, remote: AddressBlock) {
    self.local = local
    self.remote = remote
  }

  /// Per packet: outbound, source is local; inbound, source is remote.
  func matches(
    source: UnsafeMutableRawPointer, destination: UnsafeMutableRawPointer, isIPv6: Bool, outbound: Bool
  )
    -> Bool
  {
    outbound
      ? local.contains(addressAt: source, isIPv6: isIPv6)
        && remote.contains(addressAt: destination, isIPv6: isIPv6)
      : remote.contains(addressAt: source, isIPv6: isIPv6)
        && local.contains(addressAt: destination, isIPv6: isIPv6)
  }

  public var description: String { local.description + " <-> " + remote.description }
}
