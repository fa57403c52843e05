import Wire

@testable import DataPlane

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator whose seed is
/// printed when a property fails, so the run can be repeated.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// Two tenants on two cards: this card (10.255.0.1) hosts NICs a1, a2
/// (VPC 1, Geneve, VNI 1001) and c1 (VPC 2, VXLAN, VNI 2002); card B
/// (10.255.0.2) hosts b1 (VPC 1) and d1 (VPC 2), which use the same
/// overlay addresses as a1/b1 so that a cross-tenant leak would show.
enum Fixture {
  static let cardA = IPAddress.v4(IPv4Address(10, 255, 0, 1))
  static let cardB = IPAddress.v4(IPv4Address(10, 255, 0, 2))
  static let edge = IPAddress.v4(IPv4Address(10, 255, 0, 9))
  static let cardMAC = MACAddress(0x02, 0xca, 0, 0, 0, 1)
  static let routerMAC = MACAddress(0x02, 0xee, 0, 0, 0, 1)
  static let gatewayMAC = MACAddress(0x02, 0x00, 0x5e, 0, 0, 1)
  static let macA1 = MACAddress(0x02, 0, 0, 0, 0xa1, 1)
  static let macA2 = MACAddress(0x02, 0, 0, 0, 0xa2, 2)
  static let macB1 = MACAddress(0x02, 0, 0, 0, 0xb1, 3)
  static let macC1 = MACAddress(0x02, 0, 0, 0, 0xc1, 4)
  static let macD1 = MACAddress(0x02, 0, 0, 0, 0xd1, 5)
  static let ipA1 = IPv4Address(172, 16, 1, 10)
  static let ipA2 = IPv4Address(172, 16, 1, 11)
  static let ipB1 = IPv4Address(172, 16, 2, 20)
  static let ipC1 = IPv4Address(172, 16, 1, 10)  // same as a1, other tenant
  static let ipD1 = IPv4Address(172, 16, 2, 20)  // same as b1, other tenant
  static let v6A1 = IPv6Address("fd00:1::10")!
  static let v6B1 = IPv6Address("fd00:2::20")!
  static let gateway1 = IPv4Address(172, 16, 1, 1)
  static let gateway1v6 = IPv6Address("fd00:1::1")!

  static func configuration(
    vpc1Routes: RouteTable = RouteTable(), inboundA1: [SecurityRule] = [], mtu: Int = 1500
  ) -> NetworkConfiguration {
    let card = CardSettings(
      underlayAddress: cardA, underlayMAC: cardMAC, underlayRouterMAC: routerMAC, underlayMTU: mtu,
      guestMTU: 1400,
      gatewayMAC: gatewayMAC, dnsServers: [IPv4Address(172, 16, 0, 2)], leaseSeconds: 3600)
    let vpc1 = VPC(
      id: 1, tenant: 1, ipv4CIDRs: [IPv4Prefix("172.16.0.0/16")!], ipv6CIDRs: [IPv6Prefix("fd00::/16")!],
      vni: 1001,
      encapsulation: .geneve, routeTable: vpc1Routes)
    let vpc2 = VPC(
      id: 2, tenant: 2, ipv4CIDRs: [IPv4Prefix("172.16.0.0/16")!], vni: 2002, encapsulation: .vxlan)
    let subnets = [
      Subnet(
        id: 11, vpc: 1, ipv4: IPv4Prefix("172.16.1.0/24")!, ipv6: IPv6Prefix("fd00:1::/64")!,
        gatewayIPv4: gateway1,
        gatewayIPv6: gateway1v6),
      Subnet(id: 12, vpc: 1, ipv4: IPv4Prefix("172.16.2.0/24")!, gatewayIPv4: IPv4Address(172, 16, 2, 1)),
      Subnet(id: 21, vpc: 2, ipv4: IPv4Prefix("172.16.1.0/24")!, gatewayIPv4: gateway1),
      Subnet(id: 22, vpc: 2, ipv4: IPv4Prefix("172.16.2.0/24")!, gatewayIPv4: IPv4Address(172, 16, 2, 1)),
    ]
    let groups = [
      SecurityGroup(id: 100, inbound: inboundA1 + [SecurityRule(.any, .securityGroup(100))]),
      SecurityGroup(id: 200, inbound: [SecurityRule(.any, .securityGroup(200))]),
    ]
    let nics = [
      NIC(
        id: 1, subnet: 11, mac: macA1, primaryIPv4: ipA1, ipv6: [v6A1], securityGroups: [100], card: cardA,
        port: 1),
      NIC(id: 2, subnet: 11, mac: macA2, primaryIPv4: ipA2, securityGroups: [100], card: cardA, port: 2),
      NIC(
        id: 3, subnet: 12, mac: macB1, primaryIPv4: ipB1, ipv6: [v6B1], securityGroups: [100], card: cardB,
        port: 1),
      NIC(id: 4, subnet: 21, mac: macC1, primaryIPv4: ipC1, securityGroups: [200], card: cardA, port: 3),
      NIC(id: 5, subnet: 22, mac: macD1, primaryIPv4: ipD1, securityGroups: [200], card: cardB, port: 2),
    ]
    return NetworkConfiguration(
      card: card, tenants: [Tenant(id: 1, name: "one"), Tenant(id: 2, name: "two")], vpcs: [vpc1, vpc2],
      subnets: subnets, nics: nics, securityGroups: groups)
  }
}

/// Frames built with Wire's builders (tests only: allocates).
enum Frames {
  static func udp(
    srcMAC: MACAddress, dstMAC: MACAddress = Fixture.gatewayMAC, src: IPv4Address, dst: IPv4Address,
    sport: UInt16 = 40000, dport: UInt16 = 53, payload: Int = 32, dontFragment: Bool = true
  ) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 14 + 20 + 8 + payload)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: dstMAC, source: srcMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(
        source: src, destination: dst, protocol: .udp, payloadLength: 8 + payload, dontFragment: dontFragment
      )
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let udp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
      for i in 0..<payload { udp[8 + i] = UInt8(truncatingIfNeeded: i) }
      UDPHeader(sourcePort: sport, destinationPort: dport, payloadLength: payload).emit(into: udp)
      UDPDatagram(unchecked: udp).fillChecksum(
        pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
          source: src, destination: dst, protocol: .udp, length: 8 + payload))
    }
    return b
  }

  static func tcp(
    srcMAC: MACAddress, dstMAC: MACAddress = Fixture.gatewayMAC, src: IPv4Address, dst: IPv4Address,
    sport: UInt16,
    dport: UInt16, flags: TCPFlags
  ) -> [UInt8] {
    let header = TCPHeader(
      sourcePort: sport, destinationPort: dport, sequenceNumber: 1, acknowledgmentNumber: 0, flags: flags,
      window: 1024)
    let tcpLength = header.headerLength
    var b = [UInt8](repeating: 0, count: 14 + 20 + tcpLength)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: dstMAC, source: srcMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: src, destination: dst, protocol: .tcp, payloadLength: tcpLength)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      header.emit(into: UnsafeMutableRawBufferPointer(rebasing: p[34...]))
    }
    return b
  }

  /// `inner` wrapped in outer Ethernet/IPv4/UDP and Geneve or VXLAN.
  static func encapsulated(
    _ inner: [UInt8], vni: UInt32, kind: Encapsulation, from vtep: IPv4Address,
    to card: IPv4Address = IPv4Address(10, 255, 0, 1),
    dstMAC: MACAddress = Fixture.cardMAC
  ) -> [UInt8] {
    let tunnelLength = kind.headerLength
    let udpLength = 8 + tunnelLength + inner.count
    var b = [UInt8](repeating: 0, count: 14 + 20 + udpLength)
    b.withUnsafeMutableBytes { p in
      EthernetHeader(destination: dstMAC, source: Fixture.routerMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: vtep, destination: card, protocol: .udp, payloadLength: udpLength)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let udp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
      UDPHeader(sourcePort: 50000, destinationPort: kind.udpPort, payloadLength: udpLength - 8).emit(
        into: udp)
      let tunnel = UnsafeMutableRawBufferPointer(rebasing: p[42...])
      if kind == .geneve {
        GeneveHeader(vni: vni).emit(into: tunnel)
      } else {
        VXLANHeader(vni: vni).emit(into: tunnel)
      }
      for (i, byte) in inner.enumerated() { p[42 + tunnelLength + i] = byte }
    }
    return b
  }
}

/// A data plane with a pool, running single frames or batches.
final class Harness {
  let plane: DataPlane
  let pool = PacketPool(bufferCount: 256)
  var now: UInt64 = 1_000_000_000

  init(_ config: NetworkConfiguration = Fixture.configuration(), cache: Bool = true, flowCapacity: Int = 4096)
    throws
  {
    plane = try DataPlane(
      configuration: config, portCount: 16, flowCapacity: flowCapacity, connectionCapacity: 4096)
    plane.isFlowCacheEnabled = cache
  }

  struct Output: Equatable {
    var verdict: Verdict
    var port: UInt16
    var bytes: [UInt8]
  }

  /// Runs frames (port, bytes) as one batch; returns each result.
  func run(_ frames: [(UInt16, [UInt8])]) -> [Output] {
    var batch = PacketBatch()
    for (port, bytes) in frames {
      var buffer = pool.take()!
      _ = bytes.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      buffer.inputPort = port
      batch.append(buffer)
    }
    plane.process(&batch, now: now)
    var outputs: [Output] = []
    for i in 0..<batch.count {
      let b = batch[i]
      outputs.append(
        Output(verdict: b.verdict, port: b.outputPort, bytes: b.verdict == .forward ? b.bytes : []))
      pool.give(b)
    }
    return outputs
  }

  func run(port: UInt16, _ bytes: [UInt8]) -> Output { run([(port, bytes)])[0] }
}

func parse(_ bytes: [UInt8]) -> ParsedPacket? {
  bytes.withUnsafeBytes { try? PacketParser.parse($0) }
}
