import Wire

/// Where a route sends a packet.
public enum RouteTarget: Hashable, Sendable {
  /// Deliver to the NIC in the VPC that owns the destination address,
  /// here or (through the mapping table) on another card.
  case local
  /// Deliver to one NIC (an appliance), whichever address it is sent to.
  case nic(id: UInt32)
  /// Leave the VPC through an underlay next hop (an edge VTEP), still
  /// encapsulated with the VPC's VNI.
  case gateway(vtep: IPAddress)
  /// Drop, counted as `DropReason.blackholeRoute`.
  case blackhole
}

public struct IPv4Route: Hashable, Sendable {
  public var prefix: IPv4Prefix
  public var target: RouteTarget
  public init(_ prefix: IPv4Prefix, _ target: RouteTarget) {
    self.prefix = prefix
    self.target = target
  }
}

public struct IPv6Route: Hashable, Sendable {
  public var prefix: IPv6Prefix
  public var target: RouteTarget
  public init(_ prefix: IPv6Prefix, _ target: RouteTarget) {
    self.prefix = prefix
    self.target = target
  }
}

/// A VPC's (or a subnet's) routes; longest prefix wins. The VPC's own
/// CIDRs get an implicit `.local` route unless a route names them.
public struct RouteTable: Hashable, Sendable {
  public var ipv4: [IPv4Route]
  public var ipv6: [IPv6Route]
  public init(ipv4: [IPv4Route] = [], ipv6: [IPv6Route] = []) {
    self.ipv4 = ipv4
    self.ipv6 = ipv6
  }
}
