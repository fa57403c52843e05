import Wire

/// What the fast path needs from a packet besides its flow key.
public struct PacketSummary: Hashable, Sendable {
  /// TCP flags of the (inner) segment, for connection tracking.
  public var tcpFlags: TCPFlags
  /// Where the inner Ethernet frame starts (ingress), else 0.
  public var innerFrameOffset: Int

  public init(tcpFlags: TCPFlags, innerFrameOffset: Int) {
    self.tcpFlags = tcpFlags
    self.innerFrameOffset = innerFrameOffset
  }
}

/// The fast path's classifier: the flow key of the common packet shapes
/// (untagged IPv4/IPv6 TCP or UDP from a guest; IPv4 VXLAN or Geneve to
/// this card carrying such a frame), read through Wire's checked views
/// without building a `ParsedPacket`. It accepts a packet only if
/// `PacketParser` would accept it and would yield the same key; anything
/// else returns nil and takes the full parser (a property test holds the
/// two to that). Per packet, for the shapes `IPv4FastClassifier` leaves
/// to it: out of line, so that the common path's loop stays small enough
/// for the compiler to inline the action program's run into it.
enum FastClassifier {
  @inline(never)
  static func classify(
    _ data: UnsafeMutableRawBufferPointer, inputPort: UInt16, cardUnderlay: FlowAddress, cardMAC: MACAddress
  ) -> (FlowKey, PacketSummary)? {
    do throws(WireError) {
      let ethernet = try EthernetFrame(checking: data)
      if inputPort != DataPlane.uplinkPort {
        guard let l3 = try transport(ethernet.etherType, ethernet.payload, udpTunnelPortsAllowed: false)
        else {
          return nil
        }
        let key = FlowKey(
          source: l3.source, destination: l3.destination, sourcePort: l3.sourcePort,
          destinationPort: l3.destinationPort,
          protocol: l3.proto, direction: .egress, portOrVNI: UInt32(inputPort), mac: ethernet.source)
        return (key, PacketSummary(tcpFlags: l3.flags, innerFrameOffset: 0))
      }
      // Ingress: outer IPv4 to this card, UDP to the VXLAN or Geneve port.
      guard ethernet.etherType == .ipv4, ethernet.destination == cardMAC else { return nil }
      let ip = try IPv4Packet(checking: ethernet.payload)
      guard !ip.isFragment, ip.protocol.isUDP, FlowAddress(ip.destination) == cardUnderlay else { return nil }
      let udp = try UDPDatagram(checking: ip.payload)
      let tunnelOffset = EthernetFrame.Field.headerLength + ip.headerLength + UDPDatagram.Field.headerLength
      let inner: UnsafeMutableRawBufferPointer
      let vni: UInt32
      let tunnel: TunnelKind
      var tunnelLength: Int
      switch udp.destinationPort {
      case VXLANPacket.udpPort:
        let vxlan = try VXLANPacket(checking: udp.payload)
        inner = vxlan.payload
        vni = vxlan.vni
        tunnel = .vxlan
        tunnelLength = vxlan.headerLength
      case GenevePacket.udpPort:
        let geneve = try GenevePacket(checking: udp.payload)
        guard !geneve.isOAM, !geneve.hasCriticalOptions, geneve.protocolType == .transparentEthernetBridging
        else {
          return nil
        }
        var options = geneve.options
        while try options.next() != nil {}
        inner = geneve.payload
        vni = geneve.vni
        tunnel = .geneve
        tunnelLength = geneve.headerLength
      default:
        return nil
      }
      let innerEthernet = try EthernetFrame(checking: inner)
      guard
        let l3 = try transport(innerEthernet.etherType, innerEthernet.payload, udpTunnelPortsAllowed: true)
      else {
        return nil
      }
      let key = FlowKey(
        source: l3.source, destination: l3.destination, sourcePort: l3.sourcePort,
        destinationPort: l3.destinationPort,
        protocol: l3.proto, direction: .ingress, portOrVNI: vni, mac: innerEthernet.destination,
        underlaySource: FlowAddress(ip.source), tunnel: tunnel)
      return (key, PacketSummary(tcpFlags: l3.flags, innerFrameOffset: tunnelOffset + tunnelLength))
    } catch {
      return nil
    }
  }

  struct Transport {
    var source: FlowAddress
    var destination: FlowAddress
    var sourcePort: UInt16
    var destinationPort: UInt16
    var proto: IPProtocol
    var flags: TCPFlags
  }

  /// IPv4 (not a fragment) or IPv6 without extension headers, carrying
  /// TCP or UDP. A guest's UDP to a tunnel port is left to the full
  /// parser, which also parses the tunnel header inside it.
  @inline(__always)
  static func transport(
    _ etherType: EtherType, _ bytes: UnsafeMutableRawBufferPointer, udpTunnelPortsAllowed: Bool
  )
    throws(WireError) -> Transport?
  {
    let source: FlowAddress
    let destination: FlowAddress
    let proto: IPProtocol
    let payload: UnsafeMutableRawBufferPointer
    if etherType == .ipv4 {
      let ip = try IPv4Packet(checking: bytes)
      guard !ip.isFragment else { return nil }
      source = FlowAddress(ip.source)
      destination = FlowAddress(ip.destination)
      proto = ip.protocol
      payload = ip.payload
    } else if etherType == .ipv6 {
      let ip = try IPv6Packet(checking: bytes)
      source = FlowAddress(ip.source)
      destination = FlowAddress(ip.destination)
      proto = ip.nextHeader
      payload = ip.payload
    } else {
      return nil
    }
    if proto.isUDP {
      let udp = try UDPDatagram(checking: payload)
      let port = udp.destinationPort
      if !udpTunnelPortsAllowed && (port == VXLANPacket.udpPort || port == GenevePacket.udpPort) {
        return nil
      }
      return Transport(
        source: source, destination: destination, sourcePort: udp.sourcePort, destinationPort: port,
        proto: proto,
        flags: TCPFlags(rawValue: 0))
    }
    if proto.isTCP {
      let tcp = try TCPSegment(checking: payload)
      return Transport(
        source: source, destination: destination, sourcePort: tcp.sourcePort,
        destinationPort: tcp.destinationPort,
        proto: proto, flags: tcp.flags)
    }
    return nil
  }
}
