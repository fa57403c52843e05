/// The 16-bit EtherType of an Ethernet II frame or a VLAN tag (IEEE 802.3
/// §3.2.6; values from the IEEE registry).
public struct EtherType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt16

  @inlinable
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let ipv4 = EtherType(rawValue: 0x0800)
  public static let arp = EtherType(rawValue: 0x0806)
  /// IEEE 802.1Q customer VLAN tag.
  public static let vlan = EtherType(rawValue: 0x8100)
  public static let ipv6 = EtherType(rawValue: 0x86dd)
  /// IEEE 802.1ad service VLAN tag (the outer tag of QinQ).
  public static let qinq = EtherType(rawValue: 0x88a8)
  /// Transparent Ethernet bridging: the protocol type of Geneve's inner frame.
  public static let transparentEthernetBridging = EtherType(rawValue: 0x6558)

  /// Whether a VLAN tag (802.1Q or 802.1ad) follows rather than a payload.
  @inlinable public var isVLANTag: Bool { self == .vlan || self == .qinq }

  public var description: String {
    switch self {
    case .ipv4: return "IPv4"
    case .arp: return "ARP"
    case .vlan: return "802.1Q"
    case .ipv6: return "IPv6"
    case .qinq: return "802.1ad"
    case .transparentEthernetBridging: return "Ethernet"
    default:
      var text = "0x"
      appendHex(rawValue, width: 4, to: &text)
      return text
    }
  }
}
