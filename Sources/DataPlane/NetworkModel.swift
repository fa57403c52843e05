import Wire

// The configuration model: what the operator declares, as plain values.
// `TableSet.init(compiling:)` turns one `NetworkConfiguration` into the
// immutable lookup structures the pipeline reads.

/// A tenant owns VPCs; no packet crosses tenants unless a route says so.
public struct Tenant: Hashable, Sendable {
  public var id: UInt32
  public var name: String
  public init(id: UInt32, name: String) {
    self.id = id
    self.name = name
  }
}

/// How a VPC's packets travel between cards.
public enum Encapsulation: UInt8, Hashable, Sendable, CustomStringConvertible {
  /// RFC 8926, UDP port 6081.
  case geneve
  /// RFC 7348, UDP port 4789.
  case vxlan

  public var udpPort: UInt16 { self == .geneve ? GenevePacket.udpPort : VXLANPacket.udpPort }
  public var headerLength: Int {
    self == .geneve ? GenevePacket.Field.headerLength : VXLANPacket.Field.headerLength
  }
  public var description: String { self == .geneve ? "geneve" : "vxlan" }
}

public struct VPC: Hashable, Sendable {
  public var id: UInt32
  public var tenant: UInt32
  public var ipv4CIDRs: [IPv4Prefix]
  public var ipv6CIDRs: [IPv6Prefix]
  /// The 24-bit virtual network identifier carried in Geneve/VXLAN.
  public var vni: UInt32
  public var encapsulation: Encapsulation
  /// The route table subnets use unless they name their own.
  public var routeTable: RouteTable

  public init(
    id: UInt32, tenant: UInt32, ipv4CIDRs: [IPv4Prefix], ipv6CIDRs: [IPv6Prefix] = [], vni: UInt32,
    encapsulation: Encapsulation = .geneve, routeTable: RouteTable = RouteTable()
  ) {
    self.id = id
    self.tenant = tenant
    self.ipv4CIDRs = ipv4CIDRs
    self.ipv6CIDRs = ipv6CIDRs
    self.vni = vni
    self.encapsulation = encapsulation
    self.routeTable = routeTable
  }
}

public struct Subnet: Hashable, Sendable {
  public var id: UInt32
  public var vpc: UInt32
  public var ipv4: IPv4Prefix
  public var ipv6: IPv6Prefix?
  /// The virtual router's address in this subnet (the DHCP "router",
  /// answered for ARP, ND and ping).
  public var gatewayIPv4: IPv4Address
  public var gatewayIPv6: IPv6Address?
  /// Overrides the VPC's route table for NICs in this subnet.
  public var routeTable: RouteTable?

  public init(
    id: UInt32, vpc: UInt32, ipv4: IPv4Prefix, ipv6: IPv6Prefix? = nil, gatewayIPv4: IPv4Address,
    gatewayIPv6: IPv6Address? = nil, routeTable: RouteTable? = nil
  ) {
    self.id = id
    self.vpc = vpc
    self.ipv4 = ipv4
    self.ipv6 = ipv6
    self.gatewayIPv4 = gatewayIPv4
    self.gatewayIPv6 = gatewayIPv6
    self.routeTable = routeTable
  }
}

/// Per-NIC allowances (zero means unlimited), like EC2's pps allowance.
public struct RateLimit: Hashable, Sendable {
  public var packetsPerSecond: UInt64
  public var bitsPerSecond: UInt64
  public static let unlimited = RateLimit(packetsPerSecond: 0, bitsPerSecond: 0)
  public init(packetsPerSecond: UInt64, bitsPerSecond: UInt64) {
    self.packetsPerSecond = packetsPerSecond
    self.bitsPerSecond = bitsPerSecond
  }
}

/// A tenant's virtual NIC. `port` is the data-plane port of the host
/// function on `card` (1...maximumPorts-1; port 0 is the uplink).
public struct NIC: Hashable, Sendable {
  public var id: UInt32
  public var subnet: UInt32
  public var mac: MACAddress
  public var primaryIPv4: IPv4Address
  public var secondaryIPv4: [IPv4Address]
  public var ipv6: [IPv6Address]
  public var securityGroups: [UInt32]
  public var rateLimit: RateLimit
  /// The card (its underlay address) that hosts the NIC.
  public var card: IPAddress
  public var port: UInt16

  public init(
    id: UInt32, subnet: UInt32, mac: MACAddress, primaryIPv4: IPv4Address, secondaryIPv4: [IPv4Address] = [],
    ipv6: [IPv6Address] = [], securityGroups: [UInt32] = [], rateLimit: RateLimit = .unlimited,
    card: IPAddress,
    port: UInt16
  ) {
    self.id = id
    self.subnet = subnet
    self.mac = mac
    self.primaryIPv4 = primaryIPv4
    self.secondaryIPv4 = secondaryIPv4
    self.ipv6 = ipv6
    self.securityGroups = securityGroups
    self.rateLimit = rateLimit
    self.card = card
    self.port = port
  }
}

/// A NIC hosted by another card: where its overlay address lives on the
/// underlay (OPI's `Mapping`).
public struct Mapping: Hashable, Sendable {
  public var vni: UInt32
  public var overlayAddress: IPAddress
  public var vtep: IPAddress
  public var mac: MACAddress
  public init(vni: UInt32, overlayAddress: IPAddress, vtep: IPAddress, mac: MACAddress) {
    self.vni = vni
    self.overlayAddress = overlayAddress
    self.vtep = vtep
    self.mac = mac
  }
}

/// This card's own place on the underlay.
public struct CardSettings: Hashable, Sendable {
  public var underlayAddress: IPAddress
  public var underlayMAC: MACAddress
  /// The underlay next hop (top-of-rack router) every encapsulated packet goes to.
  public var underlayRouterMAC: MACAddress
  public var underlayMTU: Int
  /// The MTU guests are told (DHCP option 26).
  public var guestMTU: Int
  /// The virtual router MAC guests see as their gateway.
  public var gatewayMAC: MACAddress
  public var dnsServers: [IPv4Address]
  public var leaseSeconds: UInt32
  /// RFC 7348 §5 / RFC 8926 §3.3: outer UDP source ports come from a hash
  /// of the inner flow, within this range.
  public var sourcePortRange: ClosedRange<UInt16>

  public init(
    underlayAddress: IPAddress, underlayMAC: MACAddress, underlayRouterMAC: MACAddress,
    underlayMTU: Int = 1500,
    guestMTU: Int = 1400, gatewayMAC: MACAddress, dnsServers: [IPv4Address] = [], leaseSeconds: UInt32 = 3600,
    sourcePortRange: ClosedRange<UInt16> = 49152...65535
  ) {
    self.underlayAddress = underlayAddress
    self.underlayMAC = underlayMAC
    self.underlayRouterMAC = underlayRouterMAC
    self.underlayMTU = underlayMTU
    self.guestMTU = guestMTU
    self.gatewayMAC = gatewayMAC
    self.dnsServers = dnsServers
    self.leaseSeconds = leaseSeconds
    self.sourcePortRange = sourcePortRange
  }
}

/// Everything the data plane of one card needs, applied as a whole.
public struct NetworkConfiguration: Hashable, Sendable {
  public var card: CardSettings
  public var tenants: [Tenant]
  public var vpcs: [VPC]
  public var subnets: [Subnet]
  /// NICs on this card and on others (those elsewhere need no port).
  public var nics: [NIC]
  public var securityGroups: [SecurityGroup]
  /// Extra mappings beyond those derived from `nics` on other cards.
  public var mappings: [Mapping]

  public init(
    card: CardSettings, tenants: [Tenant] = [], vpcs: [VPC] = [], subnets: [Subnet] = [], nics: [NIC] = [],
    securityGroups: [SecurityGroup] = [], mappings: [Mapping] = []
  ) {
    self.card = card
    self.tenants = tenants
    self.vpcs = vpcs
    self.subnets = subnets
    self.nics = nics
    self.securityGroups = securityGroups
    self.mappings = mappings
  }
}
