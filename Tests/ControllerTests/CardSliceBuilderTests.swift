import Management
import ProviderAPI
import Testing

@testable import Controller

@Test func aCardsSliceHoldsItsNICsGroupsRoutesAndMappingsToOtherCards() async throws {
  let fixture = try Fixture()
  for (id, underlay) in [("c1", "192.0.2.1"), ("c2", "192.0.2.2")] {
    let request = Bulkhead_V1_RegisterCardRequest.with {
      $0.cardID = id
      $0.card.underlayIp = underlay
      $0.requestID = Fixture.key()
    }
    _ = try await fixture.service.create(
      request.card, id: id, parent: "", rules: CardRules(), request: request, requestID: request.requestID,
      principal: .providerAdmin)
  }
  try await fixture.tenant("acme")
  let vpc = try await fixture.vpc("blue")
  let tableRequest = Bulkhead_V1_CreateRouteTableRequest.with {
    $0.parent = "tenants/acme/vpcs/blue"
    $0.routeTable.routes = [
      .with {
        $0.destinationCidr = "0.0.0.0/0"
        $0.drop = true
      }
    ]
    $0.requestID = Fixture.key()
  }
  _ = try await fixture.service.create(
    tableRequest.routeTable, id: "main", parent: tableRequest.parent, rules: RouteTableRules(),
    request: tableRequest,
    requestID: tableRequest.requestID, principal: .providerAdmin)
  let subnetRequest = Bulkhead_V1_CreateSubnetRequest.with {
    $0.parent = "tenants/acme/vpcs/blue"
    $0.subnet.cidrBlock = "10.0.1.0/24"
    $0.subnet.routeTable = "tenants/acme/vpcs/blue/routeTables/main"
    $0.requestID = Fixture.key()
  }
  _ = try await fixture.service.create(
    subnetRequest.subnet, id: "web", parent: subnetRequest.parent, rules: SubnetRules(),
    request: subnetRequest,
    requestID: subnetRequest.requestID, principal: .providerAdmin)
  let groupRequest = Bulkhead_V1_CreateSecurityGroupRequest.with {
    $0.parent = "tenants/acme/vpcs/blue"
    $0.securityGroup.rules = [
      .with {
        $0.direction = .ingress
        $0.protocol = .tcp
        $0.fromPort = 443
        $0.toPort = 443
        $0.cidrBlock = "0.0.0.0/0"
      },
      .with {
        $0.direction = .ingress
        $0.peerSecurityGroup = "tenants/acme/vpcs/blue/securityGroups/web"
      },
    ]
    $0.requestID = Fixture.key()
  }
  // The group names itself as a peer, so it must exist first.
  var bare = groupRequest
  bare.securityGroup.rules = []
  _ = try await fixture.service.create(
    bare.securityGroup, id: "web", parent: bare.parent, rules: SecurityGroupRules(), request: bare,
    requestID: bare.requestID, principal: .providerAdmin)
  let update = Bulkhead_V1_UpdateSecurityGroupRequest.with {
    $0.securityGroup = groupRequest.securityGroup
    $0.securityGroup.name = "tenants/acme/vpcs/blue/securityGroups/web"
    $0.updateMask.paths = ["rules"]
    $0.requestID = Fixture.key()
  }
  _ = try await fixture.service.update(
    update.securityGroup, mask: update.updateMask, rules: SecurityGroupRules(), request: update,
    requestID: update.requestID, principal: .providerAdmin)
  for (id, mac, ip, card) in [
    ("a", "02:00:00:00:00:0a", "10.0.1.10", "cards/c1"), ("b", "02:00:00:00:00:0b", "10.0.1.11", "cards/c1"),
    ("z", "02:00:00:00:00:0f", "10.0.1.20", "cards/c2"),
  ] {
    let request = Bulkhead_V1_CreateNicRequest.with {
      $0.parent = "tenants/acme"
      $0.nic.subnet = "tenants/acme/vpcs/blue/subnets/web"
      $0.nic.macAddress = mac
      $0.nic.ipAddresses = [ip]
      $0.nic.card = card
      $0.nic.securityGroups = ["tenants/acme/vpcs/blue/securityGroups/web"]
      $0.nic.sourceGuard = true
      $0.requestID = Fixture.key()
    }
    _ = try await fixture.service.create(
      request.nic, id: id, parent: request.parent, rules: NicRules(), request: request,
      requestID: request.requestID,
      principal: .providerAdmin)
  }

  let state = try await CardSliceBuilder(store: fixture.store).desiredState(
    forCard: "cards/c1", generation: 7)
  #expect(state.generation == 7)
  #expect(state.nics.map(\.id) == [1, 2])
  #expect(state.nics.map(\.mac) == [[2, 0, 0, 0, 0, 0x0a], [2, 0, 0, 0, 0, 0x0b]])
  #expect(state.nics.allSatisfy { $0.vni == vpc.vni && $0.securityGroups == [1] })
  #expect(state.nics[0].addresses == [.host([10, 0, 1, 10])])
  // 443 from anywhere, plus one rule per member address of the peer group.
  #expect(state.securityGroups.count == 1)
  #expect(state.securityGroups[0].rules.count == 1 + 3)
  #expect(
    state.routes == [
      RouteSlice(vni: vpc.vni, destination: IPPrefix(address: [10, 0, 0, 0], length: 16), target: .local),
      RouteSlice(vni: vpc.vni, destination: IPPrefix(address: [0, 0, 0, 0], length: 0), target: .drop),
    ])
  #expect(
    state.mappings == [
      MappingSlice(
        vni: vpc.vni, overlayAddress: .host([10, 0, 1, 20]), mac: [2, 0, 0, 0, 0, 0x0f],
        underlayAddress: .host([192, 0, 2, 2]))
    ])
  // What the controller builds is what goes on the wire.
  let frame = try ManagementMessage.desiredState(state).encodeFrame()
  #expect(try ManagementMessage.decodeFrame(frame[...]) == .desiredState(state))
}
