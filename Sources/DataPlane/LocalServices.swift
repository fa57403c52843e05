import Wire

// Services the card answers itself so that a stock guest configures
// itself without any flooding: ARP (proxy for the whole subnet), IPv6
// neighbour advertisements for the gateway, ping of the gateway, DHCPv4
// (DHCPServer.swift), and ICMP "too big" when encapsulation would exceed
// the underlay MTU. Replies are written in place into the request's buffer
// and sent back out of the port it came from. Slow path.

extension DataPlane {
  /// RFC 826: answers requests for the gateway and for every address of
  /// the subnet (the owner's MAC if the VPC knows it, the virtual router's
  /// otherwise), so the guest never needs a broadcast to reach anyone.
  func answerARP(_ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, tables set: TableSet)
    -> SlowPathOutcome
  {
    guard case .v4(let sender) = frame.source, case .v4(let target) = frame.destination else {
      return .dropped(.malformed)
    }
    guard frame.arpSenderHardwareAddress == nic.nic.mac else { return .dropped(.spoofedSourceMAC) }
    // RFC 5227 probes come from 0.0.0.0; anything else must be the NIC's.
    guard sender.isUnspecified || nic.addresses.contains(FlowAddress(sender)) else {
      return .dropped(.spoofedSourceIP)
    }
    guard frame.arpOperation == ARPPacket.Operation.request.rawValue, sender != target,
      nic.subnet.ipv4.contains(target), !sender.isUnspecified
    else { return .dropped(.localServiceIgnored) }
    var answer = set.card.gatewayMAC
    if target != nic.subnet.gatewayIPv4,
      let location = set.nicLocations[VPCAddress(vpcIndex: nic.vpcIndex, address: FlowAddress(target))]
    {
      switch location {
      case .local(_, let mac), .remote(_, let mac): answer = mac
      }
    }
    let data = buffer.data
    EthernetHeader(destination: nic.nic.mac, source: answer, etherType: .arp).emit(into: data)
    ARPHeader(
      operation: .reply, senderHardwareAddress: answer, senderProtocolAddress: target,
      targetHardwareAddress: nic.nic.mac, targetProtocolAddress: sender
    ).emit(into: data.region(from: frame.networkOffset, count: ARPHeader.headerLength))
    return reply(&buffer, length: frame.networkOffset + ARPHeader.headerLength)
  }

  /// Traffic addressed to the card itself, or nil for ordinary traffic.
  func answerLocalService(
    _ buffer: inout PacketBuffer, parsed: ParsedPacket, nic: LocalNIC, tables set: TableSet
  )
    -> SlowPathOutcome?
  {
    let frame = parsed.outer
    switch frame.destination {
    case .v4(let destination):
      if frame.ipProtocol == .udp && frame.destinationPort == DHCPMessage.serverPort {
        return answerDHCP(&buffer, frame: frame, nic: nic, tables: set)
      }
      if destination == nic.subnet.gatewayIPv4 {
        guard case .v4(let source) = frame.source, nic.addresses.contains(FlowAddress(source)) else {
          return .dropped(.spoofedSourceIP)
        }
        guard frame.ipProtocol == .icmp, frame.icmpType == ICMPv4Message.MessageType.echoRequest else {
          return .dropped(.localServiceIgnored)
        }
        return answerEchoV4(&buffer, frame: frame, nic: nic, tables: set)
      }
      if destination.isBroadcast || destination.isMulticast || destination == nic.subnet.ipv4.broadcastAddress
      {
        return .dropped(.localServiceIgnored)
      }
      return nil
    case .v6(let destination):
      if frame.ipProtocol == .icmpv6 && frame.icmpType == ICMPv6Message.MessageType.neighborSolicitation {
        return answerNeighborSolicitation(&buffer, frame: frame, nic: nic, tables: set)
      }
      if let gateway = nic.subnet.gatewayIPv6, destination == gateway {
        guard case .v6(let source) = frame.source, nic.addresses.contains(FlowAddress(source)) else {
          return .dropped(.spoofedSourceIP)
        }
        guard frame.ipProtocol == .icmpv6, frame.icmpType == ICMPv6Message.MessageType.echoRequest else {
          return .dropped(.localServiceIgnored)
        }
        return answerEchoV6(&buffer, frame: frame, nic: nic, gateway: gateway, tables: set)
      }
      // Multicast (MLD, RS, DAD) and link-local traffic stays on the link,
      // which has no one else on it.
      if destination.isMulticast || destination.isLinkLocal { return .dropped(.localServiceIgnored) }
      return nil
    case nil:
      return .dropped(.malformed)
    }
  }

  /// RFC 792: echo reply from the gateway address.
  func answerEchoV4(_ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, tables set: TableSet)
    -> SlowPathOutcome
  {
    guard case .v4(let source) = frame.source, frame.transportOffset != 0, !frame.isFragment else {
      return .dropped(.malformed)
    }
    let data = buffer.data
    let icmpLength = frame.networkEndOffset - frame.transportOffset
    let message = ICMPv4Message(unchecked: data.region(from: frame.transportOffset, count: icmpLength))
    let identifier = message.identifier
    let sequence = message.sequenceNumber
    EthernetHeader(destination: nic.nic.mac, source: set.card.gatewayMAC, etherType: .ipv4).emit(into: data)
    // The reply carries no IP options: move the ICMP message up if the request had some.
    let ipOffset = frame.networkOffset
    let icmpOffset = ipOffset + IPv4Header.headerLength
    if icmpOffset != frame.transportOffset {
      (data.baseAddress! + icmpOffset).copyMemory(
        from: UnsafeRawPointer(data.baseAddress! + frame.transportOffset), byteCount: icmpLength)
    }
    IPv4Header(
      source: nic.subnet.gatewayIPv4, destination: source, protocol: .icmp, payloadLength: icmpLength
    )
    .emit(into: data.region(from: ipOffset, count: IPv4Header.headerLength))
    ICMPv4Header.echoReply(identifier: identifier, sequenceNumber: sequence)
      .emit(into: data.region(from: icmpOffset, count: icmpLength))
    return reply(&buffer, length: icmpOffset + icmpLength)
  }

  /// RFC 4443 §4.2: echo reply from the gateway's IPv6 address.
  func answerEchoV6(
    _ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, gateway: IPv6Address,
    tables set: TableSet
  ) -> SlowPathOutcome {
    guard case .v6(let source) = frame.source, frame.transportOffset != 0 else { return .dropped(.malformed) }
    let data = buffer.data
    let icmpLength = frame.networkEndOffset - frame.transportOffset
    let request = ICMPv6Message(unchecked: data.region(from: frame.transportOffset, count: icmpLength))
    let identifier = request.identifier
    let sequence = request.sequenceNumber
    let icmpOffset = frame.networkOffset + IPv6Header.headerLength
    if icmpOffset != frame.transportOffset {
      (data.baseAddress! + icmpOffset).copyMemory(
        from: UnsafeRawPointer(data.baseAddress! + frame.transportOffset), byteCount: icmpLength)
    }
    EthernetHeader(destination: nic.nic.mac, source: set.card.gatewayMAC, etherType: .ipv6).emit(into: data)
    let ipHeader = IPv6Header(
      source: gateway, destination: source, nextHeader: .icmpv6, payloadLength: icmpLength)
    ipHeader.emit(into: data.region(from: frame.networkOffset, count: IPv6Header.headerLength))
    let icmp = data.region(from: icmpOffset, count: icmpLength)
    ICMPv6Header.echoReply(identifier: identifier, sequenceNumber: sequence).emit(into: icmp)
    ICMPv6Message(unchecked: icmp).fillChecksum(
      pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
        source: gateway, destination: source, protocol: .icmpv6, length: icmpLength))
    return reply(&buffer, length: icmpOffset + icmpLength)
  }

  /// RFC 4861 §7.2.4: a solicited advertisement for the gateway address
  /// (or any VPC address the card knows), with the target link-layer
  /// address option.
  func answerNeighborSolicitation(
    _ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, tables set: TableSet
  ) -> SlowPathOutcome {
    guard case .v6(let source) = frame.source, frame.transportOffset != 0,
      frame.networkEndOffset - frame.transportOffset >= ICMPv6Message.Field.neighborOptions
    else { return .dropped(.malformed) }
    let data = buffer.data
    let solicitation = ICMPv6Message(
      unchecked: data.region(
        from: frame.transportOffset, count: frame.networkEndOffset - frame.transportOffset))
    let target = solicitation.targetAddress
    // RFC 4861 §7.1.1: a valid solicitation has hop limit 255.
    guard frame.timeToLive == 255 else { return .dropped(.malformed) }
    var answer: MACAddress? = nil
    if let gateway = nic.subnet.gatewayIPv6, target == gateway {
      answer = set.card.gatewayMAC
    } else if !nic.addresses.contains(FlowAddress(target)),
      let location = set.nicLocations[VPCAddress(vpcIndex: nic.vpcIndex, address: FlowAddress(target))]
    {
      switch location {
      case .local(_, let mac), .remote(_, let mac): answer = mac
      }
    }
    guard let answer else { return .dropped(.localServiceIgnored) }
    // From :: (duplicate address detection) the answer goes to all nodes.
    let destination = source.isUnspecified ? IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 1) : source
    var flags = ICMPv6Message.NeighborFlag.override
    if !source.isUnspecified { flags |= ICMPv6Message.NeighborFlag.solicited }
    if answer == set.card.gatewayMAC { flags |= ICMPv6Message.NeighborFlag.router }
    let icmpLength = ICMPv6Message.Field.neighborOptions + NDPLinkLayerAddressOption.length
    let ipOffset = EthernetFrame.Field.headerLength
    let icmpOffset = ipOffset + IPv6Header.headerLength
    guard buffer.setLength(icmpOffset + icmpLength) else { return .dropped(.noBufferSpace) }
    let out = buffer.data
    EthernetHeader(destination: nic.nic.mac, source: answer, etherType: .ipv6).emit(into: out)
    IPv6Header(
      source: target, destination: destination, nextHeader: .icmpv6, payloadLength: icmpLength, hopLimit: 255
    )
    .emit(into: out.region(from: ipOffset, count: IPv6Header.headerLength))
    let icmp = out.region(from: icmpOffset, count: icmpLength)
    ICMPv6Header.neighborAdvertisement(target: target, flags: flags).emit(into: icmp)
    NDPLinkLayerAddressOption(type: NDPOptions.OptionType.targetLinkLayerAddress, address: answer)
      .emit(
        into: icmp.region(from: ICMPv6Message.Field.neighborOptions, count: NDPLinkLayerAddressOption.length))
    ICMPv6Message(unchecked: icmp).fillChecksum(
      pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
        source: target, destination: destination, protocol: .icmpv6, length: icmpLength))
    return reply(&buffer, length: icmpOffset + icmpLength)
  }

  /// RFC 1191 §4 (ICMP "fragmentation needed" with the next-hop MTU) and
  /// RFC 8201 / RFC 4443 §3.2 ("packet too big"), quoting as much of the
  /// offending packet as fits in 576 (IPv4) or 1280 (IPv6) bytes. The
  /// packet is dropped either way and counted as `mtuExceeded`.
  func answerTooBig(_ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, mtu: Int)
    -> SlowPathOutcome
  {
    let data = buffer.data
    let ipOffset = frame.networkOffset
    let originalLength = frame.networkEndOffset - ipOffset
    let headerLength = frame.isIPv4 ? IPv4Header.headerLength : IPv6Header.headerLength
    let icmpHeader = 8
    let limit = frame.isIPv4 ? 576 : 1280
    let quote = min(originalLength, limit - headerLength - icmpHeader)
    let newIP = EthernetFrame.Field.headerLength
    let quoteOffset = newIP + headerLength + icmpHeader
    guard quoteOffset + quote <= buffer.capacity - buffer.dataOffset else { return .dropped(.noBufferSpace) }
    switch frame.source {
    case .v4(let source):
      let ip = IPv4Packet(unchecked: data.region(from: ipOffset, count: originalLength))
      // Without DF the sender expects fragmentation, which the card does not do.
      guard ip.dontFragment else { return .dropped(.mtuExceeded) }
      (buffer.storage + buffer.dataOffset + quoteOffset).copyMemory(
        from: UnsafeRawPointer(data.baseAddress! + ipOffset), byteCount: quote)
      guard buffer.setLength(quoteOffset + quote) else { return .dropped(.noBufferSpace) }
      let out = buffer.data
      EthernetHeader(destination: nic.nic.mac, source: tablesGatewayMAC, etherType: .ipv4).emit(into: out)
      IPv4Header(
        source: nic.subnet.gatewayIPv4, destination: source, protocol: .icmp,
        payloadLength: icmpHeader + quote
      )
      .emit(into: out.region(from: newIP, count: IPv4Header.headerLength))
      ICMPv4Header.fragmentationNeeded(nextHopMTU: UInt16(clamping: mtu))
        .emit(into: out.region(from: newIP + IPv4Header.headerLength, count: icmpHeader + quote))
    case .v6(let source):
      guard let gateway = nic.subnet.gatewayIPv6 else { return .dropped(.mtuExceeded) }
      (buffer.storage + buffer.dataOffset + quoteOffset).copyMemory(
        from: UnsafeRawPointer(data.baseAddress! + ipOffset), byteCount: quote)
      guard buffer.setLength(quoteOffset + quote) else { return .dropped(.noBufferSpace) }
      let out = buffer.data
      EthernetHeader(destination: nic.nic.mac, source: tablesGatewayMAC, etherType: .ipv6).emit(into: out)
      IPv6Header(source: gateway, destination: source, nextHeader: .icmpv6, payloadLength: icmpHeader + quote)
        .emit(into: out.region(from: newIP, count: IPv6Header.headerLength))
      let icmp = out.region(from: newIP + IPv6Header.headerLength, count: icmpHeader + quote)
      ICMPv6Header.packetTooBig(mtu: UInt32(max(mtu, 1280))).emit(into: icmp)
      ICMPv6Message(unchecked: icmp).fillChecksum(
        pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
          source: gateway, destination: source, protocol: .icmpv6, length: icmpHeader + quote))
    case nil:
      return .dropped(.malformed)
    }
    // The packet itself is dropped: counted as such, whatever the answer.
    counters.countDrop(port: buffer.inputPort, reason: .mtuExceeded)
    return reply(&buffer, length: quoteOffset + quote)
  }

  var tablesGatewayMAC: MACAddress { tables.card.gatewayMAC }

  /// Sends the reply now in the buffer back to the guest.
  func reply(_ buffer: inout PacketBuffer, length: Int) -> SlowPathOutcome {
    guard buffer.setLength(length) else { return .dropped(.noBufferSpace) }
    buffer.outputPort = buffer.inputPort
    buffer.verdict = .forward
    return .handled
  }
}

extension IPv4Prefix {
  /// The subnet's directed broadcast address.
  var broadcastAddress: IPv4Address { IPv4Address(rawValue: address.rawValue | ~netmask.rawValue) }
}
