import CardCrypto
import DataPlane
import Ipsec
import Testing
import Wire

/// A VPC's tunnel to an outside site: the card's pipeline routes the site's
/// prefix to the gateway as to a VTEP, and the site stage turns that into
/// RFC 4303 tunnel mode and back. The far end here is our own SA pair in
/// the gateway's role; `RackTests` runs the same against Linux xfrm.
@Suite struct SiteTunnelTests {
  static let card = IPv4Address(10, 255, 2, 2)
  static let gateway = IPv4Address(10, 255, 151, 2)
  static let cardMAC = MACAddress("02:ca:00:00:00:02")!
  static let routerMAC = MACAddress("02:ee:00:00:00:02")!
  static let gatewayMAC = MACAddress("02:00:5e:00:00:01")!
  static let nicMAC = MACAddress("52:54:00:b0:00:01")!
  static let otherMAC = MACAddress("52:54:00:b0:00:02")!
  static let tenant = IPv4Address(172, 16, 2, 10)
  static let siteHost = IPv4Address(192, 168, 50, 1)
  static let sitePrefix = IPv4Prefix("192.168.50.0/24")!
  static let vpcPrefix = IPv4Prefix("172.16.0.0/16")!
  static let keyToSite = String(repeating: "3c", count: 20)
  static let keyToCard = String(repeating: "c3", count: 20)
  static let spiToSite: UInt32 = 0x5001
  static let spiToCard: UInt32 = 0x5002
  let pool = PacketPool(bufferCount: 16)

  static func macBytes(_ mac: MACAddress) -> [UInt8] {
    (0..<6).map { UInt8(truncatingIfNeeded: mac.rawValue >> (40 - 8 * $0)) }
  }

  /// Two tenants with the same range on one card: acme (VNI 1001, NIC on
  /// port 1) has the site; globex (VNI 2002, port 2) routes the site's
  /// prefix to the same gateway, which must not give it the tunnel.
  static func configuration(encapsulation: Encapsulation = .geneve) -> NetworkConfiguration {
    let route = RouteTable(ipv4: [IPv4Route(sitePrefix, .gateway(vtep: .v4(gateway)))])
    let plain = NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(card), underlayMAC: cardMAC, underlayRouterMAC: routerMAC, underlayMTU: 1500,
        guestMTU: 1500, gatewayMAC: gatewayMAC),
      vpcs: [
        VPC(
          id: 1, tenant: 1, ipv4CIDRs: [vpcPrefix], vni: 1001, encapsulation: encapsulation, routeTable: route
        ),
        VPC(id: 2, tenant: 2, ipv4CIDRs: [vpcPrefix], vni: 2002, encapsulation: .geneve, routeTable: route),
      ],
      subnets: [
        Subnet(id: 1, vpc: 1, ipv4: vpcPrefix, gatewayIPv4: IPv4Address(172, 16, 0, 1)),
        Subnet(id: 2, vpc: 2, ipv4: vpcPrefix, gatewayIPv4: IPv4Address(172, 16, 0, 1)),
      ],
      nics: [
        NIC(
          id: 1, subnet: 1, mac: nicMAC, primaryIPv4: tenant, securityGroups: [1], card: .v4(card), port: 1),
        NIC(
          id: 2, subnet: 2, mac: otherMAC, primaryIPv4: tenant, securityGroups: [2], card: .v4(card), port: 2),
      ],
      securityGroups: [
        SecurityGroup(id: 1, inbound: [SecurityRule(.icmp, .ipv4(sitePrefix))]),
        SecurityGroup(id: 2, inbound: []),
      ])
    return ProtectedUnderlay.protecting(plain, suite: .aesGCM128)
  }

  static func sa(
    _ direction: SecurityAssociationParameters.Direction, spi: UInt32, key: String, local: IPv4Address,
    remote: IPv4Address, inner: TrafficSelector
  ) throws -> SecurityAssociation {
    try SecurityAssociation(
      SecurityAssociationParameters(
        spi: spi, direction: direction, mode: .tunnel(local: .v4(local), remote: .v4(remote)),
        suite: .aesGCM128,
        innerSelector: inner),
      keyMaterial: try SymmetricKey(hex: key), installedAt: 0)
  }

  /// The card: its pipeline between the site's SAs.
  static func cardStage(encapsulation: Encapsulation = .geneve) throws -> ProtectedUnderlay {
    let configuration = configuration(encapsulation: encapsulation)
    let plane = try DataPlane(configuration: configuration, portCount: 4)
    let database = SecurityAssociationDatabase(capacity: 4, outboundSlots: 2)
    let selector = TrafficSelector(local: .v4(vpcPrefix), remote: .v4(sitePrefix))
    try database.setOutbound(
      try sa(.outbound, spi: spiToSite, key: keyToSite, local: card, remote: gateway, inner: selector),
      slot: 1)
    try database.installInbound(
      try sa(.inbound, spi: spiToCard, key: keyToCard, local: card, remote: gateway, inner: selector))
    let path = IpsecDataPath(
      database: database,
      policies: [ProtectedUnderlay.policy(from: .v4(card), toPeer: .v4(gateway), slot: 1)])
    let site = SiteTunnel(
      gateway: gateway, card: card, vni: 1001, encapsulation: encapsulation, outboundSlot: 1,
      gatewayMAC: gatewayMAC)
    return ProtectedUnderlay(plane: plane, esp: path, sites: [site])
  }

  /// The site gateway's side (what Linux xfrm does in the rack test).
  struct Gateway {
    let seal: SecurityAssociation
    let open: SecurityAssociation
    init() throws {
      let selector = TrafficSelector(local: .v4(sitePrefix), remote: .v4(vpcPrefix))
      seal = try sa(
        .outbound, spi: spiToCard, key: keyToCard, local: gateway, remote: card,
        inner: .init(
          local: .anyV4, remote: .anyV4))
      open = try sa(.inbound, spi: spiToSite, key: keyToSite, local: gateway, remote: card, inner: selector)
    }
  }

  /// ICMP echo request from `source` to `destination` in an Ethernet frame.
  static func echo(
    from source: IPv4Address, to destination: IPv4Address, sourceMAC: MACAddress, to mac: MACAddress
  )
    -> [UInt8]
  {
    var frame = [UInt8](repeating: 0x61, count: 14 + 20 + 8 + 32)
    frame.withUnsafeMutableBytes { p in
      EthernetHeader(destination: mac, source: sourceMAC, etherType: .ipv4).emit(into: p)
      IPv4Header(source: source, destination: destination, protocol: .icmp, payloadLength: 40)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      p[34] = 8
      p[35] = 0
      p[36] = 0
      p[37] = 0
      p[38] = 0x12
      p[39] = 0x34
      p[40] = 0
      p[41] = 1
      let sum = InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: p[34...]))
      p[36] = UInt8(sum >> 8)
      p[37] = UInt8(sum & 0xff)
    }
    return frame
  }

  func run(_ stage: ProtectedUnderlay, port: UInt16, _ frame: [UInt8]) -> (Verdict, UInt16, [UInt8]) {
    var buffer = pool.take()!
    _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
    buffer.inputPort = port
    var batch = PacketBatch()
    batch.append(buffer)
    stage.process(&batch, now: 1_000_000_000)
    let out = batch[0]
    defer { pool.give(out) }
    return (out.verdict, out.outputPort, out.verdict == .forward ? out.bytes : [])
  }

  /// Opens (or seals) `frame` with one SA, as the gateway does.
  func through(_ sa: SecurityAssociation, _ frame: [UInt8], sealing: Bool) throws -> [UInt8] {
    var buffer = pool.take()!
    defer { pool.give(buffer) }
    _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
    if sealing { try sa.seal(&buffer, now: 1) } else { try sa.open(&buffer, now: 1) }
    return buffer.bytes
  }

  @Test(arguments: [Encapsulation.geneve, .vxlan])
  func tenantAndSiteTalkThroughTheTunnelBothWays(encapsulation: Encapsulation) throws {
    let stage = try Self.cardStage(encapsulation: encapsulation)
    let gateway = try Gateway()

    // Tenant -> site: only ESP between the card and the gateway, in tunnel
    // mode; the gateway opens the tenant's packet unchanged.
    let request = Self.echo(from: Self.tenant, to: Self.siteHost, sourceMAC: Self.nicMAC, to: Self.gatewayMAC)
    let (verdict, port, wire) = run(stage, port: 1, request)
    try #require(verdict == .forward && port == DataPlane.uplinkPort)
    #expect(wire[23] == IPProtocol.esp.rawValue, "ESP on the wire")
    #expect(Array(wire[26..<34]) == [10, 255, 2, 2, 10, 255, 151, 2], "card to gateway")
    #expect(Array(wire[0..<6]) == Self.macBytes(Self.routerMAC), "to the underlay's next hop")
    let opened = try through(gateway.open, wire, sealing: false)
    #expect(Array(opened[14...]) == Array(request[14...]), "the tenant's packet arrives as it was sent")

    // Site -> tenant: the gateway seals a packet from the site; the card
    // opens it and delivers it to the tenant's NIC from the VPC gateway.
    let answer = Self.echo(from: Self.siteHost, to: Self.tenant, sourceMAC: Self.routerMAC, to: Self.cardMAC)
    let sealed = try through(gateway.seal, answer, sealing: true)
    #expect(sealed[23] == IPProtocol.esp.rawValue)
    let (arrived, out, delivered) = run(stage, port: DataPlane.uplinkPort, sealed)
    #expect(arrived == .forward)
    #expect(out == 1)
    #expect(Array(delivered[0..<6]) == Self.macBytes(Self.nicMAC))
    #expect(Array(delivered[6..<12]) == Self.macBytes(Self.gatewayMAC))
    #expect(Array(delivered[14...]) == Array(answer[14...]))
    #expect(stage.esp.database.inboundSA(spi: Self.spiToCard)!.counters.packets == 1)
    #expect(stage.esp.database.outboundSA(slot: 1)!.counters.packets == 1)
  }

  /// Another tenant's VPC routing the site's prefix to the same gateway
  /// gets nothing through the tunnel: dropped and counted.
  @Test func anotherVPCRoutingToTheGatewayIsDropped() throws {
    let stage = try Self.cardStage()
    let request = Self.echo(
      from: Self.tenant, to: Self.siteHost, sourceMAC: Self.otherMAC, to: Self.gatewayMAC)
    let (verdict, _, _) = run(stage, port: 2, request)
    #expect(verdict != .forward)
    #expect(stage.siteCounters.notTheSiteVPC == 1)
    #expect(stage.esp.database.outboundSA(slot: 1)!.counters.packets == 0)
  }

  /// Clear text from the gateway (Geneve to the VPC or a bare IP packet)
  /// is dropped: the gateway is a protected peer.
  @Test func clearTextFromTheGatewayIsDropped() throws {
    let stage = try Self.cardStage()
    var bare = Self.echo(from: Self.siteHost, to: Self.tenant, sourceMAC: Self.routerMAC, to: Self.cardMAC)
    // Readdress the outer header as the gateway's own.
    bare.withUnsafeMutableBytes { p in
      IPv4Header(source: Self.gateway, destination: Self.card, protocol: .icmp, payloadLength: 40)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
    }
    let (verdict, _, _) = run(stage, port: DataPlane.uplinkPort, bare)
    #expect(verdict != .forward)
    #expect(stage.esp.database.counters.dropped(.clearTextWhereProtected) == 1)
  }

  /// A packet sealed with the site's key but carrying addresses outside
  /// the tunnel's prefixes is refused after opening (RFC 4301 §5.2).
  @Test func innerAddressesOutsideTheSiteAreRefused() throws {
    let stage = try Self.cardStage()
    let gateway = try Gateway()
    let spoofed = Self.echo(
      from: IPv4Address(10, 9, 9, 9), to: Self.tenant, sourceMAC: Self.routerMAC, to: Self.cardMAC)
    let sealed = try through(gateway.seal, spoofed, sealing: true)
    let (verdict, _, _) = run(stage, port: DataPlane.uplinkPort, sealed)
    #expect(verdict != .forward)
    #expect(stage.esp.database.inboundSA(spi: Self.spiToCard)!.counters.dropped(.selectorMismatch) == 1)
  }

  /// The security groups still apply to the site's traffic: a protocol
  /// the NIC's groups do not admit from the site is dropped by the
  /// pipeline after opening.
  @Test func securityGroupsApplyToTheSite() throws {
    let stage = try Self.cardStage()
    let gateway = try Gateway()
    var udp = Self.echo(from: Self.siteHost, to: Self.tenant, sourceMAC: Self.routerMAC, to: Self.cardMAC)
    udp.withUnsafeMutableBytes { p in
      IPv4Header(source: Self.siteHost, destination: Self.tenant, protocol: .udp, payloadLength: 40)
        .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      p[38] = 0
      p[39] = 40
      p[40] = 0
      p[41] = 0
    }
    let sealed = try through(gateway.seal, udp, sealing: true)
    let (verdict, _, _) = run(stage, port: DataPlane.uplinkPort, sealed)
    #expect(verdict == .drop(.securityGroupDenied))
    #expect(stage.esp.database.inboundSA(spi: Self.spiToCard)!.counters.packets == 1, "opened, then refused")
  }

  /// A packet a tunnel SA opened when no site uses that SA any more
  /// (the site line is gone, its SA still in its grace period) reaches no
  /// VPC: dropped and counted.
  @Test func aTunnelSAWithoutItsSiteDeliversNothing() throws {
    let stage = try Self.cardStage()
    let gateway = try Gateway()
    stage.setSites([])
    let answer = Self.echo(from: Self.siteHost, to: Self.tenant, sourceMAC: Self.routerMAC, to: Self.cardMAC)
    let (verdict, _, _) = run(
      stage, port: DataPlane.uplinkPort, try through(gateway.seal, answer, sealing: true))
    #expect(verdict != .forward)
    #expect(stage.siteCounters.noSite == 1)
  }
}
