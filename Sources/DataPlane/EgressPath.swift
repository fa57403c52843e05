import Wire

extension DataPlane {
  /// The slow path for a frame a guest sent (port ≥ 1): anti-spoofing,
  /// local services, security group, route, then local delivery or
  /// encapsulation towards the VTEP that hosts the destination.
  func egress(_ buffer: inout PacketBuffer, parsed: ParsedPacket, tables set: TableSet, now: UInt64)
    -> SlowPathOutcome
  {
    guard let nic = set.localNIC(port: buffer.inputPort) else { return .dropped(.unknownPort) }
    let frame = parsed.outer
    // Anti-spoofing (OPI's source_guard): the guest's own MAC only.
    guard frame.sourceMAC == nic.nic.mac else { return .dropped(.spoofedSourceMAC) }
    guard frame.vlanCount == 0 else { return .dropped(.unknownEtherType) }
    switch frame.etherType {
    case .arp:
      return answerARP(&buffer, frame: frame, nic: nic, tables: set)
    case .ipv4, .ipv6:
      break
    default:
      return .dropped(.unknownEtherType)
    }
    guard let sourceIP = frame.source, let destinationIP = frame.destination else {
      return .dropped(.malformed)
    }
    let source = FlowAddress(sourceIP)
    let destination = FlowAddress(destinationIP)
    if case .v6(let v6) = destinationIP, FlowAddress(v6).isIPv4 { return .dropped(.malformed) }

    // Local services first: DHCP comes from 0.0.0.0, ND from :: or link-local.
    if let outcome = answerLocalService(&buffer, parsed: parsed, nic: nic, tables: set) { return outcome }
    guard nic.addresses.contains(source) else { return .dropped(.spoofedSourceIP) }
    // The VPC's MTU (what DHCP announces, RFC 2132 §5.1) binds every
    // guest, also one that set a larger MTU by hand: too big is dropped and
    // answered (RFC 1191 §4 with DF, RFC 8201 / RFC 4443 §3.2 for IPv6),
    // so that the guest's path MTU discovery settles on the VPC's.
    if frame.networkEndOffset - frame.networkOffset > set.card.guestMTU {
      return answerTooBig(&buffer, frame: frame, nic: nic, mtu: set.card.guestMTU)
    }
    guard !frame.isFragment else { return .dropped(.fragment) }
    guard frame.timeToLive > 1 else { return .dropped(.ttlExpired) }

    // Security group, outbound, in the sender's zone.
    let isICMPError = FlowKey.ports(frame) == nil
    let ports = FlowKey.ports(frame) ?? (0, 0)
    let connectionKey = ConnectionKey(
      source: source, destination: destination, sourcePort: ports.0, destinationPort: ports.1,
      protocol: frame.ipProtocol, zone: buffer.inputPort)
    var actions = ActionList()
    if isICMPError {
      guard isRelatedICMPError(buffer, frame: frame, zone: buffer.inputPort, now: now) else {
        return .dropped(.securityGroupDenied)
      }
    } else {
      guard
        let reference = admit(
          connectionKey, nic: nic, isInbound: false, flags: frame.tcpFlags, tables: set, now: now)
      else { return .dropped(.securityGroupDenied) }
      actions.append(.trackConnection(reference))
    }

    // Route.
    guard let target = set.routeTables[nic.routeTableIndex].route(destination) else {
      return .dropped(.noRoute)
    }
    let vpcIndex = nic.vpcIndex
    var location: NICLocation
    var targetVPC = vpcIndex
    switch target {
    case .blackhole:
      return .dropped(.blackholeRoute)
    case .local:
      guard let found = set.nicLocations[VPCAddress(vpcIndex: vpcIndex, address: destination)] else {
        return .dropped(.noMapping)
      }
      location = found
    case .nic(let id):
      guard let found = set.nicsByID[id] else { return .dropped(.noMapping) }
      location = found.location
      targetVPC = found.vpcIndex
    case .gateway(let vtep):
      location = .remote(vtep: vtep, mac: set.card.gatewayMAC)
    }

    switch location {
    case .local(let port, let mac):
      guard let peer = set.localNIC(port: port) else { return .dropped(.noSuchNIC) }
      if isICMPError {
        guard isRelatedICMPError(buffer, frame: frame, zone: port, now: now) else {
          return .dropped(.securityGroupDenied)
        }
      } else {
        let inboundKey = ConnectionKey(
          source: source, destination: destination, sourcePort: ports.0, destinationPort: ports.1,
          protocol: frame.ipProtocol, zone: port)
        guard
          let reference = admit(
            inboundKey, nic: peer, isInbound: true, flags: frame.tcpFlags, tables: set, now: now)
        else { return .dropped(.securityGroupDenied) }
        actions.append(.trackConnection(reference))
      }
      actions.append(.meter(port: buffer.inputPort, direction: .egress))
      actions.append(.meter(port: port, direction: .ingress))
      actions.append(.setDestinationMAC(mac))
      actions.append(.forward(port: port))
    case .remote(let vtep, let mac):
      guard let template = set.template(vpcIndex: targetVPC, vtep: FlowAddress(vtep)) else {
        return .dropped(.noMapping)
      }
      // RFC 1191 / RFC 8201: too big for the underlay after encapsulation.
      let overhead = set.templates[template].length - EthernetFrame.Field.headerLength
      let innerIPLength = buffer.length - EthernetFrame.Field.headerLength
      if overhead + buffer.length > set.card.underlayMTU {
        let mtu = set.card.underlayMTU - overhead - EthernetFrame.Field.headerLength
        _ = innerIPLength
        return answerTooBig(&buffer, frame: frame, nic: nic, mtu: mtu)
      }
      actions.append(.meter(port: buffer.inputPort, direction: .egress))
      actions.append(.setDestinationMAC(mac))
      actions.append(
        .encapsulate(template: UInt32(template), sourcePort: sourcePort(for: parsed, card: set.card)))
      actions.append(.forward(port: Self.uplinkPort))
    }
    return .actions(actions, cacheable: !isICMPError)
  }

  /// RFC 7348 §5 / RFC 8926 §3.3: a hash of the inner flow picks the
  /// outer source port within the configured range, so the underlay's
  /// ECMP spreads flows while keeping each in order.
  func sourcePort(for parsed: ParsedPacket, card: CardSettings) -> UInt16 {
    let h = parsed.outer
    var x = FlowAddress(h.source ?? .v4(.any)).low ^ FlowAddress(h.destination ?? .v4(.any)).low &* 31
    x ^= FlowAddress(h.source ?? .v4(.any)).high ^ FlowAddress(h.destination ?? .v4(.any)).high &* 131
    x ^= UInt64(h.sourcePort) << 16 | UInt64(h.destinationPort) | UInt64(h.ipProtocol.rawValue) << 32
    x = (x ^ (x >> 33)) &* 0xff51_afd7_ed55_8ccd
    x ^= x >> 33
    let low = UInt64(card.sourcePortRange.lowerBound)
    let span = UInt64(card.sourcePortRange.upperBound) - low + 1
    return UInt16(low + x % span)
  }
}
