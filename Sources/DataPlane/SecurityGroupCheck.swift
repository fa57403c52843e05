import Wire

extension SecurityRule {
  /// Whether the rule admits a packet to/from `peer` with this protocol and
  /// local port (the destination port for inbound, the remote port for
  /// outbound). Slow path.
  func admits(
    peer: FlowAddress, protocol proto: IPProtocol, port: UInt16, members: [UInt32: Set<FlowAddress>]
  ) -> Bool {
    switch self.proto {
    case .any: break
    case .tcp(let range): guard proto == .tcp, range.contains(port) else { return false }
    case .udp(let range): guard proto == .udp, range.contains(port) else { return false }
    case .icmp: guard proto == .icmp else { return false }
    case .icmpv6: guard proto == .icmpv6 else { return false }
    }
    switch self.peer {
    case .ipv4(let prefix): return peer.isIPv4 && prefix.contains(peer.ipv4)
    case .ipv6(let prefix): return !peer.isIPv4 && prefix.contains(peer.ipv6)
    case .securityGroup(let id): return members[id]?.contains(peer) ?? false
    }
  }
}

extension DataPlane {
  /// Stateful security-group check for a packet of NIC `nic` (zone = its
  /// port). A tracked connection (either way round) passes; otherwise the
  /// NIC's rules decide (inbound: deny unless a rule allows; outbound:
  /// allow unless the groups list outbound rules and none allows), and an
  /// allowed packet opens a connection. Returns the reference for the
  /// `trackConnection` action, or nil when denied. Slow path.
  func admit(
    _ key: ConnectionKey, nic: LocalNIC, isInbound: Bool, flags: TCPFlags, tables set: TableSet, now: UInt64
  ) -> ConnectionReference? {
    let hash = key.hashValue64
    if let slot = connections.find(key, hash: hash), !connections.entry(at: slot).pointee.isExpired(now: now)
    {
      let e = connections.entry(at: slot).pointee
      return ConnectionReference(slot: UInt32(slot), serial: e.serial, isReply: false)
    }
    let reversed = key.reversed
    let reversedHash = reversed.hashValue64
    if let slot = connections.find(reversed, hash: reversedHash),
      !connections.entry(at: slot).pointee.isExpired(now: now)
    {
      let e = connections.entry(at: slot).pointee
      return ConnectionReference(slot: UInt32(slot), serial: e.serial, isReply: true)
    }
    guard rulesAdmit(key, nic: nic, isInbound: isInbound, tables: set) else { return nil }
    // An expired entry for this key is replaced in place.
    guard let slot = connections.slotForInsert(key, hash: hash) else { return nil }
    let serial = takeSerial()
    connections.store(
      ConnectionEntry(
        key: key, state: ConnectionState.initial(protocol: key.ipProtocol, flags: flags), finSeen: 0,
        isOccupied: true, serial: serial, lastSeen: now),
      at: slot)
    return ConnectionReference(slot: UInt32(slot), serial: serial, isReply: false)
  }

  func rulesAdmit(_ key: ConnectionKey, nic: LocalNIC, isInbound: Bool, tables set: TableSet) -> Bool {
    if isInbound {
      for group in nic.securityGroups {
        for rule in group.inbound
        where rule.admits(
          peer: key.source, protocol: key.ipProtocol, port: key.destinationPort, members: set.groupMembers)
        {
          return true
        }
      }
      return false
    }
    var anyOutboundList = false
    for group in nic.securityGroups {
      guard let outbound = group.outbound else { return true }
      anyOutboundList = true
      for rule in outbound
      where rule.admits(
        peer: key.destination, protocol: key.ipProtocol, port: key.destinationPort, members: set.groupMembers)
      {
        return true
      }
    }
    return !anyOutboundList
  }

  /// An ICMP error passes if it quotes a packet of a connection tracked in
  /// `zone` (RFC 792 / RFC 4443 §2.4: the quote starts with the offending
  /// IP header and at least 8 bytes of its payload). Slow path.
  func isRelatedICMPError(_ buffer: PacketBuffer, frame: FrameHeaders, zone: UInt16, now: UInt64) -> Bool {
    guard frame.transportOffset != 0 else { return false }
    let data = buffer.data
    let icmpBytes = data.region(
      from: frame.transportOffset, count: frame.networkEndOffset - frame.transportOffset)
    guard icmpBytes.count >= 8 + 20 else { return false }
    var quoted: ConnectionKey
    if frame.ipProtocol == .icmp {
      let message = ICMPv4Message(unchecked: icmpBytes)
      guard message.isError, let ip = try? message.invokingPacketHeader(),
        ip.headerLength + 4 <= message.payload.count
      else { return false }
      let ports = UDPDatagram(unchecked: message.payload.region(from: ip.headerLength, count: 8))
      let hasPorts = ip.protocol == .tcp || ip.protocol == .udp
      quoted = ConnectionKey(
        source: FlowAddress(ip.source), destination: FlowAddress(ip.destination),
        sourcePort: hasPorts ? ports.sourcePort : 0, destinationPort: hasPorts ? ports.destinationPort : 0,
        protocol: ip.protocol, zone: zone)
    } else if frame.ipProtocol == .icmpv6 {
      guard let message = try? ICMPv6Message(checking: icmpBytes), message.isError,
        icmpBytes.count >= 8 + IPv6Header.headerLength + 4
      else { return false }
      let quote = icmpBytes.region(from: 8, count: icmpBytes.count - 8)
      // The quoted header may be truncated: read only the fixed fields.
      let ip = IPv6Packet(unchecked: quote)
      let ports = UDPDatagram(unchecked: quote.region(from: IPv6Header.headerLength, count: 8))
      let proto = ip.nextHeader
      let hasPorts = proto == .tcp || proto == .udp
      quoted = ConnectionKey(
        source: FlowAddress(ip.source), destination: FlowAddress(ip.destination),
        sourcePort: hasPorts ? ports.sourcePort : 0, destinationPort: hasPorts ? ports.destinationPort : 0,
        protocol: proto, zone: zone)
    } else {
      return false
    }
    for key in [quoted, quoted.reversed] {
      if let slot = connections.find(key, hash: key.hashValue64),
        !connections.entry(at: slot).pointee.isExpired(now: now)
      {
        return true
      }
    }
    return false
  }
}
