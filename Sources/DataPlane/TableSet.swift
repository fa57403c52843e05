import Wire

/// A NIC hosted on this card, with everything the pipeline needs about it.
public struct LocalNIC {
  public var nic: NIC
  public var vpcIndex: Int
  public var vni: UInt32
  public var subnet: Subnet
  public var routeTableIndex: Int
  public var securityGroups: [SecurityGroup]
  public var addresses: Set<FlowAddress>
}

/// Where an overlay address of a VPC lives.
public enum NICLocation: Hashable {
  case local(port: UInt16, mac: MACAddress)
  case remote(vtep: IPAddress, mac: MACAddress)
}

/// A VPC as the pipeline sees it.
public struct CompiledVPC {
  public var vpc: VPC
  public var routeTableIndex: Int
  /// Underlay addresses of the VPC's gateway routes: packets from them
  /// may carry any inner source.
  public var gatewayVTEPs: Set<FlowAddress>
}

/// Key of the per-VPC address maps.
public struct VPCAddress: Hashable {
  public var vpcIndex: Int
  public var address: FlowAddress

  /// One word into the hasher instead of three: the slow path looks these
  /// keys up per packet, and each word costs a SipHash round.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(address.foldedWord ^ UInt64(truncatingIfNeeded: vpcIndex) &* 0x9e37_79b9_7f4a_7c15)
  }
}

/// Key of the encapsulation templates.
struct TemplateKey: Hashable {
  var vpcIndex: Int
  var vtep: FlowAddress

  /// One word, as `VPCAddress`.
  func hash(into hasher: inout Hasher) {
    hasher.combine(vtep.foldedWord ^ UInt64(truncatingIfNeeded: vpcIndex) &* 0x9e37_79b9_7f4a_7c15)
  }
}

/// Every lookup structure compiled from one `NetworkConfiguration`:
/// immutable once built. The pipeline holds one reference and reads it
/// for a whole batch; `DataPlane.apply` builds a new set and swaps the
/// reference between batches, so a batch never sees half an update.
/// Flows compiled against an older set are recognised by `generation`.
///
/// Multi-core: each core's run loop must load the current set once per
/// batch (an atomic load of the reference), and the old set may only be
/// freed once every core has finished the batch that used it (epoch-based
/// reclamation: each core publishes the generation it is working on; the
/// control thread frees a set when every published generation is newer).
/// Flow and connection tables are per core (flows are steered to cores by
/// RSS on the 5-tuple), so they need no locks.
public final class TableSet {
  public let generation: UInt32
  public let card: CardSettings
  public let cardUnderlay: FlowAddress
  public let vpcs: [CompiledVPC]
  public let vpcByVNI: [UInt32: Int]
  public let routeTables: [CompiledRouteTable]
  /// Indexed by port; nil for ports without a NIC.
  public let nicsByPort: [LocalNIC?]
  public let nicLocations: [VPCAddress: NICLocation]
  public let nicsByID: [UInt32: (vpcIndex: Int, location: NICLocation, address: FlowAddress)]
  /// Addresses of the members of each security group.
  public let groupMembers: [UInt32: Set<FlowAddress>]
  public let templates: [EncapsulationTemplate]
  /// The same templates for the fast path.
  public let templateStore: TemplateStore
  /// Copies of card settings read per packet.
  public let cardMAC: MACAddress
  public let underlayMTU: Int
  /// The longest frame a guest may send: its MTU plus the Ethernet header.
  public let guestFrameLimit: Int
  let templateIndex: [TemplateKey: Int]

  public init(compiling config: NetworkConfiguration, generation: UInt32, portCount: Int)
    throws(ConfigurationError)
  {
    self.generation = generation
    card = config.card
    cardUnderlay = FlowAddress(config.card.underlayAddress)

    var vpcIndexByID: [UInt32: Int] = [:]
    var byVNI: [UInt32: Int] = [:]
    var tables: [CompiledRouteTable] = []
    var compiledVPCs: [CompiledVPC] = []
    for vpc in config.vpcs {
      guard vpc.vni <= 0xff_ffff else { throw .vniOutOfRange(vpc.vni) }
      guard byVNI[vpc.vni] == nil else { throw .duplicateVNI(vpc.vni) }
      byVNI[vpc.vni] = compiledVPCs.count
      vpcIndexByID[vpc.id] = compiledVPCs.count
      tables.append(
        CompiledRouteTable(vpc.routeTable, implicitIPv4: vpc.ipv4CIDRs, implicitIPv6: vpc.ipv6CIDRs))
      var gateways = Set<FlowAddress>()
      for r in vpc.routeTable.ipv4 { if case .gateway(let v) = r.target { gateways.insert(FlowAddress(v)) } }
      for r in vpc.routeTable.ipv6 { if case .gateway(let v) = r.target { gateways.insert(FlowAddress(v)) } }
      compiledVPCs.append(CompiledVPC(vpc: vpc, routeTableIndex: tables.count - 1, gatewayVTEPs: gateways))
    }

    var subnets: [UInt32: (Subnet, Int, Int)] = [:]  // subnet, vpcIndex, route table
    for subnet in config.subnets {
      guard let v = vpcIndexByID[subnet.vpc] else { throw .unknownVPC(subnet: subnet.id, vpc: subnet.vpc) }
      var tableIndex = compiledVPCs[v].routeTableIndex
      if let own = subnet.routeTable {
        let vpc = compiledVPCs[v].vpc
        tables.append(CompiledRouteTable(own, implicitIPv4: vpc.ipv4CIDRs, implicitIPv6: vpc.ipv6CIDRs))
        tableIndex = tables.count - 1
        for r in own.ipv4 {
          if case .gateway(let g) = r.target { compiledVPCs[v].gatewayVTEPs.insert(FlowAddress(g)) }
        }
        for r in own.ipv6 {
          if case .gateway(let g) = r.target { compiledVPCs[v].gatewayVTEPs.insert(FlowAddress(g)) }
        }
      }
      subnets[subnet.id] = (subnet, v, tableIndex)
    }

    var groups: [UInt32: SecurityGroup] = [:]
    for g in config.securityGroups { groups[g.id] = g }

    var ports = [LocalNIC?](repeating: nil, count: portCount)
    var locations: [VPCAddress: NICLocation] = [:]
    var byID: [UInt32: (vpcIndex: Int, location: NICLocation, address: FlowAddress)] = [:]
    var members: [UInt32: Set<FlowAddress>] = [:]
    var remoteVTEPs: [TemplateKey] = []
    for nic in config.nics {
      guard let (subnet, v, tableIndex) = subnets[nic.subnet] else {
        throw .unknownSubnet(nic: nic.id, subnet: nic.subnet)
      }
      var addresses = Set<FlowAddress>([FlowAddress(nic.primaryIPv4)])
      for a in nic.secondaryIPv4 { addresses.insert(FlowAddress(a)) }
      for a in nic.ipv6 { addresses.insert(FlowAddress(a)) }
      let isLocal = nic.card == config.card.underlayAddress
      let location: NICLocation =
        isLocal ? .local(port: nic.port, mac: nic.mac) : .remote(vtep: nic.card, mac: nic.mac)
      for a in addresses { locations[VPCAddress(vpcIndex: v, address: a)] = location }
      byID[nic.id] = (v, location, FlowAddress(nic.primaryIPv4))
      for g in nic.securityGroups { members[g, default: []].formUnion(addresses) }
      if isLocal {
        guard nic.port >= 1, Int(nic.port) < portCount else {
          throw .portOutOfRange(nic: nic.id, port: nic.port)
        }
        guard ports[Int(nic.port)] == nil else { throw .duplicatePort(nic.port) }
        var resolved: [SecurityGroup] = []
        for g in nic.securityGroups {
          guard let group = groups[g] else { throw .unknownSecurityGroup(nic: nic.id, group: g) }
          resolved.append(group)
        }
        ports[Int(nic.port)] = LocalNIC(
          nic: nic, vpcIndex: v, vni: compiledVPCs[v].vpc.vni, subnet: subnet, routeTableIndex: tableIndex,
          securityGroups: resolved, addresses: addresses)
      } else {
        remoteVTEPs.append(TemplateKey(vpcIndex: v, vtep: FlowAddress(nic.card)))
      }
    }
    for m in config.mappings {
      guard let v = byVNI[m.vni] else { continue }
      locations[VPCAddress(vpcIndex: v, address: FlowAddress(m.overlayAddress))] = .remote(
        vtep: m.vtep, mac: m.mac)
      remoteVTEPs.append(TemplateKey(vpcIndex: v, vtep: FlowAddress(m.vtep)))
    }
    for (v, vpc) in compiledVPCs.enumerated() {
      for g in vpc.gatewayVTEPs { remoteVTEPs.append(TemplateKey(vpcIndex: v, vtep: g)) }
    }

    var templateList: [EncapsulationTemplate] = []
    var templateByKey: [TemplateKey: Int] = [:]
    for key in remoteVTEPs where templateByKey[key] == nil {
      let vpc = compiledVPCs[key.vpcIndex].vpc
      templateByKey[key] = templateList.count
      templateList.append(
        EncapsulationTemplate(
          card: config.card, vtep: key.vtep.ipAddress, vni: vpc.vni, encapsulation: vpc.encapsulation))
    }

    vpcs = compiledVPCs
    vpcByVNI = byVNI
    routeTables = tables
    nicsByPort = ports
    nicLocations = locations
    nicsByID = byID
    groupMembers = members
    templates = templateList
    templateStore = TemplateStore(templateList)
    cardMAC = config.card.underlayMAC
    underlayMTU = config.card.underlayMTU
    let limit = config.card.guestMTU.addingReportingOverflow(EthernetFrame.Field.headerLength)
    guestFrameLimit = limit.overflow ? Int.max : limit.partialValue
    templateIndex = templateByKey
  }

  /// The template for sending VPC `vpcIndex` traffic to `vtep`. Slow path.
  public func template(vpcIndex: Int, vtep: FlowAddress) -> Int? {
    templateIndex[TemplateKey(vpcIndex: vpcIndex, vtep: vtep)]
  }

  @inlinable
  public func localNIC(port: UInt16) -> LocalNIC? {
    Int(port) < nicsByPort.count ? nicsByPort[Int(port)] : nil
  }

  /// Route memory of every table, in bytes.
  public var routeMemoryBytes: Int { routeTables.reduce(0) { $0 + $1.memoryBytes } }
}
