import ProviderAPI
import Testing

@testable import Controller

@Test func overlappingCIDRsWithinAVPCAreRejected() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let error = await apiError { try await fixture.vpc("blue", cidrs: ["10.0.0.0/16", "10.0.128.0/17"]) }
  #expect(error?.code == .invalidArgument)
  #expect(error?.message.contains("vpc.cidr_blocks[1] '10.0.128.0/17' overlaps 10.0.0.0/16") == true)
}

@Test func hostBitsInABlockAreRejectedWithTheCanonicalForm() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let error = await apiError { try await fixture.vpc("blue", cidrs: ["10.0.0.1/16"]) }
  #expect(error?.message.contains("use the network address, 10.0.0.0/16") == true)
}

@Test func subnetOutsideTheVPCAndOverlappingSubnetsAreRejected() async throws {
  let fixture = try Fixture()
  try await fixture.standardTenant()
  let outside = await apiError { try await fixture.subnet("x", cidr: "10.1.0.0/24") }
  #expect(outside?.code == .invalidArgument)
  #expect(outside?.message.contains("subnet.cidr_block '10.1.0.0/24' is outside the VPC's blocks") == true)
  let overlapping = await apiError { try await fixture.subnet("y", cidr: "10.0.1.128/25") }
  #expect(overlapping?.message.contains("overlaps subnet 'tenants/acme/vpcs/blue/subnets/web'") == true)
  // IPv6 blocks are checked the same way.
  try await fixture.vpc("six", cidrs: ["fd00:1::/48"])
  try await fixture.subnet("a", vpc: "six", cidr: "fd00:1:0:1::/64")
  let v6 = await apiError { try await fixture.subnet("b", vpc: "six", cidr: "fd00:2::/64") }
  #expect(v6?.code == .invalidArgument)
}

@Test func nicAddressesMustLieInTheSubnetAndBeFree() async throws {
  let fixture = try Fixture()
  try await fixture.standardTenant()
  let outside = await apiError { try await fixture.nic("n1", mac: "02:00:00:00:00:01", ips: ["10.0.2.5"]) }
  #expect(
    outside?.message
      == "nic.ip_addresses[0] '10.0.2.5' is outside subnet 10.0.1.0/24; use an address inside it")
  try await fixture.nic("n1", mac: "02:00:00:00:00:01", ips: ["10.0.1.5"])
  let taken = await apiError { try await fixture.nic("n2", mac: "02:00:00:00:00:02", ips: ["10.0.1.5"]) }
  #expect(taken?.message.contains("is already used by 'tenants/acme/nics/n1'") == true)
}

@Test func duplicateMACIsRejectedAndFreedOnDelete() async throws {
  let fixture = try Fixture()
  try await fixture.standardTenant()
  try await fixture.nic("n1", mac: "02:00:00:00:00:01", ips: ["10.0.1.5"])
  let duplicate = await apiError { try await fixture.nic("n2", mac: "02:00:00:00:00:01", ips: ["10.0.1.6"]) }
  #expect(
    duplicate?.message
      == "nic.mac_address '02:00:00:00:00:01' is already used by 'tenants/acme/nics/n1'; give each NIC its own MAC"
  )
  let multicast = await apiError { try await fixture.nic("n3", mac: "01:00:5e:00:00:01", ips: []) }
  #expect(multicast?.message.contains("multicast") == true)
  let delete = Bulkhead_V1_DeleteNicRequest.with {
    $0.name = "tenants/acme/nics/n1"
    $0.requestID = Fixture.key()
  }
  _ = try await fixture.service.delete(
    Bulkhead_V1_Nic.self, name: delete.name, rules: NicRules(), request: delete, requestID: delete.requestID,
    principal: .providerAdmin)
  try await fixture.nic("n2", mac: "02:00:00:00:00:01", ips: ["10.0.1.5"])
}

@Test func nicOnACardThatDoesNotExistIsRejected() async throws {
  let fixture = try Fixture()
  try await fixture.standardTenant()
  let error = await apiError {
    try await fixture.nic("n1", mac: "02:00:00:00:00:01", ips: ["10.0.1.5"], card: "cards/nope")
  }
  #expect(error?.code == .invalidArgument)
  #expect(
    error?.message.contains("nic.card 'cards/nope' is not a registered card; register it first") == true)
}

@Test func vniExhaustionIsReportedAndDeleteReturnsTheVNI() async throws {
  let fixture = try Fixture(vniRange: 10...11)
  try await fixture.tenant("acme")
  let first = try await fixture.vpc("a")
  let second = try await fixture.vpc("b", cidrs: ["10.1.0.0/16"])
  #expect([first.vni, second.vni] == [10, 11])
  let error = await apiError { try await fixture.vpc("c", cidrs: ["10.2.0.0/16"]) }
  #expect(error?.code == .resourceExhausted)
  #expect(error?.message.contains("all 2 VNIs (10...11) are allocated") == true)
  let delete = Bulkhead_V1_DeleteVpcRequest.with {
    $0.name = first.name
    $0.requestID = Fixture.key()
  }
  _ = try await fixture.service.delete(
    Bulkhead_V1_Vpc.self, name: first.name, rules: VpcRules(vniRange: 10...11), request: delete,
    requestID: delete.requestID, principal: .providerAdmin)
  #expect(try await fixture.vpc("c", cidrs: ["10.2.0.0/16"]).vni == 10)
}

@Test func deletingAVPCWithSubnetsIsRefusedWithTheReason() async throws {
  let fixture = try Fixture()
  try await fixture.standardTenant()
  let delete = Bulkhead_V1_DeleteVpcRequest.with {
    $0.name = "tenants/acme/vpcs/blue"
    $0.requestID = Fixture.key()
  }
  let error = await apiError {
    try await fixture.service.delete(
      Bulkhead_V1_Vpc.self, name: delete.name, rules: VpcRules(vniRange: 4096...5000), request: delete,
      requestID: delete.requestID, principal: .providerAdmin)
  }
  #expect(error?.code == .failedPrecondition)
  #expect(
    error?.message.contains("still used by 1 Subnet(s), e.g. 'tenants/acme/vpcs/blue/subnets/web'") == true)
}

@Test func updateMaskRejectsOutputOnlyFieldsAndReplacesRepeatedFields() async throws {
  let fixture = try Fixture()
  try await fixture.tenant("acme")
  let vpc = try await fixture.vpc("blue")
  var change = vpc
  change.vni = 99
  change.cidrBlocks = ["10.0.0.0/16", "10.9.0.0/16"]
  let outputOnly = Bulkhead_V1_UpdateVpcRequest.with {
    $0.vpc = change
    $0.updateMask.paths = ["vni"]
    $0.requestID = Fixture.key()
  }
  let error = await apiError {
    try await fixture.service.update(
      change, mask: outputOnly.updateMask, rules: VpcRules(vniRange: 4096...5000), request: outputOnly,
      requestID: outputOnly.requestID, principal: .providerAdmin)
  }
  #expect(error?.message == "update_mask 'vni' cannot be changed; name only these fields: cidr_blocks")
  let update = Bulkhead_V1_UpdateVpcRequest.with {
    $0.vpc = change
    $0.updateMask.paths = ["cidr_blocks"]
    $0.requestID = Fixture.key()
  }
  let updated = try await fixture.service.update(
    change, mask: update.updateMask, rules: VpcRules(vniRange: 4096...5000), request: update,
    requestID: update.requestID, principal: .providerAdmin)
  #expect(updated.cidrBlocks == ["10.0.0.0/16", "10.9.0.0/16"])
  #expect(updated.vni == vpc.vni)
  #expect(updated.meta.updateRevision > vpc.meta.updateRevision)
  #expect(updated.meta.createRevision == vpc.meta.createRevision)
}

@Test func badNamesAndIDsExplainTheExpectedForm() async throws {
  let fixture = try Fixture()
  let error = await apiError {
    try await fixture.service.get(
      Bulkhead_V1_Subnet.self, name: "tenants/acme/subnets/x", principal: .providerAdmin)
  }
  #expect(
    error?.message
      == "name 'tenants/acme/subnets/x' is not a Subnet name; use the form tenants/{tenant}/vpcs/{vpc}/subnets/{subnet}"
  )
  let badID = await apiError { try await fixture.tenant("Bad_Id") }
  #expect(badID?.message.contains("tenant_id 'Bad_Id' is not a valid id") == true)
}

@Test func cidrAndAddressParsing() throws {
  #expect(try CIDRBlock.parse("10.0.0.0/8").get().contains(IPAddressValue("10.255.0.1")!))
  #expect((try? CIDRBlock.parse("10.0.0.0/33").get()) == nil)
  #expect((try? CIDRBlock.parse("010.0.0.0/8").get()) == nil)
  #expect(try CIDRBlock.parse("fd00::/8").get().contains(IPAddressValue("fdff::1")!))
  #expect(IPAddressValue("fd00::1:2")?.description == "fd00:0:0:0:0:0:1:2")
  #expect(IPAddressValue("1:2:3:4:5:6:7:8:9") == nil)
  #expect(try CIDRBlock.parse("0.0.0.0/0").get().overlaps(try CIDRBlock.parse("192.0.2.0/24").get()))
}

@Test func sha256MatchesFIPS180Vectors() {
  func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
  #expect(
    hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  #expect(
    hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
      == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}
