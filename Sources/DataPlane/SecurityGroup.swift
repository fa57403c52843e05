import Wire

/// What a rule matches on the far end of a connection.
public enum RulePeer: Hashable, Sendable {
  case ipv4(IPv4Prefix)
  case ipv6(IPv6Prefix)
  /// Any NIC that is a member of this security group.
  case securityGroup(UInt32)
}

/// A rule's protocol selector; ports apply to TCP and UDP only.
public enum RuleProtocol: Hashable, Sendable {
  case any
  case tcp(ClosedRange<UInt16>)
  case udp(ClosedRange<UInt16>)
  case icmp
  case icmpv6
}

public struct SecurityRule: Hashable, Sendable {
  public var proto: RuleProtocol
  public var peer: RulePeer
  public init(_ proto: RuleProtocol, _ peer: RulePeer) {
    self.proto = proto
    self.peer = peer
  }
}

/// A stateful security group: connections opened by an allowed packet are
/// tracked, and their replies pass without a rule. Inbound is denied and
/// outbound allowed unless the rules say otherwise (an empty `outbound`
/// list means "allow all", as in a default VPC security group).
public struct SecurityGroup: Hashable, Sendable {
  public var id: UInt32
  public var inbound: [SecurityRule]
  /// Nil: allow all outbound.
  public var outbound: [SecurityRule]?
  public init(id: UInt32, inbound: [SecurityRule] = [], outbound: [SecurityRule]? = nil) {
    self.id = id
    self.inbound = inbound
    self.outbound = outbound
  }
}
