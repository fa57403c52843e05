import Wire

extension FlowKey {
  /// The flow key of a parsed packet, or nil for packets that always take
  /// the slow path (ARP, ICMP errors, fragments, local-service traffic,
  /// tunnel packets not addressed to this card). Per packet.
  init?(
    _ parsed: ParsedPacket, in data: UnsafeMutableRawBufferPointer, inputPort: UInt16,
    cardUnderlay: FlowAddress,
    cardMAC: MACAddress
  ) {
    if inputPort == DataPlane.uplinkPort {
      // RFC 8926 §3.5.1: frames with critical options are always dropped by
      // the slow path, so they must never match a cached flow.
      if parsed.tunnel == .geneve,
        GenevePacket(
          unchecked: data.region(from: parsed.tunnelOffset, count: data.count - parsed.tunnelOffset)
        )
        .hasCriticalOptions
      {
        return nil
      }
      guard parsed.hasInnerFrame, !parsed.isTunnelOAM, parsed.outer.destinationMAC == cardMAC,
        let outerSource = parsed.outer.source,
        let outerDestination = parsed.outer.destination, FlowAddress(outerDestination) == cardUnderlay,
        let ports = FlowKey.ports(parsed.inner)
      else { return nil }
      self.init(
        source: FlowAddress(parsed.inner.source.unsafelyUnwrapped),
        destination: FlowAddress(parsed.inner.destination.unsafelyUnwrapped),
        sourcePort: ports.0, destinationPort: ports.1, protocol: parsed.inner.ipProtocol, direction: .ingress,
        portOrVNI: parsed.vni, mac: parsed.inner.destinationMAC, underlaySource: FlowAddress(outerSource),
        tunnel: parsed.tunnel)
    } else {
      guard let ports = FlowKey.ports(parsed.outer) else { return nil }
      self.init(
        source: FlowAddress(parsed.outer.source.unsafelyUnwrapped),
        destination: FlowAddress(parsed.outer.destination.unsafelyUnwrapped),
        sourcePort: ports.0, destinationPort: ports.1, protocol: parsed.outer.ipProtocol, direction: .egress,
        portOrVNI: UInt32(inputPort), mac: parsed.outer.sourceMAC)
    }
  }

  /// The ports (ICMP echo: the identifier on both sides, so that request
  /// and reply make one connection), or nil when the frame is not a
  /// cacheable IP packet.
  static func ports(_ h: FrameHeaders) -> (UInt16, UInt16)? {
    guard h.etherType == .ipv4 || h.etherType == .ipv6, h.source != nil, !h.isFragment,
      h.vlanCount == 0
    else { return nil }
    switch h.ipProtocol {
    case .tcp, .udp:
      return (h.sourcePort, h.destinationPort)
    case .icmp:
      guard
        h.icmpType == ICMPv4Message.MessageType.echoRequest
          || h.icmpType == ICMPv4Message.MessageType.echoReply
      else { return nil }
      return (h.icmpIdentifier, h.icmpIdentifier)
    case .icmpv6:
      guard
        h.icmpType == ICMPv6Message.MessageType.echoRequest
          || h.icmpType == ICMPv6Message.MessageType.echoReply
      else { return nil }
      return (h.icmpIdentifier, h.icmpIdentifier)
    default:
      return (0, 0)
    }
  }
}
