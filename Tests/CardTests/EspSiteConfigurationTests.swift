import Card
import DataPlane
import Foundation
import Ipsec
import Testing
import Wire

/// `site` lines: a VPC's IPsec tunnel to an outside gateway, its route, its
/// SAs in tunnel mode, and what the ESP stage runs after a reload.
@Suite struct EspSiteConfigurationTests {
  static let vpc = """
    tenant id=1 name=acme
    vpc id=1 tenant=1 cidr=172.16.0.0/16 vni=1001 encap=geneve
    subnet id=1 vpc=1 cidr=172.16.0.0/16 gateway=172.16.0.1
    """
  static func esp(_ direction: String, spi: Int, peer: String = "10.255.151.2") -> String {
    EspConfigurationTests.esp(direction, spi: spi, peer: peer)
  }
  static let siteLines = [
    vpc, "site vpc=1 gateway=10.255.151.2 remote=192.168.50.0/24", esp("outbound", spi: 5001),
    esp("inbound", spi: 5002),
  ]

  @Test func aSiteRoutesItsPrefixAndItsSAsRunInTunnelMode() throws {
    let c = try EspConfigurationTests.parse(Self.siteLines)
    #expect(
      c.sites == [
        EspSite(
          vpc: 1, gateway: IPv4Address(10, 255, 151, 2), remote: IPv4Prefix("192.168.50.0/24")!,
          local: IPv4Prefix("172.16.0.0/16")!)
      ])
    let route = try #require(c.network.vpcs[0].routeTable.ipv4.first)
    #expect(route.prefix == IPv4Prefix("192.168.50.0/24")!)
    #expect(route.target == .gateway(vtep: IPAddress("10.255.151.2")!))
    for a in c.esp {
      let parameters = a.parameters(uplinkMTU: c.uplinkMTU)
      #expect(parameters.mode == .tunnel(local: IPAddress("10.255.0.1")!, remote: IPAddress("10.255.151.2")!))
      #expect(parameters.innerSelector?.description == "172.16.0.0/16 <-> 192.168.50.0/24")
      #expect(a.label.contains(" site 10.255.151.2"))
    }
    // Peer cards keep transport mode beside a site.
    let both = try EspConfigurationTests.parse(
      Self.siteLines + [
        EspConfigurationTests.esp("outbound", spi: 4097), EspConfigurationTests.esp("inbound", spi: 4098),
      ])
    let card = try #require(both.esp.first { $0.peer == IPAddress("10.255.0.2")! })
    #expect(card.parameters(uplinkMTU: 1500).mode == .transport)
  }

  @Test(arguments: [
    ([vpc, "site vpc=2 gateway=10.255.151.2 remote=192.168.50.0/24"], "vpc", "no VPC 2"),
    ([vpc, "site vpc=1 gateway=fd00::1 remote=192.168.50.0/24"], "gateway", "IPv4"),
    ([vpc, "site vpc=1 gateway=10.255.151.2"], "remote", "missing"),
    ([vpc, "site vpc=1 gateway=10.255.151.2 remote=192.168.50.0/33"], "remote", "not an IPv4 prefix"),
    ([vpc, "site vpc=1 gateway=10.255.151.2 remote=172.16.9.0/24"], "remote", "overlaps"),
    ([vpc, "site vpc=1 gateway=10.255.151.2 remote=192.168.50.0/24"], "site", "no esp lines"),
    (
      siteLines + ["site vpc=1 gateway=10.255.151.2 remote=192.168.60.0/24"], "site", "one site per gateway"
    ),
    (
      siteLines + [
        "security-group id=1",
        "nic id=9 subnet=1 mac=52:54:00:00:00:09 ip=172.16.9.9 card=10.255.151.2",
      ], "site", "is a card"
    ),
  ])
  func badSitesAreRejectedWithTheField(lines: [String], field: String, problem: String) {
    let error = EspConfigurationTests.failure(lines)
    #expect(error?.field == field)
    #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
  }

  /// The ESP stage gets each site with its VPC's VNI and encapsulation and
  /// its gateway's outbound slot, and again after a reload changed them.
  @Test func theStageRunsTheSitesAndFollowsAReload() throws {
    let c = try EspConfigurationTests.parse(Self.siteLines)
    let encryption = try UnderlayEncryption(c.esp, card: IPAddress("10.255.0.1")!, uplinkMTU: c.uplinkMTU)
    encryption.setSites(c.sites, network: c.network)
    let plane = try DataPlane(configuration: c.network, portCount: 2)
    let stage = encryption.protecting(plane)
    let site = try #require(stage.sites.first)
    #expect(site.vni == 1001 && site.encapsulation == .geneve && site.gateway == IPv4Address(10, 255, 151, 2))
    #expect(encryption.database.outboundSA(slot: site.outboundSlot)?.spi == 5001)
    #expect(encryption.path.policies.count == 1)

    var lines = Self.siteLines
    lines[0] = lines[0].replacingOccurrences(of: "vni=1001 encap=geneve", with: "vni=1003 encap=vxlan")
    let fresh = try EspConfigurationTests.parse(lines)
    try encryption.apply(fresh.esp, now: 10)
    encryption.setSites(fresh.sites, network: fresh.network)
    #expect(stage.sites.first?.vni == 1003 && stage.sites.first?.encapsulation == .vxlan)
    #expect(encryption.reportLines().contains { $0.hasPrefix("esp sites 1:") })

    try encryption.apply([], now: 11)
    encryption.setSites([], network: fresh.network)
    #expect(stage.sites.isEmpty)
  }
}
