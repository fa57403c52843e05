import Card
import DataPlane
import Foundation
import Ports
import Testing
import Wire

@Suite struct ConfigurationFileParserTests {
  /// The card of the run-loop tests: VPC 2 (VXLAN, VNI 2002) with NIC 3
  /// here on port 2 and NIC 4 on the peer card 10.255.0.2.
  static let example = """
    # card 10.255.0.1 and its peer 10.255.0.2
    card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01 buffers=1024
    uplink ring
    tenant id=2 name=blue
    vpc id=2 tenant=2 cidr=172.16.0.0/16 vni=2002 encap=vxlan
    subnet id=2 vpc=2 cidr=172.16.0.0/16 gateway=172.16.0.1
    route vpc=2 prefix=0.0.0.0/0 target=gateway:10.255.0.9
    route vpc=2 prefix=172.16.99.0/24 target=blackhole
    security-group id=2
    rule group=2 direction=inbound protocol=any peer=group:2
    rule group=2 direction=inbound protocol=tcp ports=22 peer=10.0.0.0/8
    nic id=3 subnet=2 mac=02:00:00:00:0c:01 ip=172.16.1.10 groups=2 port=2 ring
    nic id=4 subnet=2 mac=02:00:00:00:0d:01 ip=172.16.2.20 groups=2 card=10.255.0.2
    nic id=5 subnet=2 mac=02:00:00:00:0e:01 ip=172.16.1.11 groups=2 port=3 vhost-user=nic5.sock  # a guest
    mapping vni=2002 ip=172.16.3.3 vtep=10.255.0.3 mac=02:00:00:00:03:03
    """

  @Test func theExampleBuildsTheNetworkConfiguration() throws {
    let c = try ConfigurationFileParser.parse(Self.example)
    #expect(c.uplink == .ring)
    #expect(c.bufferCount == 1024)
    #expect(c.network.card.underlayAddress == IPAddress("10.255.0.1")!)
    #expect(c.network.card.underlayRouterMAC == MACAddress("02:ee:00:00:00:01")!)
    #expect(c.network.vpcs.count == 1)
    #expect(c.network.vpcs[0].encapsulation == .vxlan)
    #expect(c.network.vpcs[0].vni == 2002)
    #expect(
      c.network.vpcs[0].routeTable.ipv4 == [
        IPv4Route(IPv4Prefix("0.0.0.0/0")!, .gateway(vtep: IPAddress("10.255.0.9")!)),
        IPv4Route(IPv4Prefix("172.16.99.0/24")!, .blackhole),
      ])
    #expect(c.network.securityGroups[0].inbound.count == 2)
    #expect(
      c.network.securityGroups[0].inbound[1] == SecurityRule(.tcp(22...22), .ipv4(IPv4Prefix("10.0.0.0/8")!)))
    #expect(c.network.nics.count == 3)
    #expect(c.network.nics[0].port == 2)
    #expect(c.network.nics[1].card == IPAddress("10.255.0.2")!)
    #expect(c.network.nics[1].port == 0)
    #expect(
      c.hostFunctions == [
        HostFunction(nic: 3, port: 2, binding: .ring),
        HostFunction(nic: 5, port: 3, binding: .vhostUser(socketPath: "nic5.sock")),
      ])
    #expect(c.network.mappings.count == 1)
    // The data plane accepts what the file describes.
    _ = try DataPlane(configuration: c.network)
  }

  static func error(in text: String) -> ConfigurationFileError? {
    do {
      _ = try ConfigurationFileParser.parse(text)
      return nil
    } catch {
      return error
    }
  }

  static let head = """
    card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01
    uplink interface=eth0
    """

  @Test(arguments: [
    ("vpc id=1 tenant=1 cidr=10.0.0.0/8 vni=16777216", 3, "vni"),
    ("vpc id=1 tenant=1 cidr=10.0.0.0/33 vni=5", 3, "cidr"),
    ("vpc id=1 tenant=1 vni=5", 3, "cidr"),
    ("vpc id=1 tenant=1 cidr=10.0.0.0/8 vni=5 encap=gre", 3, "encap"),
    ("vpc id=1 tenant=1 cidr=10.0.0.0/8 vni=5 colour=red", 3, "colour"),
    ("vpc id=x tenant=1 cidr=10.0.0.0/8 vni=5", 3, "id"),
    ("subnet id=1 vpc=7 cidr=10.0.0.0/24 gateway=10.0.0.1", 3, "vpc"),
    ("route vpc=1 prefix=0.0.0.0/0 target=local", 3, "vpc"),
    ("rule group=1 direction=inbound protocol=any peer=group:1", 3, "group"),
    ("nic id=1 subnet=1 mac=zz ip=10.0.0.5 port=1 ring", 3, "subnet"),
    ("frobnicate now", 3, "frobnicate"),
    (
      "card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01",
      3, "card"
    ),
    ("mapping vni=1 ip=10.0.0.1 vtep=10.1.1.1 mac=02:00:00:00:00:01 vni=2", 3, "vni"),
  ])
  func badLinesNameLineAndField(line: String, number: Int, field: String) {
    let e = Self.error(in: Self.head + "\n" + line)
    #expect(e?.line == number)
    #expect(e?.field == field)
  }

  @Test func badValuesInsideAKnownContextNameTheirField() {
    let vpc =
      "\nvpc id=1 tenant=1 cidr=10.0.0.0/8 vni=5\nsubnet id=1 vpc=1 cidr=10.0.0.0/24 gateway=10.0.0.1\n"
    let cases: [(String, String)] = [
      ("nic id=1 subnet=1 mac=zz ip=10.0.0.5 port=1 ring", "mac"),
      ("nic id=1 subnet=1 mac=02:00:00:00:00:05 ip=10.0.0.500 port=1 ring", "ip"),
      ("nic id=1 subnet=1 mac=02:00:00:00:00:05 ip=10.0.0.5 port=0 ring", "port"),
      ("nic id=1 subnet=1 mac=02:00:00:00:00:05 ip=10.0.0.5 port=1", "interface"),
      (
        "nic id=1 subnet=1 mac=02:00:00:00:00:05 ip=10.0.0.5 port=1 interface=a-name-far-too-long",
        "interface"
      ),
      ("route vpc=1 prefix=0.0.0.0/0 target=elsewhere", "target"),
      ("route vpc=1 prefix=nowhere target=local", "prefix"),
      ("security-group id=1\nrule group=1 direction=sideways protocol=any peer=group:1", "direction"),
      ("security-group id=1\nrule group=1 direction=inbound protocol=tcp ports=90-80 peer=group:1", "ports"),
      ("security-group id=1\nrule group=1 direction=inbound protocol=any peer=somewhere", "peer"),
    ]
    for (line, field) in cases {
      let e = Self.error(in: Self.head + vpc + line)
      #expect(e?.field == field, "\(line)")
      #expect((e?.line ?? 0) >= 5, "\(line)")
      #expect(e?.description.contains("field '" + field + "'") == true)
    }
  }

  @Test func aFileWithoutCardOrUplinkSaysWhichIsMissing() {
    #expect(Self.error(in: "uplink ring")?.field == "card")
    #expect(Self.error(in: "# nothing\n\n")?.field == "card")
    let noUplink = Self.error(
      in:
        "card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01"
    )
    #expect(noUplink?.field == "uplink")
    #expect(noUplink?.line == 0)
  }

  @Test func anInterfaceCanNameItsAFPacketMode() throws {
    let card =
      "card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01\n"
    #expect(
      try ConfigurationFileParser.parse(card + "uplink interface=up0 mode=copy").uplink
        == .interface("up0", mode: .copy))
    #expect(
      try ConfigurationFileParser.parse(card + "uplink interface=up0 mode=ring").uplink
        == .interface("up0", mode: .ring))
    #expect(
      try ConfigurationFileParser.parse(card + "uplink interface=up0").uplink
        == .interface("up0", mode: .automatic))
    for (line, field) in [("uplink interface=up0 mode=fast", "mode"), ("uplink ring mode=copy", "mode")] {
      let e = Self.error(in: card + line)
      #expect(e?.line == 2, "\(line)")
      #expect(e?.field == field, "\(line)")
    }
  }

  /// The host build's DPDK uplink: the ethdev's name and the EAL's
  /// arguments, quoted as one field.
  @Test func aDpdkUplinkNamesItsDeviceAndTheEALsArguments() throws {
    let card =
      "card underlay=10.255.0.1 mac=02:ca:00:00:00:01 router-mac=02:ee:00:00:00:01 gateway-mac=02:00:5e:00:00:01\n"
    #expect(ConfigurationFileParser.hasDpdk)
    let c = try ConfigurationFileParser.parse(
      card + "uplink dpdk=net_tap0 eal=\"--no-huge  -m 128\t--vdev net_tap0,iface=bhd0\"  # the tap\n")
    #expect(
      c.uplink == .dpdk(device: "net_tap0", eal: ["--no-huge", "-m", "128", "--vdev", "net_tap0,iface=bhd0"]))
    #expect(
      try ConfigurationFileParser.parse(card + "uplink dpdk=0000:03:00.0").uplink
        == .dpdk(device: "0000:03:00.0", eal: []))
    for (line, field) in [
      ("uplink dpdk= eal=\"-m 128\"", "dpdk"),
      ("uplink dpdk=net_tap0 eal=\"-m 128", "eal"),
      ("uplink interface=up0 eal=\"-m 128\"", "eal"),
      ("uplink dpdk=net_tap0 mode=copy", "mode"),
    ] {
      let e = Self.error(in: card + line)
      #expect(e?.line == 2, "\(line)")
      #expect(e?.field == field, "\(line)")
    }
  }

  @Test func commentsBlankLinesAndTabsAreIgnored() throws {
    let c = try ConfigurationFileParser.parse(
      "\n# hello\n" + Self.head.replacingOccurrences(of: " ", with: "\t") + "\n\n")
    #expect(c.uplink == .interface("eth0"))
  }
}
