import Wire

extension DataPlane {
  /// RFC 2131 §4.3: the card is each NIC's DHCP server. DISCOVER gets an
  /// OFFER of the NIC's primary address; REQUEST for that address gets an
  /// ACK, for any other (or naming another server) a NAK. Options: subnet
  /// mask (1), router (3), DNS (6), interface MTU (26, RFC 2132 §5.1),
  /// lease time (51), server identifier (54). Slow path.
  func answerDHCP(_ buffer: inout PacketBuffer, frame: FrameHeaders, nic: LocalNIC, tables set: TableSet)
    -> SlowPathOutcome
  {
    guard case .v4(let source) = frame.source,
      source.isUnspecified || nic.addresses.contains(FlowAddress(source))
    else { return .dropped(.spoofedSourceIP) }
    guard frame.sourcePort == DHCPMessage.clientPort, frame.payloadOffset != 0, !frame.isFragment else {
      return .dropped(.localServiceIgnored)
    }
    let data = buffer.data
    let request: DHCPMessage
    let type: DHCPMessage.MessageType?
    let requested: IPv4Address?
    let server: IPv4Address?
    do throws(WireError) {
      request = try DHCPMessage(checking: data.region(from: frame.payloadOffset, count: frame.payloadLength))
      type = try request.messageType()
      requested = try request.addressOption(DHCPMessage.Option.requestedIPAddress)
      server = try request.addressOption(DHCPMessage.Option.serverIdentifier)
    } catch {
      return .dropped(.malformed)
    }
    guard request.op == DHCPMessage.bootRequest, request.clientHardwareAddress == nic.nic.mac else {
      return .dropped(.spoofedSourceMAC)
    }
    let gateway = nic.subnet.gatewayIPv4
    let address = nic.nic.primaryIPv4
    let replyType: DHCPMessage.MessageType
    switch type {
    case .discover:
      replyType = .offer
    case .request:
      let asked = requested ?? request.clientAddress
      replyType = asked == address && (server == nil || server == gateway) ? .ack : .nak
    default:
      return .dropped(.localServiceIgnored)
    }
    let xid = request.transactionID
    let flags = request.flags
    let clientAddress = request.clientAddress

    // RFC 2131 §4.1: NAKs and replies to clients without an address (and
    // asking for broadcast) are broadcast; others go to the client.
    let broadcast =
      replyType == .nak || (clientAddress.isUnspecified && flags & DHCPMessage.broadcastFlag != 0)
    let destination =
      broadcast ? IPv4Address.broadcast : (clientAddress.isUnspecified ? address : clientAddress)
    let ipOffset = EthernetFrame.Field.headerLength
    let udpOffset = ipOffset + IPv4Header.headerLength
    let dhcpOffset = udpOffset + UDPHeader.headerLength
    let room = min(
      buffer.capacity - buffer.dataOffset - dhcpOffset, 576 - IPv4Header.headerLength - UDPHeader.headerLength
    )
    guard room >= DHCPMessage.minimumLength, buffer.setLength(dhcpOffset + room) else {
      return .dropped(.noBufferSpace)
    }
    let out = buffer.data
    var builder = DHCPReplyBuilder(
      into: out.region(from: dhcpOffset, count: room), transactionID: xid, flags: flags,
      clientAddress: replyType == .nak ? .any : clientAddress,
      yourAddress: replyType == .nak ? .any : address,
      serverAddress: gateway, clientHardwareAddress: nic.nic.mac, type: replyType)
    builder.appendOption(DHCPMessage.Option.serverIdentifier, addresses: [gateway])
    if replyType != .nak {
      builder.appendOption(DHCPMessage.Option.leaseTime, uint32: set.card.leaseSeconds)
      builder.appendOption(DHCPMessage.Option.subnetMask, addresses: [nic.subnet.ipv4.netmask])
      builder.appendOption(DHCPMessage.Option.router, addresses: [gateway])
      if !set.card.dnsServers.isEmpty {
        builder.appendOption(DHCPMessage.Option.domainNameServer, addresses: set.card.dnsServers)
      }
      builder.appendOption(DHCPMessage.Option.interfaceMTU, uint16: UInt16(clamping: set.card.guestMTU))
    }
    let dhcpLength = builder.finish()
    EthernetHeader(
      destination: broadcast ? .broadcast : nic.nic.mac, source: set.card.gatewayMAC, etherType: .ipv4
    ).emit(into: out)
    IPv4Header(
      source: gateway, destination: destination, protocol: .udp,
      payloadLength: UDPHeader.headerLength + dhcpLength
    ).emit(into: out.region(from: ipOffset, count: IPv4Header.headerLength))
    let udpBytes = out.region(from: udpOffset, count: UDPHeader.headerLength + dhcpLength)
    UDPHeader(
      sourcePort: DHCPMessage.serverPort, destinationPort: DHCPMessage.clientPort, payloadLength: dhcpLength
    )
    .emit(into: udpBytes)
    UDPDatagram(unchecked: udpBytes).fillChecksum(
      pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
        source: gateway, destination: destination, protocol: .udp, length: UDPHeader.headerLength + dhcpLength
      ))
    return reply(&buffer, length: dhcpOffset + dhcpLength)
  }
}
