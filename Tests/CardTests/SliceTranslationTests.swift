import Card
import DataPlane
import Management
import Testing
import Wire

/// The controller's slice becomes the pipeline's configuration: VNIs to
/// VPCs, subnets and gateways, NIC ports, security groups, mappings; a
/// slice the card cannot use is refused with the field named.
struct SliceTranslationTests {
  let base = CardConfiguration(
    network: NetworkConfiguration(
      card: CardSettings(
        underlayAddress: .v4(IPv4Address(192, 0, 2, 1)), underlayMAC: MACAddress(2, 0xca, 0, 0, 0, 1),
        underlayRouterMAC: MACAddress(2, 0xee, 0, 0, 0, 1), gatewayMAC: MACAddress(2, 0, 0x5e, 0, 0, 1))),
    uplink: .ring, hostFunctions: [HostFunction(nic: 2, port: 7, binding: .ring)])

  func slice() -> DesiredState {
    DesiredState(
      generation: 9,
      nics: [
        NicSlice(
          id: 1, vni: 100, mac: [2, 0, 0, 0, 1, 5], addresses: [.host([10, 0, 1, 5])], securityGroups: [1],
          maxBandwidthMbps: 10, maxPacketsPerSecond: 1000,
          subnet: IPPrefix(address: [10, 0, 1, 0], length: 24)),
        NicSlice(id: 2, vni: 100, mac: [2, 0, 0, 0, 2, 5], addresses: [.host([10, 0, 2, 5])]),
      ],
      routes: [
        RouteSlice(vni: 100, destination: IPPrefix(address: [10, 0, 0, 0], length: 16), target: .local),
        RouteSlice(vni: 100, destination: IPPrefix(address: [0, 0, 0, 0], length: 0), target: .nic(2)),
      ],
      mappings: [
        MappingSlice(
          vni: 100, overlayAddress: .host([10, 0, 3, 9]), mac: [2, 0, 0, 0, 3, 9],
          underlayAddress: .host([192, 0, 2, 2]))
      ],
      securityGroups: [
        SecurityGroupSlice(
          id: 1,
          rules: [
            .init(
              direction: .ingress, protocolNumber: 6, fromPort: 443, toPort: 443,
              peer: IPPrefix(address: [0, 0, 0, 0], length: 0)),
            .init(
              direction: .ingress, protocolNumber: 1, fromPort: 0, toPort: 0,
              peer: IPPrefix(address: [10, 0, 0, 0], length: 16)),
          ])
      ])
  }

  @Test func aSliceBecomesVPCSubnetsNICsGroupsAndMappings() throws {
    let network = try SliceTranslation.configuration(from: slice(), base: base)
    #expect(network.card == base.network.card)
    #expect(network.vpcs.count == 1)
    #expect(network.vpcs[0].vni == 100)
    #expect(network.vpcs[0].ipv4CIDRs == [IPv4Prefix("10.0.0.0/16")!])
    #expect(network.vpcs[0].routeTable.ipv4 == [IPv4Route(IPv4Prefix("0.0.0.0/0")!, .nic(id: 2))])
    // One subnet named by the slice, one found from the VPC block.
    #expect(network.subnets.map(\.ipv4) == [IPv4Prefix("10.0.1.0/24")!, IPv4Prefix("10.0.0.0/16")!])
    #expect(network.subnets[0].gatewayIPv4 == IPv4Address(10, 0, 1, 1))
    // NIC 1 on port 1 by convention, NIC 2 where the file binds it.
    #expect(network.nics.map(\.port) == [1, 7])
    #expect(network.nics[0].rateLimit == RateLimit(packetsPerSecond: 1000, bitsPerSecond: 10_000_000))
    #expect(network.nics[0].securityGroups == [1])
    #expect(
      network.securityGroups[0].inbound == [
        SecurityRule(.tcp(443...443), .ipv4(IPv4Prefix("0.0.0.0/0")!)),
        SecurityRule(.icmp, .ipv4(IPv4Prefix("10.0.0.0/16")!)),
      ])
    #expect(network.securityGroups[0].outbound == nil)
    #expect(
      network.mappings == [
        Mapping(
          vni: 100, overlayAddress: .v4(IPv4Address(10, 0, 3, 9)), vtep: .v4(IPv4Address(192, 0, 2, 2)),
          mac: MACAddress(2, 0, 0, 0, 3, 9))
      ])
    // And the data plane accepts it.
    _ = try DataPlane(configuration: network, flowCapacity: 16, connectionCapacity: 16)
  }

  @Test func unusableSlicesAreRefusedWithTheFieldNamed() {
    var noBlock = slice()
    noBlock.routes = []
    noBlock.nics[0].subnet = nil
    #expect(throws: SliceTranslationError.badNIC(handle: 1, field: "subnet (no VPC block holds 10.0.1.5)")) {
      try SliceTranslation.configuration(from: noBlock, base: base)
    }
    var noIPv4 = slice()
    noIPv4.nics[1].addresses = []
    #expect(throws: SliceTranslationError.badNIC(handle: 2, field: "address (no IPv4)")) {
      try SliceTranslation.configuration(from: noIPv4, base: base)
    }
    var tunnel = slice()
    tunnel.routes.append(RouteSlice(vni: 100, destination: .host([10, 9, 9, 9]), target: .tunnel(1)))
    #expect(throws: SliceTranslationError.unsupportedRoute(vni: 100)) {
      try SliceTranslation.configuration(from: tunnel, base: base)
    }
    var badProtocol = slice()
    badProtocol.securityGroups[0].rules[0].protocolNumber = 47
    #expect(throws: SliceTranslationError.badSecurityGroup(handle: 1)) {
      try SliceTranslation.configuration(from: badProtocol, base: base)
    }
  }
}

/// The firmware's command line.
struct CardOptionsTests {
  @Test func controllerOptionsAndDefaults() throws {
    let options = try CardOptions.parse(
      ["card.conf", "--controller", "127.0.0.1:7443", "--pki-dir", "pki", "--card-name", "c1"],
      environment: { $0 == "BULKHEAD_FIRMWARE_VERSION" ? "1.2.3" : nil })
    #expect(options.stateFilePath == "card.conf.state")
    #expect(options.firmwareVersion == "1.2.3")
    let settings = try #require(options.linkSettings)
    #expect(settings.agent.controllerPort == 7443)
    #expect(settings.agent.cardName == "c1")
    #expect(settings.pkiDirectory == "pki")
    let alone = try CardOptions.parse(["card.conf"], environment: { _ in nil })
    #expect(alone.linkSettings == nil)
    #expect(alone.firmwareVersion == CardOptions.builtInVersion)
  }

  @Test func mistakesNameTheOption() {
    #expect(throws: CardOptionsError("--pki-dir", "needed with --controller")) {
      try CardOptions.parse(
        ["c", "--controller", "127.0.0.1:1", "--card-name", "x"], environment: { _ in nil })
    }
    #expect(throws: CardOptionsError("--controller", "'nowhere' is not IP:PORT")) {
      try CardOptions.parse(["c", "--controller", "nowhere"], environment: { _ in nil })
    }
    #expect(throws: CardOptionsError("--bogus", "unknown option")) {
      try CardOptions.parse(["c", "--bogus", "1"], environment: { _ in nil })
    }
    #expect(throws: CardOptionsError("--host-function-dir", "needs a directory")) {
      try CardOptions.parse(["c", "--host-function-dir", ""], environment: { _ in nil })
    }
  }

  @Test func sliceVolumeSocketsGoBesideTheStateFileUnlessTold() throws {
    func directory(_ arguments: [String]) throws -> String {
      try CardOptions.parse(arguments, environment: { _ in nil }).hostFunctionDirectory
    }
    #expect(try directory(["card.conf"]) == ".")
    #expect(try directory(["/etc/bulkhead/card.conf"]) == "/etc/bulkhead")
    #expect(try directory(["c", "--state-file", "/var/lib/bh/state"]) == "/var/lib/bh")
    #expect(try directory(["c", "--state-file", "/state"]) == "/")
    #expect(try directory(["c", "--host-function-dir", "/run/bulkhead/"]) == "/run/bulkhead")
    let linked = try CardOptions.parse(
      [
        "c", "--controller", "127.0.0.1:1", "--pki-dir", "p", "--card-name", "n", "--host-function-dir",
        "/run/hf",
      ],
      environment: { _ in nil })
    #expect(linked.linkSettings?.hostFunctionDirectory == "/run/hf")
    #expect(CardOptions.usage.contains("--host-function-dir DIR"))
  }

  @Test func sliceVolumeFilesStayBesideTheStateFileUnlessTold() throws {
    func directory(_ arguments: [String]) throws -> String {
      try CardOptions.parse(arguments, environment: { _ in nil }).volumeDirectory
    }
    #expect(try directory(["/etc/bulkhead/card.conf"]) == "/etc/bulkhead")
    #expect(try directory(["c", "--volume-dir", "/srv/volumes/"]) == "/srv/volumes")
    #expect(throws: CardOptionsError("--volume-dir", "needs an absolute directory")) {
      try CardOptions.parse(["c", "--volume-dir", "volumes"], environment: { _ in nil })
    }
    let linked = try CardOptions.parse(
      ["c", "--controller", "127.0.0.1:1", "--pki-dir", "p", "--card-name", "n", "--volume-dir", "/srv/v"],
      environment: { _ in nil })
    #expect(linked.linkSettings?.volumeDirectory == "/srv/v")
    #expect(CardOptions.usage.contains("--volume-dir DIR"))
  }
}
