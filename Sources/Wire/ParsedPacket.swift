/// The encapsulation found in an outer frame's UDP payload.
public enum TunnelKind: UInt8, Hashable, Sendable, CustomStringConvertible {
  case none
  /// RFC 7348, UDP port 4789.
  case vxlan
  /// RFC 8926, UDP port 6081.
  case geneve

  public var description: String {
    switch self {
    case .none: return "none"
    case .vxlan: return "VXLAN"
    case .geneve: return "Geneve"
    }
  }
}

/// What `PacketParser` found in one Ethernet frame: addresses, protocols,
/// ports and where each header starts. Offsets are from the start of the
/// outermost frame; a zero offset means "absent". A plain value: no
/// allocation, no references into the packet.
public struct FrameHeaders: Hashable, Sendable {
  public var destinationMAC = MACAddress.zero
  public var sourceMAC = MACAddress.zero
  /// 0, 1 or 2 VLAN tags (802.1Q, or 802.1ad outer + 802.1Q inner).
  public var vlanCount = 0
  /// The first (outer) tag's VLAN ID, and the second tag's.
  public var outerVLANID: UInt16 = 0
  public var innerVLANID: UInt16 = 0
  /// The EtherType after any tags.
  public var etherType = EtherType(rawValue: 0)
  /// Where the network header (IPv4, IPv6, ARP) starts.
  public var networkOffset = 0

  /// ARP: the sender and target protocol addresses are `source` and
  /// `destination`; the sender hardware address is here.
  public var arpOperation: UInt16 = 0
  public var arpSenderHardwareAddress = MACAddress.zero

  /// IPv4 or IPv6 source and destination (ARP: sender and target).
  public var source: IPAddress? = nil
  public var destination: IPAddress? = nil
  /// The upper-layer protocol, after IPv6 extension headers.
  public var ipProtocol = IPProtocol(rawValue: 0)
  public var timeToLive: UInt8 = 0
  public var isFragment = false
  /// A fragment other than the first: no upper-layer header was parsed.
  public var isLaterFragment = false
  /// The end of the IP packet (its total length); bytes after it are padding.
  public var networkEndOffset = 0

  /// Where the upper-layer header starts (0 when absent or a later fragment).
  public var transportOffset = 0
  public var sourcePort: UInt16 = 0
  public var destinationPort: UInt16 = 0
  public var tcpFlags = TCPFlags(rawValue: 0)
  public var icmpType: UInt8 = 0
  public var icmpCode: UInt8 = 0
  /// ICMP echo identifier (the "port" connection tracking keys echo on).
  public var icmpIdentifier: UInt16 = 0
  public var espSPI: UInt32 = 0
  /// Where the upper layer's payload starts, and its length.
  public var payloadOffset = 0
  public var payloadLength = 0

  public init() {}

  @inlinable public var isIPv4: Bool { etherType == .ipv4 && source != nil }
  @inlinable public var isIPv6: Bool { etherType == .ipv6 && source != nil }
}

/// An Ethernet frame parsed by `PacketParser`: the outer headers and, for
/// VXLAN and Geneve (one level), the inner frame's.
public struct ParsedPacket: Hashable, Sendable {
  public var outer = FrameHeaders()
  public var tunnel = TunnelKind.none
  public var vni: UInt32 = 0
  /// Where the VXLAN or Geneve header starts.
  public var tunnelOffset = 0
  /// Geneve: the O bit (control traffic, never for a tenant).
  public var isTunnelOAM = false
  /// Whether `inner` holds a parsed inner Ethernet frame.
  public var hasInnerFrame = false
  public var inner = FrameHeaders()

  public init() {}
}
