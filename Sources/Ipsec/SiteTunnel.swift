import DataPlane
import Wire

/// A VPC's IPsec tunnel to an outside site's gateway (a Linux box with
/// `ip xfrm`, a cloud VPN endpoint): RFC 4303 tunnel mode between this
/// card's underlay address and the gateway's, carrying the VPC's packets
/// to and from the site's prefixes (Docs/ipsec.md, "Outside sites").
///
/// The VPC pipeline does not know ESP: to it the gateway is a VTEP of the
/// VPC (`RouteTarget.gateway`), so routes, security groups, connection
/// tracking, rate limits and path MTU work as for any gateway. Between the
/// pipeline and the uplink this stage swaps the two forms:
///
/// - outbound, `unwrap` takes the pipeline's Geneve or VXLAN packet to the
///   gateway, checks it carries this site's VNI, and leaves the tenant's IP
///   packet behind the outer Ethernet header, for the site's SA to seal in
///   tunnel mode;
/// - inbound, after the site's SA has opened a packet (so it was sealed
///   with this site's key), `wrap` puts the tenant packet back in the
///   VPC's encapsulation as if the gateway's VTEP had sent it, and the
///   pipeline delivers it to the NIC.
///
/// Which VPC a packet belongs to is decided by the SA that opened it, never
/// by an address the packet carries: a site's key only ever reaches its
/// own VPC. IPv4 underlay (the outer header); the tenant packet may be
/// either family.
public struct SiteTunnel: Hashable, Sendable {
  /// The site gateway's underlay address (the SAs' remote endpoint).
  public var gateway: IPv4Address
  /// This card's underlay address (the SAs' local endpoint).
  public var card: IPv4Address
  public var vni: UInt32
  public var encapsulation: Encapsulation
  /// The SAD slot of the site's outbound SA.
  public var outboundSlot: Int
  /// The MAC of the VPC's gateway on this card: the inner frame's source
  /// and destination, as for a packet routed by the gateway.
  public var gatewayMAC: MACAddress

  public init(
    gateway: IPv4Address, card: IPv4Address, vni: UInt32, encapsulation: Encapsulation, outboundSlot: Int,
    gatewayMAC: MACAddress
  ) {
    self.gateway = gateway
    self.card = card
    self.vni = vni
    self.encapsulation = encapsulation
    self.outboundSlot = outboundSlot
    self.gatewayMAC = gatewayMAC
  }

  static let ethernet = 14
  static let ipv4 = 20
  static let udp = 8
  static let tunnelHeader = 8
  /// Outer IPv4, UDP, Geneve (no options) or VXLAN, inner Ethernet.
  static let wrapping = ipv4 + udp + tunnelHeader + ethernet

  var destinationPort: UInt16 { encapsulation == .geneve ? 6081 : 4789 }

  /// Per packet: the outer IPv4 destination of an Ethernet frame, if it
  /// has one.
  static func outerIPv4Destination(_ buffer: PacketBuffer) -> IPv4Address? {
    guard buffer.length >= ethernet + ipv4 else { return nil }
    let frame = buffer.storage + buffer.dataOffset
    guard frame.bigEndian16(at: 12) == EtherType.ipv4.rawValue else { return nil }
    return IPv4Address(rawValue: frame.bigEndian32(at: ethernet + 16))
  }

  /// Per packet. The pipeline's tunnel packet to this site's gateway
  /// becomes outer Ethernet + the tenant's IP packet. False (the buffer
  /// unchanged) for anything else: another VNI or encapsulation, options
  /// or fragments the pipeline never makes, a non-IP inner frame.
  func unwrap(_ buffer: inout PacketBuffer) -> Bool {
    let frame = buffer.storage + buffer.dataOffset
    let length = buffer.length
    guard length >= Self.ethernet + Self.wrapping + Self.ipv4,
      frame.bigEndian16(at: 12) == EtherType.ipv4.rawValue
    else { return false }
    let ip = frame + Self.ethernet
    let headerLength = Int(ip.byte(at: 0) & 0x0f) * 4
    guard ip.byte(at: 0) >> 4 == 4, headerLength >= Self.ipv4,
      ip.byte(at: 9) == IPProtocol.udp.rawValue, ip.bigEndian16(at: 6) & 0x3fff == 0,
      Int(ip.bigEndian16(at: 2)) <= length - Self.ethernet
    else { return false }
    let udp = ip + headerLength
    guard length >= Self.ethernet + headerLength + Self.udp + Self.tunnelHeader,
      udp.bigEndian16(at: 2) == destinationPort
    else { return false }
    let tunnel = udp + Self.udp
    var tunnelLength = Self.tunnelHeader
    switch encapsulation {
    case .geneve:
      // RFC 8926 §3.4: version 0, Ethernet payload; options are skipped.
      let first = tunnel.byte(at: 0)
      guard first >> 6 == 0, tunnel.bigEndian16(at: 2) == EtherType.transparentEthernetBridging.rawValue
      else { return false }
      tunnelLength += Int(first & 0x3f) * 4
    case .vxlan:
      // RFC 7348 §5: the I flag.
      guard tunnel.byte(at: 0) & 0x08 != 0 else { return false }
    }
    guard tunnel.bigEndian32(at: 4) >> 8 == vni else { return false }
    let innerEthernet = Self.ethernet + headerLength + Self.udp + tunnelLength
    let innerIP = innerEthernet + Self.ethernet
    guard length > innerIP else { return false }
    let innerType = frame.bigEndian16(at: innerEthernet + 12)
    guard innerType == EtherType.ipv4.rawValue || innerType == EtherType.ipv6.rawValue else { return false }
    // The outer MACs (to the underlay's next hop) move in front of the
    // tenant packet; the regions do not overlap (innerEthernet >= 50).
    let start = frame + innerEthernet
    start.copyMemory(from: frame, byteCount: 12)
    start.setBigEndian16(innerType, at: 12)
    return buffer.removeFront(innerEthernet)
  }

  /// Per packet. Ethernet + the tenant packet that this site's SA opened
  /// becomes the VPC's tunnel packet from the gateway's VTEP to this card.
  /// False (the buffer unchanged) without headroom or for a non-IP packet.
  func wrap(_ buffer: inout PacketBuffer) -> Bool {
    guard buffer.length > Self.ethernet, buffer.headroom >= Self.wrapping else { return false }
    let old = buffer.storage + buffer.dataOffset
    let innerType = old.bigEndian16(at: 12)
    guard innerType == EtherType.ipv4.rawValue || innerType == EtherType.ipv6.rawValue else { return false }
    let innerLength = buffer.length - Self.ethernet
    guard buffer.prepend(Self.wrapping) else { return false }
    let frame = buffer.storage + buffer.dataOffset
    // Outer Ethernet: the MACs the frame arrived with (to this card).
    frame.copyMemory(from: old, byteCount: 12)
    frame.setBigEndian16(EtherType.ipv4.rawValue, at: 12)
    let udpLength = Self.udp + Self.tunnelHeader + Self.ethernet + innerLength
    let region = UnsafeMutableRawBufferPointer(start: frame, count: buffer.length)
    IPv4Header(source: gateway, destination: card, protocol: .udp, payloadLength: udpLength)
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: region[Self.ethernet...]))
    let udp = frame + Self.ethernet + Self.ipv4
    // RFC 8926 §3.3 / RFC 7348 §5: a source port from the flow (here the
    // tenant addresses) for ECMP; checksum zero over IPv4 (RFC 768).
    let inner = frame + Self.ethernet + Self.wrapping
    let hash =
      inner.bigEndian32(at: innerType == EtherType.ipv4.rawValue ? 12 : 20)
      ^ inner.bigEndian32(at: innerType == EtherType.ipv4.rawValue ? 16 : 36)
    let sourcePort = UInt16(truncatingIfNeeded: 49152 | (hash ^ hash >> 16) & 0x3fff)
    UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: udpLength - Self.udp)
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: region[(Self.ethernet + Self.ipv4)...]))
    let tunnel = UnsafeMutableRawBufferPointer(rebasing: region[(Self.ethernet + Self.ipv4 + Self.udp)...])
    switch encapsulation {
    case .geneve: GeneveHeader(vni: vni).emit(into: tunnel)
    case .vxlan: VXLANHeader(vni: vni).emit(into: tunnel)
    }
    let innerEthernet = udp + Self.udp + Self.tunnelHeader
    gatewayMAC.store(to: innerEthernet)
    gatewayMAC.store(to: innerEthernet + 6)
    innerEthernet.setBigEndian16(innerType, at: 12)
    return true
  }
}

/// What the site stage dropped, by reason (per card, not per SA: the SA's
/// own counters count what it sealed and opened).
public struct SiteTunnelCounters: Hashable, Sendable {
  /// A packet the pipeline sent to a site's gateway that was not that
  /// site's VPC traffic (a route of another VPC naming the gateway).
  public var notTheSiteVPC: UInt64 = 0
  /// A packet opened by a tunnel SA that belongs to no site, or whose
  /// inner packet is not IP.
  public var noSite: UInt64 = 0
  /// No headroom to put the VPC's encapsulation back.
  public var noBufferRoom: UInt64 = 0
  public init() {}
}
