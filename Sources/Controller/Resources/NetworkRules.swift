import Foundation
import ProviderAPI

struct VpcRules: ResourceRules {
  let vniRange: ClosedRange<UInt32>

  func admit(_ vpc: inout Bulkhead_V1_Vpc, previous: Bulkhead_V1_Vpc?, in transaction: StoreTransaction)
    async throws
  {
    if vpc.cidrBlocks.isEmpty {
      throw APIError.invalid(
        "vpc.cidr_blocks", "", "is empty", fix: "give at least one block, e.g. 10.0.0.0/16")
    }
    var blocks: [CIDRBlock] = []
    for (index, text) in vpc.cidrBlocks.enumerated() {
      let block = try FieldChecks.cidr(text, field: "vpc.cidr_blocks[\(index)]")
      if let clash = blocks.first(where: { $0.overlaps(block) }) {
        throw APIError.invalid(
          "vpc.cidr_blocks[\(index)]", text, "overlaps \(clash)", fix: "use blocks that do not overlap")
      }
      blocks.append(block)
    }
    if vpc.encapsulation == .unspecified { vpc.encapsulation = .geneve }
    if let previous {
      vpc.vni = previous.vni
      vpc.virtualRouterMac = previous.virtualRouterMac
      // A block may go only if no subnet still lies in it.
      for subnet in try await transaction.resources(under: vpc.name, as: Bulkhead_V1_Subnet.self) {
        let subnetBlock = try FieldChecks.cidr(subnet.cidrBlock, field: "subnet.cidr_block")
        if !blocks.contains(where: { $0.contains(subnetBlock) }) {
          throw APIError(
            .failedPrecondition,
            "subnet '\(subnet.name)' (\(subnet.cidrBlock)) would lie outside vpc.cidr_blocks; delete it first or keep its block"
          )
        }
      }
      return
    }
    vpc.vni = try await allocateVNI(for: vpc.name, in: transaction)
    // Locally administered unicast (IEEE 802 §8.2), derived from the VNI.
    vpc.virtualRouterMac =
      MACAddress(bytes: [
        0x02, 0x42, 0x48, UInt8(truncatingIfNeeded: vpc.vni >> 16), UInt8(truncatingIfNeeded: vpc.vni >> 8),
        UInt8(truncatingIfNeeded: vpc.vni),
      ]).description
  }

  func release(_ vpc: Bulkhead_V1_Vpc, in transaction: StoreTransaction) async throws {
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Subnet.self, under: vpc.name, "vpc '\(vpc.name)'")
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_SecurityGroup.self, under: vpc.name, "vpc '\(vpc.name)'")
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_RouteTable.self, under: vpc.name, "vpc '\(vpc.name)'")
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_IpsecTunnel.self, under: vpc.name, "vpc '\(vpc.name)'")
    transaction.deleteIndex(Self.vniKey(vpc.vni))
  }

  static func vniKey(_ vni: UInt32) -> String { "index/vni/" + String(format: "%08u", vni) }

  /// The lowest free VNI of the range. Listing the index makes two
  /// concurrent VPC creations conflict, so they never share a VNI.
  private func allocateVNI(for name: String, in transaction: StoreTransaction) async throws -> UInt32 {
    let used = Set(try await transaction.list("index/vni/").compactMap { UInt32($0.key.dropFirst(10)) })
    guard let free = vniRange.first(where: { !used.contains($0) }) else {
      throw APIError(
        .resourceExhausted,
        "all \(vniRange.count) VNIs (\(vniRange.lowerBound)...\(vniRange.upperBound)) are allocated; delete unused VPCs or widen the controller's --vni-range"
      )
    }
    transaction.putIndex(Self.vniKey(free), owner: name)
    return free
  }
}

struct SubnetRules: ResourceRules {
  func admit(
    _ subnet: inout Bulkhead_V1_Subnet, previous: Bulkhead_V1_Subnet?, in transaction: StoreTransaction
  ) async throws {
    let name = try ResourceName.parse(subnet.name, as: Bulkhead_V1_Subnet.self)
    let vpcName = name.ancestor(levels: 1)
    let block = try FieldChecks.cidr(subnet.cidrBlock, field: "subnet.cidr_block")
    guard let vpc = try await transaction.resource(vpcName, as: Bulkhead_V1_Vpc.self) else {
      throw APIError.notFound(vpcName, referencedBy: "parent")
    }
    let vpcBlocks = try vpc.cidrBlocks.map { try FieldChecks.cidr($0, field: "vpc.cidr_blocks") }
    guard vpcBlocks.contains(where: { $0.contains(block) }) else {
      throw APIError.invalid(
        "subnet.cidr_block", subnet.cidrBlock,
        "is outside the VPC's blocks (\(vpc.cidrBlocks.joined(separator: ", ")))",
        fix: "choose a block inside one of them or add a block to the VPC")
    }
    for other in try await transaction.resources(under: vpcName, as: Bulkhead_V1_Subnet.self)
    where other.name != subnet.name {
      if try FieldChecks.cidr(other.cidrBlock, field: "subnet.cidr_block").overlaps(block) {
        throw APIError.invalid(
          "subnet.cidr_block", subnet.cidrBlock, "overlaps subnet '\(other.name)' (\(other.cidrBlock))",
          fix: "choose a block that no other subnet of the VPC uses")
      }
    }
    if !subnet.routeTable.isEmpty {
      _ = try await FieldChecks.reference(
        subnet.routeTable, Bulkhead_V1_RouteTable.self, field: "subnet.route_table", tenant: name.tenant,
        vpc: vpcName, in: transaction)
    }
  }

  func release(_ subnet: Bulkhead_V1_Subnet, in transaction: StoreTransaction) async throws {
    let tenant = ResourceName(segments: subnet.name.split(separator: "/")).ancestor(levels: 2)
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Nic.self, under: tenant, "subnet '\(subnet.name)'", where: { $0.subnet == subnet.name })
  }
}

struct NicRules: ResourceRules {
  func admit(_ nic: inout Bulkhead_V1_Nic, previous: Bulkhead_V1_Nic?, in transaction: StoreTransaction)
    async throws
  {
    let tenant = try ResourceName.parse(nic.name, as: Bulkhead_V1_Nic.self).tenant
    try FieldChecks.required(nic.subnet, field: "nic.subnet", example: "tenants/acme/vpcs/blue/subnets/web")
    let subnet = try await FieldChecks.reference(
      nic.subnet, Bulkhead_V1_Subnet.self, field: "nic.subnet", tenant: tenant, in: transaction)
    let vpcName = ResourceName(segments: subnet.name.split(separator: "/")).ancestor(levels: 1)
    let subnetBlock = try FieldChecks.cidr(subnet.cidrBlock, field: "subnet.cidr_block")

    let mac = try FieldChecks.mac(nic.macAddress, field: "nic.mac_address")
    nic.macAddress = mac.description
    if let owner = try await transaction.indexOwner(Self.macKey(mac)), owner != nic.name {
      throw APIError.invalid(
        "nic.mac_address", nic.macAddress, "is already used by '\(owner)'", fix: "give each NIC its own MAC")
    }
    transaction.putIndex(Self.macKey(mac), owner: nic.name)

    var addresses: [IPAddressValue] = []
    for (index, text) in nic.ipAddresses.enumerated() {
      let field = "nic.ip_addresses[\(index)]"
      let address = try FieldChecks.address(text, field: field)
      guard subnetBlock.contains(address) else {
        throw APIError.invalid(
          field, text, "is outside subnet \(subnet.cidrBlock)", fix: "use an address inside it")
      }
      guard address != subnetBlock.network else {
        throw APIError.invalid(field, text, "is the subnet's network address", fix: "use a host address")
      }
      if let owner = try await transaction.indexOwner(Self.ipKey(subnet.name, address)), owner != nic.name {
        throw APIError.invalid(
          field, text, "is already used by '\(owner)'", fix: "pick a free address of the subnet")
      }
      transaction.putIndex(Self.ipKey(subnet.name, address), owner: nic.name)
      addresses.append(address)
    }
    nic.ipAddresses = addresses.map(\.description)

    for (index, group) in nic.securityGroups.enumerated() {
      _ = try await FieldChecks.reference(
        group, Bulkhead_V1_SecurityGroup.self, field: "nic.security_groups[\(index)]", tenant: tenant,
        vpc: vpcName,
        in: transaction)
    }
    try FieldChecks.required(nic.card, field: "nic.card", example: "cards/rack1-slot3")
    _ = try ResourceName.parse(nic.card, as: Bulkhead_V1_Card.self, field: "nic.card")
    if try await transaction.resource(nic.card, as: Bulkhead_V1_Card.self) == nil {
      throw APIError.invalid(
        "nic.card", nic.card, "is not a registered card",
        fix: "register it first (dpuctl cards register) or fix the name")
    }
    if let previous {
      // Drop the index entries of addresses and MAC the NIC no longer has.
      for text in previous.ipAddresses where !nic.ipAddresses.contains(text) {
        if let address = IPAddressValue(Substring(text)) {
          transaction.deleteIndex(Self.ipKey(previous.subnet, address))
        }
      }
    }
  }

  func release(_ nic: Bulkhead_V1_Nic, in transaction: StoreTransaction) async throws {
    let tenant = ResourceName(segments: nic.name.split(separator: "/")).ancestor(levels: 1)
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_GuestAttachment.self, under: tenant, "nic '\(nic.name)'", where: { $0.nic == nic.name })
    if let mac = MACAddress(nic.macAddress) { transaction.deleteIndex(Self.macKey(mac)) }
    for text in nic.ipAddresses {
      if let address = IPAddressValue(Substring(text)) {
        transaction.deleteIndex(Self.ipKey(nic.subnet, address))
      }
    }
  }

  static func macKey(_ mac: MACAddress) -> String { "index/mac/\(mac)" }
  static func ipKey(_ subnet: String, _ address: IPAddressValue) -> String { "index/ip/\(subnet)/\(address)" }
}
