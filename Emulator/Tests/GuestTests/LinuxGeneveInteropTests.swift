import DataPlane
import Foundation
import Testing
import Wire

@testable import Emulator

extension Guests {
  /// Linux's own geneve device as the peer card, both ways. The guest
  /// (10.255.0.2, a geneve device with VNI 1001 towards 10.255.0.1) is
  /// wired to this test by a datagram NIC: each datagram is one Ethernet
  /// frame on the underlay. The host kernel has no geneve module, so the
  /// peer runs in a guest.
  /// 1. Linux → us: the guest pings a NIC of this card; the frame its
  ///    geneve device sends must be decapsulated by our ingress and reach
  ///    that NIC's port.
  /// 2. Us → Linux: our egress encapsulates an echo request from that NIC;
  ///    Linux's geneve device must accept it (it answers), and the
  ///    answer, encapsulated by Linux, must come back through our ingress.
  @Suite struct LinuxGeneveInteropTests {
    static let card = IPv4Address(10, 255, 0, 1)
    static let peer = IPv4Address(10, 255, 0, 2)
    static let cardMAC = MACAddress("02:ca:00:00:00:01")!
    /// The underlay next hop our templates address: the guest's NIC.
    static let routerMAC = MACAddress("02:ee:00:00:00:01")!
    static let gatewayMAC = MACAddress("02:00:5e:00:00:01")!
    static let macA = MACAddress("02:00:00:00:0a:01")!
    static let macB = MACAddress("02:00:00:00:0b:01")!
    static let ipA = IPv4Address(172, 16, 1, 10)
    static let ipB = IPv4Address(172, 16, 2, 20)

    /// VPC 1 (Geneve, VNI 1001): NIC a on this card (port 1), NIC b on the
    /// peer card, which is the guest's geneve device.
    static func configuration() -> NetworkConfiguration {
      let all = IPv4Prefix("172.16.0.0/16")!
      return NetworkConfiguration(
        card: CardSettings(
          underlayAddress: .v4(card), underlayMAC: cardMAC, underlayRouterMAC: routerMAC,
          gatewayMAC: gatewayMAC),
        vpcs: [VPC(id: 1, tenant: 1, ipv4CIDRs: [all], vni: 1001, encapsulation: .geneve)],
        subnets: [Subnet(id: 1, vpc: 1, ipv4: all, gatewayIPv4: IPv4Address(172, 16, 0, 1))],
        nics: [
          NIC(id: 1, subnet: 1, mac: macA, primaryIPv4: ipA, securityGroups: [1], card: .v4(card), port: 1),
          NIC(id: 2, subnet: 1, mac: macB, primaryIPv4: ipB, securityGroups: [1], card: .v4(peer), port: 0),
        ],
        securityGroups: [SecurityGroup(id: 1, inbound: [SecurityRule(.any, .securityGroup(1))])])
    }

    @Test func kernelGeneveInteroperatesBothWays() throws {
      let image = try GuestFixture.image.get()
      let directory = try GuestFixture.directory("geneve")
      let underlay = try DatagramSocket(path: directory + "/t.sock")
      let scenario = """
        ip link set lo up
        ip addr add 10.255.0.2/24 dev eth0
        ip link set eth0 up
        ip neigh replace 10.255.0.1 lladdr \(Self.cardMAC) dev eth0
        step geneve ip link add gn0 type geneve id 1001 remote 10.255.0.1
        ip link set gn0 address \(Self.macB)
        ip link set gn0 up
        ip addr add 172.16.2.20/16 dev gn0
        ip neigh replace 172.16.1.10 lladdr \(Self.macA) dev gn0
        report configured=yes
        # Linux -> us, and time for the exchange the other way.
        ping -c 10 172.16.1.10 > /dev/null 2>&1
        report pinged=yes
        """
      var configuration = GuestConfiguration(name: "geneve", image: image, scenario: scenario)
      configuration.nics = [
        GuestNIC(
          .dgram(local: directory + "/q.sock", remote: directory + "/t.sock"), mac: Self.routerMAC.description
        )
      ]
      let guest = try Guest(configuration, directory: directory)
      defer { guest.stop() }
      let plane = try DataPlane(configuration: Self.configuration(), portCount: 4)
      var now: UInt64 = 1_000_000_000

      // 1. Linux -> us: the first echo request from the guest's geneve device.
      let fromLinux = try #require(
        underlay.receive(timeout: 60) { Self.isGeneve($0) && Self.icmpType(ofInnerOf: $0) == 8 },
        "no geneve frame from the guest")
      let (verdict, port, inner) = Self.run(plane, port: 0, fromLinux, now: &now)
      #expect(verdict == .forward)
      #expect(port == 1)
      let delivered = try inner.withUnsafeBytes { raw throws(WireError) in try PacketParser.parse(raw) }
      #expect(delivered.outer.destinationMAC == Self.macA)
      #expect(delivered.outer.source == .v4(Self.ipB))
      #expect(delivered.outer.destination == .v4(Self.ipA))

      // 2. Us -> Linux: an echo request from NIC a, encapsulated by us.
      let identifier: UInt16 = 0xb00c
      let request = Self.echoRequest(identifier: identifier)
      let (sent, uplink, encapsulated) = Self.run(plane, port: 1, request, now: &now)
      try #require(sent == .forward && uplink == DataPlane.uplinkPort)
      try underlay.send(encapsulated, to: directory + "/q.sock")
      let reply = try #require(
        underlay.receive(timeout: 20) {
          Self.isGeneve($0) && Self.icmpType(ofInnerOf: $0) == 0
            && Self.icmpIdentifier(ofInnerOf: $0) == identifier
        }, "Linux's geneve device did not answer our encapsulated echo request")
      let (replyVerdict, replyPort, replyInner) = Self.run(plane, port: 0, reply, now: &now)
      #expect(replyVerdict == .forward)
      #expect(replyPort == 1)
      let answered = try replyInner.withUnsafeBytes { raw throws(WireError) in try PacketParser.parse(raw) }
      #expect(answered.outer.source == .v4(Self.ipB))
      #expect(answered.outer.destination == .v4(Self.ipA))

      let outcome = try guest.waitUntilDone(timeout: 60)
      #expect(outcome.results.contains { $0["step"] == "geneve" && $0["ok"] == "true" })
      #expect(outcome.value(of: "configured") == "yes")
    }

    static func run(_ plane: DataPlane, port: UInt16, _ frame: [UInt8], now: inout UInt64) -> (
      Verdict, UInt16, [UInt8]
    ) {
      let pool = PacketPool(bufferCount: 2)
      var buffer = pool.take()!
      _ = frame.withUnsafeBytes { buffer.load($0, headroom: pool.headroom) }
      buffer.inputPort = port
      var batch = PacketBatch()
      batch.append(buffer)
      plane.process(&batch, now: now)
      now += 1_000_000
      let out = batch[0]
      defer { pool.give(out) }
      return (out.verdict, out.outputPort, out.verdict == .forward ? out.bytes : [])
    }

    /// ICMP echo request (RFC 792) from NIC a to NIC b, to the VPC's
    /// virtual router MAC as a guest sends it.
    static func echoRequest(identifier: UInt16) -> [UInt8] {
      let payload = [UInt8]("bulkhead-geneve!".utf8)
      var frame = [UInt8](repeating: 0, count: 14 + 20 + 8 + payload.count)
      frame.withUnsafeMutableBytes { p in
        EthernetHeader(destination: gatewayMAC, source: macA, etherType: .ipv4).emit(into: p)
        IPv4Header(source: ipA, destination: ipB, protocol: .icmp, payloadLength: 8 + payload.count)
          .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
        let icmp = UnsafeMutableRawBufferPointer(rebasing: p[34...])
        icmp[0] = 8
        icmp[4] = UInt8(identifier >> 8)
        icmp[5] = UInt8(identifier & 0xff)
        icmp[7] = 1
        for (i, x) in payload.enumerated() { icmp[8 + i] = x }
        let checksum = InternetChecksum.checksum(UnsafeRawBufferPointer(icmp))
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xff)
      }
      return frame
    }

    static func isGeneve(_ frame: [UInt8]) -> Bool {
      guard let parsed = try? frame.withUnsafeBytes({ raw throws(WireError) in try PacketParser.parse(raw) })
      else { return false }
      return parsed.tunnel == .geneve
    }

    /// Offset of the inner ICMP header in an IPv4 Geneve frame without
    /// options (14 + 20 + 8 + 8 + 14 + 20), if the inner packet is ICMP.
    static func innerICMP(_ frame: [UInt8]) -> Int? {
      let inner = 14 + 20 + 8 + 8
      guard frame.count >= inner + 14 + 20 + 8, frame[inner + 14 + 9] == 1 else { return nil }
      return inner + 14 + Int(frame[inner + 14] & 0xf) * 4
    }

    static func icmpType(ofInnerOf frame: [UInt8]) -> UInt8? { innerICMP(frame).map { frame[$0] } }

    static func icmpIdentifier(ofInnerOf frame: [UInt8]) -> UInt16? {
      innerICMP(frame).map { UInt16(frame[$0 + 4]) << 8 | UInt16(frame[$0 + 5]) }
    }
  }
}
