import DataPlane
import Management
import Wire

/// Turns the slice of desired state the controller pushes (Management's
/// `DesiredState`) into the data plane's `NetworkConfiguration`, on top of
/// what only the card knows (its underlay address and MACs, from its
/// configuration file: `base`). Not per packet: once per generation.
///
/// The slice speaks in VNIs and handles; the pipeline in tenants, VPCs and
/// subnets. The mapping:
/// - one VPC (and one tenant) per VNI, numbered in order of first use;
///   its CIDR blocks are the slice's `local` routes for that VNI (or, with
///   none, its NICs' subnets);
/// - a NIC's subnet is the one the slice names, else the VPC block that
///   holds its first address; the gateway is the subnet's first host
///   address (the convention EC2 and the controller use);
/// - a NIC with handle N sits on the host-function port the configuration
///   file binds to NIC N, else on port N;
/// - mappings point overlay addresses at the peers' VTEPs as they are.
public enum SliceTranslation {
  public static func configuration(
    from state: DesiredState, base: CardConfiguration
  ) throws(SliceTranslationError) -> NetworkConfiguration {
    var network = NetworkConfiguration(card: base.network.card)
    var vpcByVNI: [UInt32: UInt32] = [:]
    func vpcID(_ vni: UInt32) -> UInt32 {
      if let id = vpcByVNI[vni] { return id }
      let id = UInt32(vpcByVNI.count + 1)
      vpcByVNI[vni] = id
      network.tenants.append(Tenant(id: id, name: "vni-" + String(vni)))
      network.vpcs.append(VPC(id: id, tenant: id, ipv4CIDRs: [], vni: vni))
      return id
    }
    for nic in state.nics { _ = vpcID(nic.vni) }
    for route in state.routes { _ = vpcID(route.vni) }
    try addRoutes(state.routes, vpcByVNI: vpcByVNI, to: &network)
    for nic in state.nics {
      try addNIC(nic, vpc: vpcID(nic.vni), base: base, to: &network)
    }
    for group in state.securityGroups { network.securityGroups.append(try securityGroup(group)) }
    // A site's prefix goes to its gateway, as the file's `site` line does.
    for site in state.sites {
      guard let index = network.vpcs.firstIndex(where: { $0.vni == site.vni }) else {
        throw .badSite(handle: site.id, problem: "VNI " + String(site.vni) + " has no VPC on this card")
      }
      guard case .v4(let gateway) = address(site.gateway), let remote = ipv4Prefix(site.remote) else {
        throw .badSite(handle: site.id, problem: "gateway and remote prefix must be IPv4")
      }
      network.vpcs[index].routeTable.ipv4.append(IPv4Route(remote, .gateway(vtep: .v4(gateway))))
    }
    for mapping in state.mappings {
      guard let overlay = address(mapping.overlayAddress), let vtep = address(mapping.underlayAddress),
        let mac = macAddress(mapping.mac)
      else { throw .badMapping(vni: mapping.vni) }
      network.mappings.append(Mapping(vni: mapping.vni, overlayAddress: overlay, vtep: vtep, mac: mac))
    }
    return network
  }

  static func addRoutes(
    _ routes: [RouteSlice], vpcByVNI: [UInt32: UInt32], to network: inout NetworkConfiguration
  ) throws(SliceTranslationError) {
    for route in routes {
      guard let id = vpcByVNI[route.vni], let index = network.vpcs.firstIndex(where: { $0.id == id }) else {
        continue
      }
      let target: RouteTarget
      switch route.target {
      case .local: target = .local
      case .drop: target = .blackhole
      case .nic(let handle): target = .nic(id: handle)
      // Tunnels are not in slices yet (the controller leaves them out).
      case .tunnel: throw .unsupportedRoute(vni: route.vni)
      }
      if route.destination.address.count == 4 {
        guard let prefix = ipv4Prefix(route.destination) else { throw .badRoute(vni: route.vni) }
        if case .local = target, prefix.length < 32 {
          // A VPC's own block: where its subnets live.
          if !network.vpcs[index].ipv4CIDRs.contains(prefix) { network.vpcs[index].ipv4CIDRs.append(prefix) }
          continue
        }
        network.vpcs[index].routeTable.ipv4.append(IPv4Route(prefix, target))
      } else {
        guard let prefix = ipv6Prefix(route.destination) else { throw .badRoute(vni: route.vni) }
        if case .local = target, prefix.length < 128 {
          if !network.vpcs[index].ipv6CIDRs.contains(prefix) { network.vpcs[index].ipv6CIDRs.append(prefix) }
          continue
        }
        network.vpcs[index].routeTable.ipv6.append(IPv6Route(prefix, target))
      }
    }
  }

  static func addNIC(
    _ nic: NicSlice, vpc: UInt32, base: CardConfiguration, to network: inout NetworkConfiguration
  ) throws(SliceTranslationError) {
    guard let mac = macAddress(nic.mac) else { throw .badNIC(handle: nic.id, field: "mac") }
    var v4: [IPv4Address] = []
    var v6: [IPv6Address] = []
    for prefix in nic.addresses {
      switch address(prefix) {
      case .v4(let a): v4.append(a)
      case .v6(let a): v6.append(a)
      case nil: throw .badNIC(handle: nic.id, field: "address")
      }
    }
    guard let primary = v4.first else { throw .badNIC(handle: nic.id, field: "address (no IPv4)") }
    let vpcIndex = network.vpcs.firstIndex { $0.id == vpc }!
    let block: IPv4Prefix
    if let named = nic.subnet.flatMap({ ipv4Prefix($0) }) {
      block = named
    } else if let holding = network.vpcs[vpcIndex].ipv4CIDRs.first(where: { $0.contains(primary) }) {
      block = holding
    } else {
      throw .badNIC(handle: nic.id, field: "subnet (no VPC block holds " + primary.description + ")")
    }
    guard block.contains(primary), block.length <= 30 else { throw .badNIC(handle: nic.id, field: "subnet") }
    if !network.vpcs[vpcIndex].ipv4CIDRs.contains(where: { $0.contains(block) }) {
      network.vpcs[vpcIndex].ipv4CIDRs.append(block)
    }
    let subnetID: UInt32
    if let existing = network.subnets.first(where: { $0.vpc == vpc && $0.ipv4 == block }) {
      subnetID = existing.id
    } else {
      subnetID = UInt32(network.subnets.count + 1)
      network.subnets.append(
        Subnet(
          id: subnetID, vpc: vpc, ipv4: block,
          gatewayIPv4: IPv4Address(rawValue: block.address.rawValue + 1)))
    }
    let port =
      base.hostFunctions.first(where: { $0.nic == nic.id })?.port ?? UInt16(truncatingIfNeeded: nic.id)
    guard port != DataPlane.uplinkPort, nic.id <= 255 else { throw .badNIC(handle: nic.id, field: "id") }
    let bits = UInt64(nic.maxBandwidthMbps) * 1_000_000
    network.nics.append(
      NIC(
        id: nic.id, subnet: subnetID, mac: mac, primaryIPv4: primary, secondaryIPv4: Array(v4.dropFirst()),
        ipv6: v6, securityGroups: nic.securityGroups,
        rateLimit: RateLimit(packetsPerSecond: UInt64(nic.maxPacketsPerSecond), bitsPerSecond: bits),
        card: network.card.underlayAddress, port: port))
  }

  static func securityGroup(_ slice: SecurityGroupSlice) throws(SliceTranslationError) -> SecurityGroup {
    var inbound: [SecurityRule] = []
    var outbound: [SecurityRule] = []
    var restrictsOutbound = false
    for rule in slice.rules {
      let peer: RulePeer
      if rule.peer.address.count == 4, let prefix = ipv4Prefix(rule.peer) {
        peer = .ipv4(prefix)
      } else if let prefix = ipv6Prefix(rule.peer) {
        peer = .ipv6(prefix)
      } else {
        throw .badSecurityGroup(handle: slice.id)
      }
      let range = rule.fromPort...rule.toPort
      let proto: RuleProtocol
      switch rule.protocolNumber {
      case 0, 255: proto = .any  // IANA 0/255 stand for "every protocol" in the API
      case 1: proto = .icmp
      case 6: proto = .tcp(range)
      case 17: proto = .udp(range)
      case 58: proto = .icmpv6
      default: throw .badSecurityGroup(handle: slice.id)
      }
      switch rule.direction {
      case .ingress: inbound.append(SecurityRule(proto, peer))
      case .egress:
        restrictsOutbound = true
        outbound.append(SecurityRule(proto, peer))
      }
    }
    return SecurityGroup(id: slice.id, inbound: inbound, outbound: restrictsOutbound ? outbound : nil)
  }

  static func address(_ prefix: IPPrefix) -> IPAddress? {
    let b = prefix.address
    if b.count == 4 { return .v4(IPv4Address(b[0], b[1], b[2], b[3])) }
    guard b.count == 16 else { return nil }
    var high: UInt64 = 0
    var low: UInt64 = 0
    for i in 0..<8 { high = high << 8 | UInt64(b[i]) }
    for i in 8..<16 { low = low << 8 | UInt64(b[i]) }
    return .v6(IPv6Address(high: high, low: low))
  }

  static func ipv4Prefix(_ prefix: IPPrefix) -> IPv4Prefix? {
    guard case .v4(let a) = address(prefix) else { return nil }
    return IPv4Prefix(address: a, length: Int(prefix.length))
  }

  static func ipv6Prefix(_ prefix: IPPrefix) -> IPv6Prefix? {
    guard case .v6(let a) = address(prefix) else { return nil }
    return IPv6Prefix(address: a, length: Int(prefix.length))
  }

  static func macAddress(_ bytes: [UInt8]) -> MACAddress? {
    guard bytes.count == 6 else { return nil }
    return MACAddress(bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5])
  }
}

/// A slice the card cannot turn into a pipeline configuration; sent back
/// to the controller as the generation's error.
public enum SliceTranslationError: Error, Equatable, Sendable, CustomStringConvertible {
  case badNIC(handle: UInt32, field: String)
  case badRoute(vni: UInt32)
  case unsupportedRoute(vni: UInt32)
  case badMapping(vni: UInt32)
  case badSecurityGroup(handle: UInt32)
  case badSite(handle: UInt32, problem: String)
  /// An SA the card cannot run (spi 0: the set as a whole).
  case badSecurityAssociation(spi: UInt32, problem: String)
  /// A volume the card refuses; `field` names the slice's field and why.
  case badVolume(handle: UInt32, field: String)

  public var description: String {
    switch self {
    case .badNIC(let handle, let field): return "NIC " + String(handle) + ": bad " + field
    case .badRoute(let vni): return "route in VNI " + String(vni) + ": bad prefix"
    case .unsupportedRoute(let vni):
      return "route in VNI " + String(vni) + ": tunnel targets are not supported"
    case .badMapping(let vni): return "mapping in VNI " + String(vni) + ": bad address or MAC"
    case .badSecurityGroup(let handle): return "security group " + String(handle) + ": bad rule"
    case .badSite(let handle, let problem): return "site " + String(handle) + ": " + problem
    case .badSecurityAssociation(let spi, let problem):
      return (spi == 0 ? "ESP SAs: " : "ESP SA " + String(spi) + ": ") + problem
    case .badVolume(let handle, let field): return "volume " + String(handle) + ": bad " + field
    }
  }
}
