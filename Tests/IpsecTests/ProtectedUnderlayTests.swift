import CardCrypto
import DataPlane
import Ipsec
import Testing
import Wire

/// Two cards' pipelines with ESP on the underlay between them: tenant
/// traffic crosses as ESP only, clear text from a protected peer is
/// dropped, a wrong SA stops traffic with counted failures, and the MTU a
/// guest learns accounts for ESP.
@Suite struct ProtectedUnderlayTests {
  static let cardA = IPv4Address(10, 0, 0, 1)
  static let cardB = IPv4Address(10, 0, 0, 2)
  static let gatewayMAC = MACAddress("02:00:5e:00:00:01")!
  static let macA = MACAddress("02:00:00:00:0a:01")!
  static let macB = MACAddress("02:00:00:00:0b:01")!
  static let ipA = IPv4Address(172, 16, 1, 10)
  static let ipB = IPv4Address(172, 16, 2, 20)
  let pool = PacketPool(bufferCount: 16)

  /// VPC 1 (Geneve): NIC a on card A port 1, NIC b on card B port 1, as
  /// `card` sees it; the underlay MTU lowered for ESP.
  static func configuration(card: IPv4Address) -> NetworkConfiguration {
    let all = IPv4Prefix("172.16.0.0/16")!
    let plain = NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(card), underlayMAC: MACAddress("02:ca:00:00:00:0\(card == cardA ? 1 : 2)")!,
        underlayRouterMAC: MACAddress("02:ee:00:00:00:01")!, underlayMTU: 1500, guestMTU: 1500,
        gatewayMAC: gatewayMAC),
      vpcs: [VPC(id: 1, tenant: 1, ipv4CIDRs: [all], vni: 1001, encapsulation: .geneve)],
      subnets: [Subnet(id: 1, vpc: 1, ipv4: all, gatewayIPv4: IPv4Address(172, 16, 0, 1))],
      nics: [
        NIC(id: 1, subnet: 1, mac: macA, primaryIPv4: ipA, securityGroups: [1], card: .v4(cardA), port: 1),
        NIC(id: 2, subnet: 1, mac: macB, primaryIPv4: ipB, securityGroups: [1], card: .v4(cardB), port: 1),
      ],
      securityGroups: [SecurityGroup(id: 1, inbound: [SecurityRule(.any, .securityGroup(1))])])
    return ProtectedUnderlay.protecting(plain, suite: .aesGCM256)
  }

  /// One card: its pipeline, an SA pair towards the other card (SPI
  /// `spiOut` sealed with `keyOut`, `spiIn` opened with `keyIn`).
  static func card(
    _ address: IPv4Address, peer: IPv4Address, spiOut: UInt32, keyOut: String, spiIn: UInt32, keyIn: String
  ) throws -> ProtectedUnderlay {
    let plane = try DataPlane(configuration: configuration(card: address), portCount: 4)
    let database = SecurityAssociationDatabase(capacity: 4, outboundSlots: 1)
    func sa(_ direction: SecurityAssociationParameters.Direction, _ spi: UInt32, _ key: String) throws
      -> SecurityAssociation
    {
      try SecurityAssociation(
        SecurityAssociationParameters(spi: spi, direction: direction, mode: .transport, suite: .aesGCM256),
        keyMaterial: try SymmetricKey(hex: key), installedAt: 0)
    }
    try database.setOutbound(try sa(.outbound, spiOut, keyOut), slot: 0)
    try database.installInbound(try sa(.inbound, spiIn, keyIn))
    let esp = IpsecDataPath(
      database: database, policies: [ProtectedUnderlay.policy(from: .v4(address), toPeer: .v4(peer), slot: 0)]
    )
    return ProtectedUnderlay(plane: plane, esp: esp)
  }

  static let keyAB = String(repeating: "a1", count: 36)
  static let keyBA = String(repeating: "b2", count: 36)

  /// UDP from NIC a to NIC b, `payload` bytes, DF set.
  static func tenantFrame(payload: Int) -> [UInt8] {
    var frame = [UInt8](repeating: 0x5a, count: 14 + 20 + 8 + payload)
    frame.withUnsafeMutableBytes { p in
      EthernetHeader(destination: gatewayMAC, source: macA, etherType: .ipv4).emit(into: p)
      IPv4Header(
        source: ipA, destination: ipB, protocol: .udp, payloadLength: 8 + payload, dontFragment: true
      )
      .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
      let udp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
      udp.storeBytes(of: UInt16(4000).bigEndian, toByteOffset: 0, as: UInt16.self)
      udp.storeBytes(of: UInt16(5000).bigEndian, toByteOffset: 2, as: UInt16.self)
      udp.storeBytes(of: UInt16(8 + payload).bigEndian, toByteOffset: 4, as: UInt16.self)
      udp.storeBytes(of: UInt16(0).bigEndian, toByteOffset: 6, as: UInt16.self)
    }
    return frame
  }

  /// The underlay router's hop: the frame now goes to card B's MAC.
  static func routed(_ frame: [UInt8]) -> [UInt8] {
    guard frame.count >= 14 else { return frame }
    return [0x02, 0xca, 0, 0, 0, 0x02] + [0x02, 0xee, 0, 0, 0, 0x01] + Array(frame[12...])
  }

  func run(_ card: ProtectedUnderlay, port: UInt16, _ frame: [UInt8], now: UInt64 = 1_000_000_000) -> (
    Verdict, UInt16, [UInt8]
  ) {
    var buffer = pool.take()!
    _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
    buffer.inputPort = port
    var batch = PacketBatch()
    batch.append(buffer)
    card.process(&batch, now: now)
    let out = batch[0]
    defer { pool.give(out) }
    return (out.verdict, out.outputPort, out.verdict == .forward ? out.bytes : [])
  }

  @Test func tenantTrafficCrossesTheUnderlayAsESPOnly() throws {
    let a = try Self.card(
      Self.cardA, peer: Self.cardB, spiOut: 0x1000, keyOut: Self.keyAB, spiIn: 0x2000, keyIn: Self.keyBA)
    let b = try Self.card(
      Self.cardB, peer: Self.cardA, spiOut: 0x2000, keyOut: Self.keyBA, spiIn: 0x1000, keyIn: Self.keyAB)
    for payload in [0, 100, 1000] {
      let frame = Self.tenantFrame(payload: payload)
      let (verdict, port, wire) = run(a, port: 1, frame)
      try #require(verdict == .forward && port == DataPlane.uplinkPort)
      #expect(wire[12] == 0x08 && wire[13] == 0x00 && wire[23] == IPProtocol.esp.rawValue, "ESP on the wire")
      #expect(
        Array(wire[26..<34]) == [10, 0, 0, 1, 10, 0, 0, 2], "between the two cards' underlay addresses")
      let (arrived, out, delivered) = run(b, port: DataPlane.uplinkPort, Self.routed(wire))
      #expect(arrived == .forward)
      #expect(out == 1)
      #expect(Array(delivered[14...]) == Array(frame[14...]), "the tenant's IP packet arrives unchanged")
    }
    #expect(b.esp.database.inboundSA(spi: 0x1000)!.counters.packets == 3)
  }

  /// RFC 4301 §5.2: Geneve in clear from a card whose traffic must be
  /// protected is dropped and counted.
  @Test func clearUnderlayFromAProtectedPeerIsDropped() throws {
    let plainA = try DataPlane(configuration: Self.configuration(card: Self.cardA), portCount: 4)
    let b = try Self.card(
      Self.cardB, peer: Self.cardA, spiOut: 0x2000, keyOut: Self.keyBA, spiIn: 0x1000, keyIn: Self.keyAB)
    var buffer = pool.take()!
    _ = Self.tenantFrame(payload: 64).withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
    buffer.inputPort = 1
    var batch = PacketBatch()
    batch.append(buffer)
    plainA.process(&batch, now: 1_000_000_000)
    let clear = batch[0].bytes
    pool.give(batch[0])
    #expect(clear[23] == IPProtocol.udp.rawValue, "Geneve in clear")
    let (verdict, _, _) = run(b, port: DataPlane.uplinkPort, Self.routed(clear))
    #expect(verdict != .forward)
    #expect(b.esp.clearTextDrops == [1])
    #expect(b.esp.database.counters.dropped(.clearTextWhereProtected) == 1)
  }

  /// The same SPI with a different key on the receiving card: nothing is
  /// delivered, every packet is counted, nothing traps.
  @Test func wrongKeyOnOneCardStopsTrafficAndIsCounted() throws {
    let a = try Self.card(
      Self.cardA, peer: Self.cardB, spiOut: 0x1000, keyOut: Self.keyAB, spiIn: 0x2000, keyIn: Self.keyBA)
    let b = try Self.card(
      Self.cardB, peer: Self.cardA, spiOut: 0x2000, keyOut: Self.keyBA, spiIn: 0x1000, keyIn: Self.keyBA)
    for _ in 0..<10 {
      let (_, _, wire) = run(a, port: 1, Self.tenantFrame(payload: 200))
      let (verdict, _, _) = run(b, port: DataPlane.uplinkPort, Self.routed(wire))
      #expect(verdict != .forward)
    }
    #expect(b.esp.database.inboundSA(spi: 0x1000)!.counters.dropped(.authenticationFailed) == 10)
  }

  /// A tenant packet that fits 1500 in clear but not once ESP is added is
  /// answered with ICMP "fragmentation needed" (RFC 1191) carrying an MTU
  /// that, sealed, fits the uplink; a packet of exactly that size crosses.
  @Test func pathMTUAccountsForESP() throws {
    let a = try Self.card(
      Self.cardA, peer: Self.cardB, spiOut: 0x1000, keyOut: Self.keyAB, spiIn: 0x2000, keyIn: Self.keyBA)
    let b = try Self.card(
      Self.cardB, peer: Self.cardA, spiOut: 0x2000, keyOut: Self.keyBA, spiIn: 0x1000, keyIn: Self.keyAB)
    let configuration = Self.configuration(card: Self.cardA)
    #expect(
      configuration.card.underlayMTU == ProtectedUnderlay.underlayMTU(uplinkMTU: 1500, suite: .aesGCM256))
    // 1500 - ESP header 8 - IV 8 - trailer 2 - ICV 16 (already 4-aligned).
    #expect(configuration.card.underlayMTU == 1466)
    #expect(configuration.card.guestMTU == 1466 - 50)
    // 1450 bytes of IP packet: 1500 with Geneve in clear, too big with ESP.
    let (verdict, port, answer) = run(a, port: 1, Self.tenantFrame(payload: 1450 - 28))
    try #require(verdict == .forward && port == 1, "answered to the guest")
    #expect(answer[23] == IPProtocol.icmp.rawValue)
    #expect(answer[34] == 3 && answer[35] == 4, "destination unreachable, fragmentation needed")
    let mtu = Int(answer[40]) << 8 | Int(answer[41])
    #expect(mtu == configuration.card.guestMTU)
    // A packet of the advertised size fits once encapsulated and sealed.
    let (sent, uplink, wire) = run(a, port: 1, Self.tenantFrame(payload: mtu - 28))
    try #require(sent == .forward && uplink == DataPlane.uplinkPort)
    #expect(wire.count - 14 <= 1500)
    let (arrived, out, _) = run(b, port: DataPlane.uplinkPort, Self.routed(wire))
    #expect(arrived == .forward && out == 1)
    #expect(a.oversizedAfterSealing == 0)
  }
}
