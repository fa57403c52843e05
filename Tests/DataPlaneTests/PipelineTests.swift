import Testing
import Wire

@testable import DataPlane

@Suite struct EgressTests {
  @Test func udpToRemoteNICIsGeneveEncapsulated() throws {
    let h = try Harness()
    let frame = Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1)
    let out = h.run(port: 1, frame)
    #expect(out.verdict == .forward)
    #expect(out.port == DataPlane.uplinkPort)
    let p = try #require(parse(out.bytes))
    #expect(p.tunnel == .geneve)
    #expect(p.vni == 1001)
    #expect(p.outer.destination == Fixture.cardB)
    #expect(p.outer.source == Fixture.cardA)
    #expect(p.outer.destinationMAC == Fixture.routerMAC)
    #expect(p.outer.sourceMAC == Fixture.cardMAC)
    #expect(p.outer.sourcePort >= 49152)
    #expect(p.inner.destinationMAC == Fixture.macB1)
    #expect(p.inner.destination == .v4(Fixture.ipB1))
    // Lengths and checksum: outer IPv4 header verifies, UDP length covers all.
    out.bytes.withUnsafeBytes { raw in
      let m = UnsafeMutableRawBufferPointer(mutating: raw)
      let ip = IPv4Packet(unchecked: UnsafeMutableRawBufferPointer(rebasing: m[14...]))
      #expect(ip.isChecksumValid)
      #expect(ip.totalLength == out.bytes.count - 14)
      #expect(ip.dontFragment)
    }
    // The inner frame is the guest's, but for the destination MAC.
    #expect(Array(out.bytes[(14 + 20 + 8 + 8 + 6)...]) == Array(frame[6...]))
  }

  @Test func secondPacketHitsTheFlowTableWithIdenticalOutput() throws {
    let h = try Harness()
    let frame = Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1)
    let first = h.run(port: 1, frame)
    #expect(h.plane.flows.count == 1)
    let second = h.run(port: 1, frame)
    #expect(first == second)
    let slot = try #require(
      h.plane.flows.find(h.plane.flows.entry(at: 0).pointee.key, hash: 0)
        ?? {
          for i in 0..<h.plane.flows.capacity where h.plane.flows.entry(at: i).pointee.isOccupied { return i }
          return nil
        }())
    #expect(h.plane.flows.entry(at: slot).pointee.packets == 1)
  }

  @Test func localDeliveryRewritesDestinationMAC() throws {
    let h = try Harness()
    let out = h.run(port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipA2))
    #expect(out.verdict == .forward)
    #expect(out.port == 2)
    #expect(parse(out.bytes)?.outer.destinationMAC == Fixture.macA2)
  }

  @Test func spoofedSourcesAreDroppedAndCounted() throws {
    let h = try Harness()
    let mac = h.run(port: 1, Frames.udp(srcMAC: Fixture.macA2, src: Fixture.ipA1, dst: Fixture.ipB1))
    #expect(mac.verdict == .drop(.spoofedSourceMAC))
    let ip = h.run(port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA2, dst: Fixture.ipB1))
    #expect(ip.verdict == .drop(.spoofedSourceIP))
    #expect(h.plane.counters.drops(port: 1, reason: .spoofedSourceMAC) == 1)
    #expect(h.plane.counters.drops(port: 1, reason: .spoofedSourceIP) == 1)
    // A cached flow does not make a spoofed MAC pass.
    _ = h.run(port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1))
    let again = h.run(port: 1, Frames.udp(srcMAC: Fixture.macA2, src: Fixture.ipA1, dst: Fixture.ipB1))
    #expect(again.verdict == .drop(.spoofedSourceMAC))
  }

  @Test func otherTenantUsesItsOwnVNIAndEncapsulation() throws {
    let h = try Harness()
    let out = h.run(port: 3, Frames.udp(srcMAC: Fixture.macC1, src: Fixture.ipC1, dst: Fixture.ipD1))
    let p = try #require(parse(out.bytes))
    #expect(p.tunnel == .vxlan)
    #expect(p.vni == 2002)
    #expect(p.inner.destinationMAC == Fixture.macD1)
  }

  @Test func blackholeAndNoRoute() throws {
    let routes = RouteTable(ipv4: [IPv4Route(IPv4Prefix("172.16.2.0/24")!, .blackhole)])
    let h = try Harness(Fixture.configuration(vpc1Routes: routes))
    #expect(
      h.run(port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1)).verdict
        == .drop(.blackholeRoute))
    #expect(
      h.run(port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: IPv4Address(8, 8, 8, 8)))
        .verdict == .drop(.noRoute))
  }

  @Test func gatewayRouteEncapsulatesToTheEdge() throws {
    let routes = RouteTable(ipv4: [IPv4Route(IPv4Prefix("0.0.0.0/0")!, .gateway(vtep: Fixture.edge))])
    let h = try Harness(Fixture.configuration(vpc1Routes: routes))
    let out = h.run(
      port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: IPv4Address(8, 8, 8, 8)))
    #expect(parse(out.bytes)?.outer.destination == Fixture.edge)
    #expect(parse(out.bytes)?.vni == 1001)
  }

  @Test func tooBigGetsFragmentationNeeded() throws {
    let h = try Harness(Fixture.configuration(mtu: 1000))
    let frame = Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, payload: 1000)
    let out = h.run(port: 1, frame)
    #expect(out.verdict == .forward)
    #expect(out.port == 1)
    let p = try #require(parse(out.bytes))
    #expect(p.outer.ipProtocol == .icmp)
    #expect(p.outer.icmpType == 3 && p.outer.icmpCode == 4)
    #expect(p.outer.destination == .v4(Fixture.ipA1))
    // Next-hop MTU = 1000 - (20 + 8 + 8) - 14.
    #expect(UInt16(out.bytes[40]) << 8 | UInt16(out.bytes[41]) == 950)
    // Small packets of the same flow still pass, and a big one on the
    // cached flow still gets ICMP (the fast path punts it).
    let small = h.run(
      port: 1, Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, payload: 10))
    #expect(small.port == 0)
    #expect(h.run(port: 1, frame).port == 1)
  }
}

@Suite struct IngressTests {
  func inbound(
    to dst: IPv4Address = Fixture.ipA1, mac: MACAddress = Fixture.macA1, from src: IPv4Address = Fixture.ipB1,
    vni: UInt32 = 1001, kind: Encapsulation = .geneve, vtep: IPv4Address = IPv4Address(10, 255, 0, 2),
    sport: UInt16 = 53, dport: UInt16 = 40000
  ) -> [UInt8] {
    Frames.encapsulated(
      Frames.udp(srcMAC: Fixture.macB1, dstMAC: mac, src: src, dst: dst, sport: sport, dport: dport),
      vni: vni, kind: kind, from: vtep)
  }

  @Test func unsolicitedInboundIsDeniedButRepliesPass() throws {
    let h = try Harness(Fixture.configuration(inboundA1: []))
    // b1 is in group 100 too, so admit comes from the group rule: use d-less config.
    var config = Fixture.configuration()
    config.securityGroups[0] = SecurityGroup(id: 100, inbound: [])
    try h.plane.apply(config)
    #expect(h.run(port: 0, inbound()).verdict == .drop(.securityGroupDenied))
    // a1 sends first: the reply passes.
    _ = h.run(
      port: 1,
      Frames.udp(srcMAC: Fixture.macA1, src: Fixture.ipA1, dst: Fixture.ipB1, sport: 40000, dport: 53))
    let reply = h.run(port: 0, inbound())
    #expect(reply.verdict == .forward)
    #expect(reply.port == 1)
    let expected = Frames.udp(
      srcMAC: Fixture.macB1, dstMAC: Fixture.macA1, src: Fixture.ipB1, dst: Fixture.ipA1, sport: 53,
      dport: 40000)
    #expect(reply.bytes == expected)
  }

  @Test func decapsulatesVXLANForTheOtherTenant() throws {
    let h = try Harness()
    let out = h.run(
      port: 0, inbound(to: Fixture.ipC1, mac: Fixture.macC1, from: Fixture.ipD1, vni: 2002, kind: .vxlan))
    #expect(out.verdict == .forward)
    #expect(out.port == 3)
  }

  @Test func wrongVNIWrongVTEPWrongEncapsulationAreDropped() throws {
    let h = try Harness()
    #expect(h.run(port: 0, inbound(vni: 4242)).verdict == .drop(.unknownVNI))
    #expect(h.run(port: 0, inbound(vtep: IPv4Address(10, 255, 0, 77))).verdict == .drop(.wrongVTEP))
    #expect(h.run(port: 0, inbound(kind: .vxlan)).verdict == .drop(.wrongEncapsulation))
    // VNI of tenant 2 with tenant 1's inner addresses: no NIC of VPC 2 has
    // a1's MAC, so nothing reaches a1 or c1.
    let cross = h.run(port: 0, inbound(vni: 2002, kind: .vxlan))
    #expect(cross.verdict != .forward || cross.port == 3)
    #expect(h.plane.counters.drops(port: 0, reason: .unknownVNI) == 1)
  }
}

@Suite struct LocalServiceTests {
  @Test func arpForGatewayAndPeers() throws {
    let h = try Harness()
    var request = [UInt8](repeating: 0, count: 42)
    request.withUnsafeMutableBytes { p in
      EthernetHeader(destination: .broadcast, source: Fixture.macA1, etherType: .arp).emit(into: p)
      ARPHeader(
        operation: .request, senderHardwareAddress: Fixture.macA1, senderProtocolAddress: Fixture.ipA1,
        targetHardwareAddress: .zero, targetProtocolAddress: Fixture.gateway1
      )
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
    }
    let out = h.run(port: 1, request)
    #expect(out.port == 1)
    let p = try #require(parse(out.bytes))
    #expect(p.outer.arpOperation == 2)
    #expect(p.outer.arpSenderHardwareAddress == Fixture.gatewayMAC)
    #expect(p.outer.source == .v4(Fixture.gateway1))
    #expect(p.outer.destinationMAC == Fixture.macA1)
  }

  @Test func pingGatewayIsAnswered() throws {
    let h = try Harness()
    var frame = [UInt8](repeating: 0, count: 14 + 20 + 8 + 16)
    frame.withUnsafeMutableBytes { p in
      EthernetHeader(destination: Fixture.gatewayMAC, source: Fixture.macA1, etherType: .ipv4).emit(into: p)
      IPv4Header(source: Fixture.ipA1, destination: Fixture.gateway1, protocol: .icmp, payloadLength: 24)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      ICMPv4Header.echoRequest(identifier: 7, sequenceNumber: 9).emit(
        into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
    }
    let out = h.run(port: 1, frame)
    let p = try #require(parse(out.bytes))
    #expect(p.outer.icmpType == 0)
    #expect(p.outer.icmpIdentifier == 7)
    #expect(p.outer.source == .v4(Fixture.gateway1))
    out.bytes.withUnsafeBytes { raw in
      let icmp = ICMPv4Message(
        unchecked: UnsafeMutableRawBufferPointer(mutating: UnsafeRawBufferPointer(rebasing: raw[34...])))
      #expect(icmp.isChecksumValid)
    }
  }

  func dhcp(_ type: DHCPMessage.MessageType, requested: IPv4Address? = nil) -> [UInt8] {
    var body = [UInt8](repeating: 0, count: 300)
    body.withUnsafeMutableBytes { p in
      var b = DHCPReplyBuilder(
        into: p, transactionID: 0x1234, flags: DHCPMessage.broadcastFlag, clientAddress: .any,
        yourAddress: .any, serverAddress: .any, clientHardwareAddress: Fixture.macA1, type: type)
      if let requested { b.appendOption(DHCPMessage.Option.requestedIPAddress, addresses: [requested]) }
      _ = b.finish()
      p[0] = DHCPMessage.bootRequest
    }
    var frame = [UInt8](repeating: 0, count: 14 + 20 + 8 + body.count)
    frame.withUnsafeMutableBytes { p in
      EthernetHeader(destination: .broadcast, source: Fixture.macA1, etherType: .ipv4).emit(into: p)
      IPv4Header(source: .any, destination: .broadcast, protocol: .udp, payloadLength: 8 + body.count)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      UDPHeader(sourcePort: 68, destinationPort: 67, payloadLength: body.count).emit(
        into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
      for (i, b) in body.enumerated() { p[42 + i] = b }
    }
    return frame
  }

  func replyMessage(_ out: Harness.Output) throws -> (
    DHCPMessage.MessageType?, IPv4Address, IPv4Address?, UInt16?
  ) {
    var bytes = out.bytes
    return try bytes.withUnsafeMutableBytes { p in
      let m = try DHCPMessage(checking: UnsafeMutableRawBufferPointer(rebasing: p[42...]))
      let mtu = try m.option(DHCPMessage.Option.interfaceMTU).map { UInt16($0[0]) << 8 | UInt16($0[1]) }
      return (try m.messageType(), m.yourAddress, try m.addressOption(DHCPMessage.Option.router), mtu)
    }
  }

  @Test func dhcpOfferAckAndNak() throws {
    let h = try Harness()
    let offer = try replyMessage(h.run(port: 1, dhcp(.discover)))
    #expect(offer.0 == .offer)
    #expect(offer.1 == Fixture.ipA1)
    #expect(offer.2 == Fixture.gateway1)
    #expect(offer.3 == 1400)
    let ack = try replyMessage(h.run(port: 1, dhcp(.request, requested: Fixture.ipA1)))
    #expect(ack.0 == .ack)
    let nak = try replyMessage(h.run(port: 1, dhcp(.request, requested: Fixture.ipA2)))
    #expect(nak.0 == .nak)
  }
}

@Suite struct ActionProgramTests {
  @Test func flattensOnlyCanonicalOrder() {
    let ref = ConnectionReference(slot: 3, serial: 9, isReply: false)
    let canonical = ActionList([
      .trackConnection(ref), .meter(port: 1, direction: .egress), .setDestinationMAC(Fixture.macB1),
      .encapsulate(template: 2, sourcePort: 50000), .forward(port: 0),
    ])
    let program = ActionProgram(canonical)
    #expect(program?.encapsulates == true)
    #expect(program?.template == 2)
    #expect(program?.connectionCount == 1)
    #expect(program?.outputPort == 0)
    // MAC rewrite after encapsulation would touch the outer header: a
    // different meaning, so no flattening.
    let reordered = ActionList([
      .encapsulate(template: 2, sourcePort: 1), .setDestinationMAC(Fixture.macB1), .forward(port: 0),
    ])
    #expect(ActionProgram(reordered) == nil)
    let threeMeters = ActionList([
      .meter(port: 1, direction: .egress), .meter(port: 2, direction: .ingress),
      .meter(port: 3, direction: .ingress),
    ])
    #expect(ActionProgram(threeMeters) == nil)
  }

  /// The program is the list packed, not a different meaning: every
  /// canonical list the slow path can emit comes back unchanged.
  @Test func givesBackTheListItWasBuiltFrom() {
    let lists = [
      ActionList([
        .trackConnection(ConnectionReference(slot: 7, serial: 0xdead_beef, isReply: true)),
        .meter(port: 3, direction: .ingress), .decapsulate, .setDestinationMAC(Fixture.macB1),
        .forward(port: 3),
      ]),
      ActionList([
        .trackConnection(ConnectionReference(slot: 1, serial: 2, isReply: false)),
        .trackConnection(ConnectionReference(slot: 9, serial: 4, isReply: true)),
        .meter(port: 1, direction: .egress), .meter(port: 2, direction: .ingress),
        .setDestinationMAC(Fixture.macB1), .setSourceMAC(Fixture.cardMAC), .forward(port: 2),
      ]),
      ActionList([
        .meter(port: 1, direction: .egress), .setDestinationMAC(Fixture.macB1),
        .encapsulate(template: 70_000, sourcePort: 65_535), .forward(port: 0),
      ]),
      ActionList([.meter(port: 4, direction: .egress), .drop(.ttlExpired)]),
      ActionList(),
    ]
    for list in lists {
      #expect(ActionProgram(list)?.actions == list)
    }
  }

  /// Key, program and bookkeeping in two cache lines, a connection in
  /// one: a hit touches exactly the lines the batch pipeline prefetched.
  @Test func entriesFillWholeCacheLines() {
    #expect(MemoryLayout<ActionProgram>.size <= 44)
    #expect(MemoryLayout<FlowEntry>.stride == 128)
    #expect(MemoryLayout<ConnectionEntry>.stride == 64)
  }
}
