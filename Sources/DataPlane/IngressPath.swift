import Wire

extension DataPlane {
  /// The slow path for a frame from the underlay: only tunnel packets for
  /// this card, with a VNI it serves, from the VTEP the mapping table lists
  /// for the inner source (or a gateway of that VPC), to a NIC of that VPC
  /// on this card, admitted by the NIC's security groups.
  func ingress(_ buffer: inout PacketBuffer, parsed: ParsedPacket, tables set: TableSet, now: UInt64)
    -> SlowPathOutcome
  {
    let outer = parsed.outer
    guard outer.destinationMAC == set.card.underlayMAC, let outerDestination = outer.destination,
      FlowAddress(outerDestination) == set.cardUnderlay, let outerSource = outer.source
    else { return .dropped(.notForThisCard) }
    guard parsed.tunnel != .none else { return .dropped(.notForThisCard) }
    guard !parsed.isTunnelOAM else { return .dropped(.tunnelOAM) }
    if parsed.tunnel == .geneve {
      let data = buffer.data
      let geneve = GenevePacket(
        unchecked: data.region(from: parsed.tunnelOffset, count: data.count - parsed.tunnelOffset))
      // RFC 8926 §3.5.1: a packet with a critical option the receiver does
      // not understand must be dropped; this card understands none.
      guard !geneve.hasCriticalOptions else { return .dropped(.criticalOption) }
    }
    guard parsed.hasInnerFrame else { return .dropped(.malformed) }
    guard let vpcIndex = set.vpcByVNI[parsed.vni] else { return .dropped(.unknownVNI) }
    let vpc = set.vpcs[vpcIndex]
    let expectedKind: TunnelKind = vpc.vpc.encapsulation == .geneve ? .geneve : .vxlan
    guard parsed.tunnel == expectedKind else { return .dropped(.wrongEncapsulation) }

    let inner = parsed.inner
    guard inner.vlanCount == 0, inner.etherType == .ipv4 || inner.etherType == .ipv6,
      let innerSource = inner.source, let innerDestination = inner.destination
    else { return .dropped(.unknownEtherType) }
    let source = FlowAddress(innerSource)
    let destination = FlowAddress(innerDestination)
    let vtep = FlowAddress(outerSource)
    // The VTEP must be the one hosting the inner source, or a gateway.
    if !vpc.gatewayVTEPs.contains(vtep) {
      guard case .remote(let listed, _) = set.nicLocations[VPCAddress(vpcIndex: vpcIndex, address: source)],
        FlowAddress(listed) == vtep
      else { return .dropped(.wrongVTEP) }
    }
    guard
      case .local(let port, let mac) = set.nicLocations[VPCAddress(vpcIndex: vpcIndex, address: destination)],
      let nic = set.localNIC(port: port), nic.vpcIndex == vpcIndex
    else { return .dropped(.noSuchNIC) }
    guard inner.destinationMAC == mac || inner.destinationMAC == set.card.gatewayMAC else {
      return .dropped(.noSuchNIC)
    }
    guard !inner.isFragment else { return .dropped(.fragment) }

    var actions = ActionList()
    let isICMPError = FlowKey.ports(inner) == nil
    if isICMPError {
      guard isRelatedICMPError(buffer, frame: inner, zone: port, now: now) else {
        return .dropped(.securityGroupDenied)
      }
    } else {
      let ports = FlowKey.ports(inner) ?? (0, 0)
      let key = ConnectionKey(
        source: source, destination: destination, sourcePort: ports.0, destinationPort: ports.1,
        protocol: inner.ipProtocol, zone: port)
      guard
        let reference = admit(key, nic: nic, isInbound: true, flags: inner.tcpFlags, tables: set, now: now)
      else { return .dropped(.securityGroupDenied) }
      actions.append(.trackConnection(reference))
    }
    actions.append(.meter(port: port, direction: .ingress))
    actions.append(.decapsulate)
    actions.append(.setDestinationMAC(mac))
    actions.append(.forward(port: port))
    return .actions(actions, cacheable: !isICMPError)
  }
}
