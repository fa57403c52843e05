import Management
import ProviderAPI

/// Computes one card's slice of desired state from the store: the NICs it
/// serves, the security groups and routes of their VPCs, and where every
/// other NIC of those VPCs lives (mappings to the other cards' VTEPs). The
/// reconciler (next step) sends it as a `DesiredState` frame whenever the
/// store revision moves.
///
/// Handles (NIC, security group) are positions in name order, 1-based: the
/// card replaces its whole state per generation, so they need only be
/// consistent within one slice.
///
/// Not yet in the slice: volumes and SAs (need key unwrapping and SPI
/// allocation), routes to appliance NICs on other cards and to IPsec
/// tunnels.
public struct CardSliceBuilder {
  public let store: any DesiredStateStore

  public init(store: any DesiredStateStore) { self.store = store }

  public func desiredState(forCard card: String, generation: UInt64) async throws -> DesiredState {
    let reads = StoreTransaction(store: store)
    let cards = Dictionary(
      uniqueKeysWithValues: try await reads.resources(under: "", as: Bulkhead_V1_Card.self).map {
        ($0.name, $0)
      })
    let allNICs = try await reads.resources(under: "", as: Bulkhead_V1_Nic.self)
    let local = allNICs.filter { $0.card == card }.sorted { $0.name < $1.name }

    var vpcs: [String: Bulkhead_V1_Vpc] = [:]
    var subnets: [String: Bulkhead_V1_Subnet] = [:]
    func vpcName(ofSubnet subnet: String) -> String {
      ResourceName(segments: subnet.split(separator: "/", omittingEmptySubsequences: false)).ancestor(
        levels: 1)
    }
    for nic in allNICs {
      if subnets[nic.subnet] == nil { subnets[nic.subnet] = try await reads.resource(nic.subnet) }
    }
    for name in Set(local.map { vpcName(ofSubnet: $0.subnet) }) {
      vpcs[name] = try await reads.resource(name)
    }

    let groupNames = Set(local.flatMap(\.securityGroups)).sorted()
    let groupHandles = Dictionary(uniqueKeysWithValues: groupNames.enumerated().map { ($1, UInt32($0 + 1)) })
    let nicHandles = Dictionary(uniqueKeysWithValues: local.enumerated().map { ($1.name, UInt32($0 + 1)) })

    var state = DesiredState(generation: generation)
    for nic in local {
      guard let vpc = vpcs[vpcName(ofSubnet: nic.subnet)] else { continue }
      state.nics.append(
        NicSlice(
          id: nicHandles[nic.name]!, vni: vpc.vni, mac: MACAddress(nic.macAddress)?.bytes ?? [],
          addresses: nic.ipAddresses.compactMap { IPAddressValue(Substring($0)) }.map { .host($0.bytes) },
          securityGroups: nic.securityGroups.compactMap { groupHandles[$0] }, sourceGuard: nic.sourceGuard,
          maxBandwidthMbps: nic.rateLimits.maxBandwidthMbps,
          maxPacketsPerSecond: nic.rateLimits.maxPacketsPerSecond))
    }

    for name in groupNames {
      guard let group = try await reads.resource(name, as: Bulkhead_V1_SecurityGroup.self) else { continue }
      var rules: [SecurityGroupSlice.Rule] = []
      for rule in group.rules {
        // A peer group stands for the addresses of the NICs in it, wherever
        // they are served.
        let peers: [IPPrefix]
        if rule.peerSecurityGroup.isEmpty {
          guard case .success(let block) = CIDRBlock.parse(rule.cidrBlock) else { continue }
          peers = [IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength))]
        } else {
          peers = allNICs.filter { $0.securityGroups.contains(rule.peerSecurityGroup) }
            .flatMap(\.ipAddresses).compactMap { IPAddressValue(Substring($0)) }.map { .host($0.bytes) }
        }
        for peer in peers {
          rules.append(
            SecurityGroupSlice.Rule(
              direction: rule.direction == .egress ? .egress : .ingress,
              protocolNumber: UInt8(rule.protocol.rawValue),
              fromPort: UInt16(clamping: rule.fromPort), toPort: UInt16(clamping: rule.toPort), peer: peer))
        }
      }
      state.securityGroups.append(SecurityGroupSlice(id: groupHandles[name]!, rules: rules))
    }

    for (name, vpc) in vpcs.sorted(by: { $0.key < $1.key }) {
      for text in vpc.cidrBlocks {
        guard case .success(let block) = CIDRBlock.parse(text) else { continue }
        state.routes.append(
          RouteSlice(
            vni: vpc.vni,
            destination: IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength)),
            target: .local))
      }
      let tables = Set(subnets.values.filter { $0.name.hasPrefix(name + "/") }.map(\.routeTable)).subtracting(
        [""])
      for tableName in tables.sorted() {
        guard let table = try await reads.resource(tableName, as: Bulkhead_V1_RouteTable.self) else {
          continue
        }
        for route in table.routes {
          guard case .success(let block) = CIDRBlock.parse(route.destinationCidr) else { continue }
          let target: RouteSlice.Target
          switch route.target {
          case .local: target = .local
          case .drop: target = .drop
          case .nic(let nic):
            guard let handle = nicHandles[nic] else { continue }
            target = .nic(handle)
          case .ipsecTunnel, .none: continue
          }
          state.routes.append(
            RouteSlice(
              vni: vpc.vni,
              destination: IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength)),
              target: target))
        }
      }
      // Every NIC of this VPC served by another card: overlay address →
      // that card's VTEP.
      for nic in allNICs where nic.card != card && vpcName(ofSubnet: nic.subnet) == name {
        guard let vtep = cards[nic.card].flatMap({ IPAddressValue(Substring($0.underlayIp)) }),
          let mac = MACAddress(nic.macAddress)
        else { continue }
        for text in nic.ipAddresses {
          guard let address = IPAddressValue(Substring(text)) else { continue }
          state.mappings.append(
            MappingSlice(
              vni: vpc.vni, overlayAddress: .host(address.bytes), mac: mac.bytes,
              underlayAddress: .host(vtep.bytes)))
        }
      }
    }
    return state
  }
}
