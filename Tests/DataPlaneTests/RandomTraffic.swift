import Wire

@testable import DataPlane

/// A random multi-tenant world: VPCs with overlapping CIDRs, NICs on this
/// card and on remote cards, and a generator of hostile and benign frames.
struct RandomWorld {
  struct Endpoint {
    var nic: NIC
    var vpc: VPC
    var isLocal: Bool
  }

  var config: NetworkConfiguration
  var endpoints: [Endpoint]
  static let cardA = IPv4Address(10, 255, 0, 1)

  init(rng: inout SplitMix64) {
    let vpcCount = 2 + Int(rng.next() % 3)
    var vpcs: [VPC] = []
    var subnets: [Subnet] = []
    var nics: [NIC] = []
    var groups: [SecurityGroup] = []
    var port: UInt16 = 1
    var vnis = Set<UInt32>()
    for v in 0..<vpcCount {
      var vni = UInt32(truncatingIfNeeded: rng.next()) & 0xff_ffff
      while vnis.contains(vni) { vni = (vni + 1) & 0xff_ffff }
      vnis.insert(vni)
      let id = UInt32(v + 1)
      vpcs.append(
        VPC(
          id: id, tenant: id, ipv4CIDRs: [IPv4Prefix("10.0.0.0/16")!], vni: vni,
          encapsulation: rng.next() % 2 == 0 ? .geneve : .vxlan))
      subnets.append(
        Subnet(id: id * 10, vpc: id, ipv4: IPv4Prefix("10.0.0.0/24")!, gatewayIPv4: IPv4Address(10, 0, 0, 1)))
      // Inbound allowed from the VPC's own members, and UDP from anywhere
      // in 10.0.0.0/16 (which other VPCs also use: the data plane must not
      // confuse them).
      groups.append(
        SecurityGroup(
          id: id,
          inbound: [
            SecurityRule(.any, .securityGroup(id)),
            SecurityRule(.udp(1...1000), .ipv4(IPv4Prefix("10.0.0.0/16")!)),
          ]))
      let nicCount = 2 + Int(rng.next() % 4)
      for n in 0..<nicCount {
        let isLocal = n < 2 || rng.next() % 2 == 0
        let card = isLocal ? Self.cardA : IPv4Address(10, 255, 1, UInt8(1 + rng.next() % 4))
        let mac = MACAddress(rawValue: 0x0200_0000_0000 | UInt64(v) << 16 | UInt64(n))
        nics.append(
          NIC(
            id: id * 100 + UInt32(n), subnet: id * 10, mac: mac,
            primaryIPv4: IPv4Address(10, 0, 0, UInt8(10 + n)),
            securityGroups: [id], card: .v4(card), port: isLocal ? port : 0))
        if isLocal { port += 1 }
      }
    }
    config = NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(Self.cardA), underlayMAC: Fixture.cardMAC, underlayRouterMAC: Fixture.routerMAC,
        gatewayMAC: Fixture.gatewayMAC),
      vpcs: vpcs, subnets: subnets, nics: nics, securityGroups: groups)
    endpoints = nics.map { nic in
      let vpc = vpcs.first { $0.id * 10 == nic.subnet }!
      return Endpoint(nic: nic, vpc: vpc, isLocal: nic.card == .v4(Self.cardA))
    }
  }

  var localEndpoints: [Endpoint] { endpoints.filter { $0.isLocal } }

  func pick(_ rng: inout SplitMix64, _ list: [Endpoint]) -> Endpoint {
    list[Int(rng.next() % UInt64(list.count))]
  }

  /// One frame with its input port. Most are plausible; some are spoofed,
  /// cross-tenant, wrong-VNI or wrong-VTEP.
  func frame(_ rng: inout SplitMix64) -> (UInt16, [UInt8]) {
    let sport = UInt16(1 + rng.next() % 8)
    let dport = UInt16(1 + rng.next() % 4) * (rng.next() % 4 == 0 ? 1000 : 1)
    if rng.next() % 2 == 0 {
      // Egress from a local NIC.
      let from = pick(&rng, localEndpoints)
      let to = pick(&rng, endpoints)
      var srcMAC = from.nic.mac
      var src = from.nic.primaryIPv4
      if rng.next() % 8 == 0 { srcMAC = pick(&rng, endpoints).nic.mac }
      if rng.next() % 8 == 0 { src = pick(&rng, endpoints).nic.primaryIPv4 }
      let frame =
        rng.next() % 3 == 0
        ? Frames.tcp(
          srcMAC: srcMAC, src: src, dst: to.nic.primaryIPv4, sport: sport, dport: dport,
          flags: [[.syn], [.ack], [.fin, .ack], [.rst], [.syn, .ack]][Int(rng.next() % 5)])
        : Frames.udp(
          srcMAC: srcMAC, src: src, dst: to.nic.primaryIPv4, sport: sport, dport: dport,
          payload: Int(rng.next() % 64))
      return (from.nic.port, frame)
    }
    // Ingress from a remote NIC's VTEP (or a wrong one) to a local NIC.
    let from = pick(&rng, endpoints)
    let to = pick(&rng, localEndpoints)
    var vni = from.vpc.vni
    if rng.next() % 6 == 0 { vni = pick(&rng, endpoints).vpc.vni }
    if rng.next() % 16 == 0 { vni = UInt32(truncatingIfNeeded: rng.next()) & 0xff_ffff }
    var vtep = IPv4Address(10, 255, 1, 1)
    if case .v4(let card) = from.nic.card { vtep = card }
    if rng.next() % 6 == 0 { vtep = IPv4Address(10, 255, 1, UInt8(1 + rng.next() % 4)) }
    let kind: Encapsulation =
      rng.next() % 8 == 0 ? (from.vpc.encapsulation == .geneve ? .vxlan : .geneve) : from.vpc.encapsulation
    let inner = Frames.udp(
      srcMAC: from.nic.mac, dstMAC: to.nic.mac, src: from.nic.primaryIPv4, dst: to.nic.primaryIPv4,
      sport: sport, dport: dport, payload: Int(rng.next() % 64))
    return (0, Frames.encapsulated(inner, vni: vni, kind: kind, from: vtep))
  }
}
