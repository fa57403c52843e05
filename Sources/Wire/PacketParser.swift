/// Parses an Ethernet frame down to its upper layer and, for VXLAN and
/// Geneve, the inner frame likewise (one level): the classifier's and the
/// fuzz target's entry point. Per packet: no allocation, every length
/// checked by the views it uses, hostile input reported as `WireError`.
public enum PacketParser {
  /// At most two VLAN tags (QinQ); a third is `unsupported`.
  public static let maximumVLANTags = 2

  /// Parses `frame`; see `parse(_:into:)`.
  @inlinable
  public static func parse(_ frame: UnsafeRawBufferPointer) throws(WireError) -> ParsedPacket {
    var packet = ParsedPacket()
    try parse(frame, into: &packet)
    return packet
  }

  /// Parses `frame` into `packet`, which is reset first. The batch form
  /// for the hot path: the result is written in place rather than copied.
  @inlinable
  public static func parse(_ frame: UnsafeRawBufferPointer, into packet: inout ParsedPacket) throws(WireError)
  {
    // Sound: the views are only read from here, never written through.
    let bytes = UnsafeMutableRawBufferPointer(mutating: frame)
    packet = ParsedPacket()
    var tunnelPayload = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    try parseFrame(bytes, at: 0, into: &packet.outer, tunnelPayload: &tunnelPayload)
    // Only a whole UDP datagram (not a fragment) can carry a tunnel.
    guard packet.outer.ipProtocol == .udp && !packet.outer.isFragment && packet.outer.transportOffset != 0
    else {
      return
    }
    let udpPayloadOffset = packet.outer.payloadOffset
    let port = packet.outer.destinationPort
    var unused = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    if port == VXLANPacket.udpPort {
      let vxlan = try VXLANPacket(checking: tunnelPayload)
      packet.tunnel = .vxlan
      packet.vni = vxlan.vni
      packet.tunnelOffset = udpPayloadOffset
      try parseFrame(
        vxlan.payload, at: udpPayloadOffset + vxlan.headerLength, into: &packet.inner, tunnelPayload: &unused)
      packet.hasInnerFrame = true
    } else if port == GenevePacket.udpPort {
      let geneve = try GenevePacket(checking: tunnelPayload)
      var options = geneve.options
      while try options.next() != nil {}
      packet.tunnel = .geneve
      packet.vni = geneve.vni
      packet.tunnelOffset = udpPayloadOffset
      packet.isTunnelOAM = geneve.isOAM
      if geneve.protocolType == .transparentEthernetBridging {
        try parseFrame(
          geneve.payload, at: udpPayloadOffset + geneve.headerLength, into: &packet.inner,
          tunnelPayload: &unused)
        packet.hasInnerFrame = true
      }
    }
  }

  /// Parses one frame that starts `offset` bytes into the outermost one.
  /// For UDP, `tunnelPayload` receives the datagram's payload.
  @inlinable
  static func parseFrame(
    _ bytes: UnsafeMutableRawBufferPointer, at offset: Int, into headers: inout FrameHeaders,
    tunnelPayload: inout UnsafeMutableRawBufferPointer
  ) throws(WireError) {
    let ethernet = try EthernetFrame(checking: bytes)
    headers.destinationMAC = ethernet.destination
    headers.sourceMAC = ethernet.source
    var etherType = ethernet.etherType
    var rest = ethernet.payload
    var position = offset + ethernet.headerLength
    while etherType.isVLANTag {
      guard headers.vlanCount < maximumVLANTags else { throw .unsupported }
      let tag = try VLANTag(checking: rest)
      if headers.vlanCount == 0 { headers.outerVLANID = tag.vlanID } else { headers.innerVLANID = tag.vlanID }
      headers.vlanCount += 1
      etherType = tag.etherType
      rest = tag.payload
      position += tag.headerLength
    }
    headers.etherType = etherType
    headers.networkOffset = position
    switch etherType {
    case .ipv4:
      let ip = try IPv4Packet(checking: rest)
      headers.source = .v4(ip.source)
      headers.destination = .v4(ip.destination)
      headers.ipProtocol = ip.protocol
      headers.timeToLive = ip.timeToLive
      headers.isFragment = ip.isFragment
      headers.isLaterFragment = ip.fragmentOffset != 0
      headers.networkEndOffset = position + ip.totalLength
      let upper = position + ip.headerLength
      headers.payloadOffset = upper
      headers.payloadLength = ip.totalLength - ip.headerLength
      if !headers.isLaterFragment {
        try parseTransport(ip.payload, at: upper, into: &headers, tunnelPayload: &tunnelPayload)
      }
    case .ipv6:
      let ip = try IPv6Packet(checking: rest)
      headers.source = .v6(ip.source)
      headers.destination = .v6(ip.destination)
      headers.timeToLive = ip.hopLimit
      headers.networkEndOffset = position + ip.headerLength + ip.payloadLength
      let walk = try ip.upperLayer()
      headers.ipProtocol = walk.protocol
      headers.isFragment = walk.isFragment
      headers.isLaterFragment = walk.fragmentByteOffset != 0
      let upper = position + ip.headerLength + walk.offset
      let payload = ip.payload
      let upperBytes = payload.region(from: walk.offset, count: payload.count - walk.offset)
      headers.payloadOffset = upper
      headers.payloadLength = upperBytes.count
      if !headers.isLaterFragment {
        try parseTransport(upperBytes, at: upper, into: &headers, tunnelPayload: &tunnelPayload)
      }
    case .arp:
      let arp = try ARPPacket(checking: rest)
      headers.arpOperation = arp.operation
      headers.arpSenderHardwareAddress = arp.senderHardwareAddress
      headers.source = .v4(arp.senderProtocolAddress)
      headers.destination = .v4(arp.targetProtocolAddress)
      headers.networkEndOffset = position + arp.headerLength
    default:
      headers.payloadOffset = position
      headers.payloadLength = rest.count
    }
  }

  /// The upper layer of an IP packet whose first fragment (or whole
  /// datagram) is `bytes`.
  @inlinable
  static func parseTransport(
    _ bytes: UnsafeMutableRawBufferPointer, at offset: Int, into headers: inout FrameHeaders,
    tunnelPayload: inout UnsafeMutableRawBufferPointer
  ) throws(WireError) {
    switch headers.ipProtocol {
    case .udp:
      if headers.isFragment {
        // The UDP length covers the whole datagram, not this fragment:
        // only the ports are read.
        guard bytes.count >= UDPDatagram.Field.headerLength else { throw .truncated }
        let udp = UDPDatagram(unchecked: bytes)
        headers.sourcePort = udp.sourcePort
        headers.destinationPort = udp.destinationPort
        headers.transportOffset = offset
        return
      }
      let udp = try UDPDatagram(checking: bytes)
      headers.sourcePort = udp.sourcePort
      headers.destinationPort = udp.destinationPort
      headers.transportOffset = offset
      headers.payloadOffset = offset + udp.headerLength
      headers.payloadLength = udp.length - udp.headerLength
      tunnelPayload = udp.payload
    case .tcp:
      let tcp = try TCPSegment(checking: bytes)
      headers.sourcePort = tcp.sourcePort
      headers.destinationPort = tcp.destinationPort
      headers.tcpFlags = tcp.flags
      headers.transportOffset = offset
      headers.payloadOffset = offset + tcp.headerLength
      headers.payloadLength = bytes.count - tcp.headerLength
    case .icmp:
      let icmp = try ICMPv4Message(checking: bytes)
      headers.icmpType = icmp.type
      headers.icmpCode = icmp.code
      if icmp.isEcho { headers.icmpIdentifier = icmp.identifier }
      headers.transportOffset = offset
      headers.payloadOffset = offset + icmp.headerLength
      headers.payloadLength = bytes.count - icmp.headerLength
    case .icmpv6:
      let icmp = try ICMPv6Message(checking: bytes)
      headers.icmpType = icmp.type
      headers.icmpCode = icmp.code
      if icmp.type == ICMPv6Message.MessageType.echoRequest
        || icmp.type == ICMPv6Message.MessageType.echoReply
      {
        headers.icmpIdentifier = icmp.identifier
      }
      headers.transportOffset = offset
      let fixed = ICMPv6Message.fixedLength(type: icmp.type)
      headers.payloadOffset = offset + fixed
      headers.payloadLength = bytes.count - fixed
    case .esp:
      let esp = try ESPPacket(checking: bytes)
      headers.espSPI = esp.spi
      headers.transportOffset = offset
      headers.payloadOffset = offset + esp.headerLength
      headers.payloadLength = bytes.count - esp.headerLength
    default:
      break
    }
  }
}
