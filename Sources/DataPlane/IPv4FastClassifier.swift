import Wire

/// The flow key (and its hash) of the commonest shapes read straight from
/// the frame with unaligned big-endian loads, in one pass and without
/// building views: an untagged IPv4 TCP or UDP frame from a guest, and such
/// a frame in VXLAN or option-less Geneve over IPv4 to this card, every
/// IPv4 header without options (IHL 5, so every later offset is a
/// constant; a header with options goes to `FastClassifier`). It makes the same
/// checks as Wire's views in `FastClassifier` (lengths, version, IHL,
/// fragments, tunnel flags), so whatever it accepts, `FastClassifier`
/// accepts with the same key (a property test holds the two, and the
/// full parser, together). Anything else returns false and is left to
/// `FastClassifier`. Per packet.
///
/// Unsafe code: every load is at an offset checked against `count`
/// first; `frame` points at `count` readable bytes of a packet buffer.
enum IPv4FastClassifier {
  @usableFromInline static let ethernetLength = EthernetFrame.Field.headerLength
  @usableFromInline static let etherTypeIPv4: UInt16 = 0x0800
  @usableFromInline static let etherTypeTransparentBridging: UInt16 = 0x6558

  @inline(__always)
  static func classify(
    _ frame: UnsafeMutableRawPointer, count: Int, inputPort: UInt16, cardUnderlay: FlowAddress,
    cardMAC: MACAddress, into lane: UnsafeMutablePointer<FastLane>
  ) -> Bool {
    guard count >= ethernetLength, frame.bigEndian16(at: 12) == etherTypeIPv4 else { return false }
    if inputPort != DataPlane.uplinkPort {
      return transport(
        frame + ethernetLength, count: count &- ethernetLength, tunnelPortsAllowed: false,
        direction: .egress, portOrVNI: UInt32(inputPort),
        mac: MACAddress(loadingFrom: UnsafeRawPointer(frame + 6)),
        underlaySource: .zero, tunnel: .none, innerFrameOffset: 0, into: lane)
    }
    // Ingress: outer IPv4 to this card (RFC 791 §3.1), UDP (RFC 768) to
    // the VXLAN or Geneve port.
    // The destination MAC compared as it lies in memory (two loads and
    // compares; the card's MAC in network order is loop-invariant).
    guard
      frame.loadUnaligned(as: UInt32.self) == UInt32(truncatingIfNeeded: cardMAC.rawValue >> 16).bigEndian,
      frame.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        == UInt16(truncatingIfNeeded: cardMAC.rawValue).bigEndian
    else { return false }
    let ip = frame + ethernetLength
    let ipCount = count &- ethernetLength
    guard let totalLength = ipv4TotalLength(ip, count: ipCount),
      ip.byte(at: 9) == ProtocolNumber.udp,
      FlowAddress(IPv4Address(rawValue: ip.bigEndian32(at: 16))) == cardUnderlay
    else { return false }
    let udp = ip + ipv4HeaderLength
    let udpCount = totalLength &- ipv4HeaderLength
    // One length check for the whole stack: a datagram shorter than UDP,
    // the 8-byte tunnel header, the inner Ethernet and an inner IPv4
    // header is refused by one of the checks below anyway (both tunnel
    // headers are 8 bytes here: Geneve options go to the view-based
    // classifier, which walks them).
    guard udpCount >= minimumTunnelledLength else { return false }
    let udpLength = Int(udp.bigEndian16(at: 4))
    guard udpLength >= minimumTunnelledLength, udpLength <= udpCount else { return false }
    let tunnel = udp + 8
    let tunnelCount = udpLength &- 8
    let kind: TunnelKind
    switch udp.bigEndian16(at: 2) {
    case VXLANPacket.udpPort:
      // RFC 7348 §5: the I flag must be set.
      guard tunnel.byte(at: 0) & 0x08 != 0 else { return false }
      kind = .vxlan
    case GenevePacket.udpPort:
      // RFC 8926 §3.4: version 0, no options, not OAM, no critical
      // options, carrying Ethernet.
      guard tunnel.byte(at: 0) == 0,
        tunnel.byte(at: 1) & (GenevePacket.oamFlag | GenevePacket.criticalOptionsFlag) == 0,
        tunnel.bigEndian16(at: 2) == etherTypeTransparentBridging
      else { return false }
      kind = .geneve
    default:
      return false
    }
    let vni = tunnel.bigEndian32(at: 4) >> 8
    let inner = tunnel + 8
    let innerCount = tunnelCount &- 8
    guard inner.bigEndian16(at: 12) == etherTypeIPv4 else { return false }
    return transport(
      inner + ethernetLength, count: innerCount &- ethernetLength, tunnelPortsAllowed: true,
      direction: .ingress, portOrVNI: vni, mac: MACAddress(loadingFrom: UnsafeRawPointer(inner)),
      underlaySource: FlowAddress(IPv4Address(rawValue: ip.bigEndian32(at: 12))), tunnel: kind,
      innerFrameOffset: ethernetLength &+ ipv4HeaderLength &+ 16, into: lane)
  }

  @usableFromInline static let ipv4HeaderLength = 20
  /// UDP (8), a VXLAN or option-less Geneve header (8), the inner Ethernet
  /// header (14) and an inner IPv4 header (20).
  @usableFromInline static let minimumTunnelledLength = 50

  /// The total length of an IPv4 header without options (version 4, IHL
  /// 5: one byte compare instead of decoding both) that
  /// `IPv4Packet(checking:)` accepts and that is not a fragment; nil
  /// otherwise.
  @inline(__always)
  static func ipv4TotalLength(_ ip: UnsafeMutableRawPointer, count: Int) -> Int? {
    guard count >= ipv4HeaderLength, ip.byte(at: 0) == 0x45 else { return nil }
    let totalLength = Int(ip.bigEndian16(at: 2))
    guard totalLength >= ipv4HeaderLength, totalLength <= count,
      // RFC 791 §3.1: MF set or a non-zero offset is a fragment.
      ip.bigEndian16(at: 6) & 0x3fff == 0
    else { return nil }
    return totalLength
  }

  /// The IPv4 header at `ip` and its TCP or UDP header into `lane`, with
  /// the key's hash: computed here, where each caller's constant words
  /// (no underlay source from a guest, the zero high words of IPv4
  /// addresses) are known and fold away.
  @inline(__always)
  static func transport(
    _ ip: UnsafeMutableRawPointer, count: Int, tunnelPortsAllowed: Bool, direction: FlowDirection,
    portOrVNI: UInt32, mac: MACAddress, underlaySource: FlowAddress, tunnel: TunnelKind,
    innerFrameOffset: Int, into lane: UnsafeMutablePointer<FastLane>
  ) -> Bool {
    guard let totalLength = ipv4TotalLength(ip, count: count) else { return false }
    let proto = ip.byte(at: 9)
    let l4 = ip + ipv4HeaderLength
    let l4Count = totalLength &- ipv4HeaderLength
    let flags: UInt8
    if proto == ProtocolNumber.udp {
      guard l4Count >= 8 else { return false }
      let length = Int(l4.bigEndian16(at: 4))
      guard length >= 8, length <= l4Count else { return false }
      let port = l4.bigEndian16(at: 2)
      // A guest's UDP to a tunnel port is parsed in full (the tunnel inside too).
      guard tunnelPortsAllowed || (port != VXLANPacket.udpPort && port != GenevePacket.udpPort) else {
        return false
      }
      flags = 0
    } else if proto == ProtocolNumber.tcp {
      guard l4Count >= 20 else { return false }
      let dataOffset = Int(l4.byte(at: 12) >> 4) &* 4
      guard dataOffset >= 20, dataOffset <= l4Count else { return false }
      flags = l4.byte(at: 13)
    } else {
      return false
    }
    let key = FlowKey(
      source: FlowAddress(IPv4Address(rawValue: ip.bigEndian32(at: 12))),
      destination: FlowAddress(IPv4Address(rawValue: ip.bigEndian32(at: 16))),
      sourcePort: l4.bigEndian16(at: 0), destinationPort: l4.bigEndian16(at: 2),
      protocol: IPProtocol(rawValue: proto), direction: direction, portOrVNI: portOrVNI, mac: mac,
      underlaySource: underlaySource, tunnel: tunnel)
    lane.pointee.key = key
    lane.pointee.hash = key.hashValue64
    lane.pointee.summary = PacketSummary(
      tcpFlags: TCPFlags(rawValue: flags), innerFrameOffset: innerFrameOffset)
    return true
  }
}

extension UnsafeMutableRawPointer {
  // Network byte order loads at a byte offset, unaligned (RFC 791 §3.1's
  // fields sit at any alignment behind a 14-byte Ethernet header).
  @inline(__always)
  fileprivate func byte(at offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
  @inline(__always)
  fileprivate func bigEndian16(at offset: Int) -> UInt16 {
    UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
  }
  @inline(__always)
  fileprivate func bigEndian32(at offset: Int) -> UInt32 {
    UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }
}
