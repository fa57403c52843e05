import Foundation
import ProviderAPI
import ProviderPKI

struct SecurityGroupRules: ResourceRules {
  func admit(
    _ group: inout Bulkhead_V1_SecurityGroup, previous: Bulkhead_V1_SecurityGroup?,
    in transaction: StoreTransaction
  ) async throws {
    let name = try ResourceName.parse(group.name, as: Bulkhead_V1_SecurityGroup.self)
    let vpcName = name.ancestor(levels: 1)
    for (index, rule) in group.rules.enumerated() {
      let field = "security_group.rules[\(index)]"
      if rule.direction == .unspecified {
        throw APIError.invalid(
          "\(field).direction", "UNSPECIFIED", "is not set", fix: "use INGRESS or EGRESS")
      }
      guard rule.fromPort <= rule.toPort, rule.toPort <= 65535 else {
        throw APIError.invalid(
          "\(field).from_port..to_port", "\(rule.fromPort)..\(rule.toPort)", "is not a port range",
          fix: "use from_port <= to_port <= 65535 (0..0 for all ports)")
      }
      switch (rule.cidrBlock.isEmpty, rule.peerSecurityGroup.isEmpty) {
      case (false, true): _ = try FieldChecks.cidr(rule.cidrBlock, field: "\(field).cidr_block")
      case (true, false):
        _ = try await FieldChecks.reference(
          rule.peerSecurityGroup, Bulkhead_V1_SecurityGroup.self, field: "\(field).peer_security_group",
          tenant: name.tenant, vpc: vpcName, in: transaction)
      default:
        throw APIError.invalid(
          "\(field).cidr_block", rule.cidrBlock, "must be given exactly when peer_security_group is not",
          fix: "set one of cidr_block (0.0.0.0/0 for anywhere) or peer_security_group")
      }
    }
  }

  func release(_ group: Bulkhead_V1_SecurityGroup, in transaction: StoreTransaction) async throws {
    let tenant = ResourceName(segments: group.name.split(separator: "/")).ancestor(levels: 2)
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Nic.self, under: tenant, "security group '\(group.name)'",
      where: { $0.securityGroups.contains(group.name) })
  }
}

struct RouteTableRules: ResourceRules {
  func admit(
    _ table: inout Bulkhead_V1_RouteTable, previous: Bulkhead_V1_RouteTable?, in transaction: StoreTransaction
  ) async throws {
    let name = try ResourceName.parse(table.name, as: Bulkhead_V1_RouteTable.self)
    let vpcName = name.ancestor(levels: 1)
    var destinations: Set<CIDRBlock> = []
    for (index, route) in table.routes.enumerated() {
      let field = "route_table.routes[\(index)]"
      let destination = try FieldChecks.cidr(route.destinationCidr, field: "\(field).destination_cidr")
      guard destinations.insert(destination).inserted else {
        throw APIError.invalid(
          "\(field).destination_cidr", route.destinationCidr, "appears twice",
          fix: "keep one route per destination")
      }
      switch route.target {
      case .none:
        throw APIError.invalid(
          "\(field).target", "", "is not set", fix: "set one of local, nic, ipsec_tunnel, drop")
      case .nic(let nic):
        _ = try await FieldChecks.reference(
          nic, Bulkhead_V1_Nic.self, field: "\(field).nic", tenant: name.tenant, in: transaction)
      case .ipsecTunnel(let tunnel):
        _ = try await FieldChecks.reference(
          tunnel, Bulkhead_V1_IpsecTunnel.self, field: "\(field).ipsec_tunnel", tenant: name.tenant,
          vpc: vpcName,
          in: transaction)
      case .local, .drop: break
      }
    }
  }

  func release(_ table: Bulkhead_V1_RouteTable, in transaction: StoreTransaction) async throws {
    let vpc = ResourceName(segments: table.name.split(separator: "/")).ancestor(levels: 1)
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_Subnet.self, under: vpc, "route table '\(table.name)'",
      where: { $0.routeTable == table.name })
  }
}

struct IpsecTunnelRules: ResourceRules {
  /// Wraps the tunnels' keys at rest; nil: the controller has no key seed.
  var storeKey: [UInt8]? = nil

  func admit(
    _ tunnel: inout Bulkhead_V1_IpsecTunnel, previous: Bulkhead_V1_IpsecTunnel?,
    in transaction: StoreTransaction
  ) async throws {
    let local = try FieldChecks.address(tunnel.localIp, field: "ipsec_tunnel.local_ip")
    let remote = try FieldChecks.address(tunnel.remoteIp, field: "ipsec_tunnel.remote_ip")
    guard local.isIPv6 == remote.isIPv6 else {
      throw APIError.invalid(
        "ipsec_tunnel.remote_ip", tunnel.remoteIp, "is not the same IP family as local_ip",
        fix: "use one family")
    }
    for (index, text) in tunnel.remoteCidrs.enumerated() {
      _ = try FieldChecks.cidr(text, field: "ipsec_tunnel.remote_cidrs[\(index)]")
    }
    if tunnel.mode == .unspecified { tunnel.mode = .tunnel }
    if tunnel.cipher == .unspecified {
      throw APIError.invalid(
        "ipsec_tunnel.cipher", "UNSPECIFIED", "is not set", fix: "use AES_GCM_128 or AES_GCM_256")
    }
    if tunnel.antiReplayWindow == 0 { tunnel.antiReplayWindow = 1024 }
    // RFC 4303 §3.4.3 leaves the size open; our SA table keeps a bitmap of at most 4096.
    guard tunnel.antiReplayWindow <= 4096 else {
      throw APIError.invalid(
        "ipsec_tunnel.anti_replay_window", "\(tunnel.antiReplayWindow)", "is above 4096",
        fix: "use 64 to 4096")
    }
    if tunnel.hardLifetimeBytes != 0, tunnel.softLifetimeBytes > tunnel.hardLifetimeBytes {
      throw APIError.invalid(
        "ipsec_tunnel.soft_lifetime_bytes", "\(tunnel.softLifetimeBytes)", "exceeds hard_lifetime_bytes",
        fix: "set the soft lifetime below the hard one (RFC 4301 §4.4.2.1)")
    }
    if tunnel.hardLifetimeSeconds != 0, tunnel.softLifetimeSeconds > tunnel.hardLifetimeSeconds {
      throw APIError.invalid(
        "ipsec_tunnel.soft_lifetime_seconds", "\(tunnel.softLifetimeSeconds)",
        "exceeds hard_lifetime_seconds",
        fix: "set the soft lifetime below the hard one (RFC 4301 §4.4.2.1)")
    }
    guard tunnel.remoteCidrs.count == 1 else {
      throw APIError.invalid(
        "ipsec_tunnel.remote_cidrs", tunnel.remoteCidrs.joined(separator: ","),
        "must hold exactly one prefix",
        fix: "make one tunnel per remote prefix")
    }
    guard !local.isIPv6, tunnel.mode == .tunnel else {
      throw APIError.invalid(
        "ipsec_tunnel.mode", "\(tunnel.mode)", "cards terminate IPv4 tunnel mode to outside sites",
        fix: "use TUNNEL with IPv4 local_ip and remote_ip")
    }
    for (field, spi) in [("inbound_spi", tunnel.inboundSpi), ("outbound_spi", tunnel.outboundSpi)] {
      guard spi >= 256 else {
        throw APIError.invalid(
          "ipsec_tunnel.\(field)", "\(spi)", "is reserved (RFC 4303 §2.1)",
          fix: "use the SPI the remote peer's configuration has, 256 or more")
      }
    }
    // Manual keys: validated, wrapped with the store key, never kept or
    // returned in the clear.
    let keyLength = tunnel.cipher == .aesGcm128 ? 20 : 36
    // An update keeps the stored keys (they are not in the update mask).
    for (field, text) in [("inbound_key", tunnel.inboundKey), ("outbound_key", tunnel.outboundKey)]
    where text.isEmpty && (previous == nil || tunnel.wrappedInboundKey.isEmpty) {
      throw APIError.invalid(
        "ipsec_tunnel.\(field)", "", "is missing",
        fix: "give the key as \(2 * keyLength) hex digits (the AES key, then the 4-byte salt)")
    }
    if !tunnel.inboundKey.isEmpty {
      tunnel.wrappedInboundKey = try wrapped(tunnel.inboundKey, field: "inbound_key", keyLength: keyLength)
    }
    if !tunnel.outboundKey.isEmpty {
      tunnel.wrappedOutboundKey = try wrapped(tunnel.outboundKey, field: "outbound_key", keyLength: keyLength)
    }
    tunnel.inboundKey = ""
    tunnel.outboundKey = ""
    try rekey(&tunnel, isNew: previous == nil, keyLength: keyLength)
    // The card terminating it: the one whose underlay address is local_ip.
    let cards = try await transaction.resources(under: "", as: Bulkhead_V1_Card.self)
    guard cards.contains(where: { $0.underlayIp == tunnel.localIp }) else {
      throw APIError.invalid(
        "ipsec_tunnel.local_ip", tunnel.localIp, "is no registered card's underlay address",
        fix: "use the underlay_ip of the card that terminates the tunnel (dpuctl cards list)")
    }
  }

  /// Key material given as hex: checked, then wrapped with the store key
  /// (manual keys are never kept or returned in the clear).
  func wrapped(_ text: String, field: String, keyLength: Int) throws -> Data {
    guard let bytes = Hex.decode(text), bytes.count == keyLength else {
      throw APIError.invalid(
        "ipsec_tunnel.\(field)", "(\(text.count) characters)", "is not \(2 * keyLength) hex digits",
        fix: "give the AES key then the 4-byte salt, as `ip xfrm state` takes them")
    }
    guard let storeKey else {
      throw APIError.invalid(
        "ipsec_tunnel.\(field)", "(hidden)", "cannot be stored: this controller has no key seed",
        fix: "start bulkhead-controller with --pki naming a folder with key-seed (dpuctl pki init)")
    }
    return Data(try UnderlayKeyring.wrap(bytes, with: storeKey))
  }

  /// The two steps of a manual rekey (the proto's comment): `next_*`
  /// keys wrapped, then `commit_rekey` turns them into the current pair.
  func rekey(_ tunnel: inout Bulkhead_V1_IpsecTunnel, isNew: Bool, keyLength: Int) throws {
    if isNew {
      // Nothing of a rekey comes in with a new tunnel.
      tunnel.nextInboundSpi = 0
      tunnel.nextOutboundSpi = 0
      tunnel.wrappedNextInboundKey = Data()
      tunnel.wrappedNextOutboundKey = Data()
      tunnel.previousInboundSpi = 0
      tunnel.wrappedPreviousInboundKey = Data()
    }
    if !tunnel.nextInboundKey.isEmpty || !tunnel.nextOutboundKey.isEmpty {
      for (field, spi) in [
        ("next_inbound_spi", tunnel.nextInboundSpi), ("next_outbound_spi", tunnel.nextOutboundSpi),
      ]
      where spi < 256 {
        throw APIError.invalid(
          "ipsec_tunnel.\(field)", "\(spi)", "is missing or reserved (RFC 4303 §2.1)",
          fix: "give the SPI of the peer's new SA, 256 or more")
      }
      guard tunnel.nextInboundSpi != tunnel.inboundSpi, tunnel.nextInboundSpi != tunnel.previousInboundSpi
      else {
        throw APIError.invalid(
          "ipsec_tunnel.next_inbound_spi", "\(tunnel.nextInboundSpi)", "is an SPI the card still opens",
          fix: "use a new SPI for the new inbound SA")
      }
      tunnel.wrappedNextInboundKey = try wrapped(
        tunnel.nextInboundKey, field: "next_inbound_key", keyLength: keyLength)
      tunnel.wrappedNextOutboundKey = try wrapped(
        tunnel.nextOutboundKey, field: "next_outbound_key", keyLength: keyLength)
      tunnel.nextInboundKey = ""
      tunnel.nextOutboundKey = ""
    }
    if tunnel.commitRekey {
      guard !tunnel.wrappedNextInboundKey.isEmpty, !tunnel.wrappedNextOutboundKey.isEmpty else {
        throw APIError.invalid(
          "ipsec_tunnel.commit_rekey", "true", "has no rekey to commit",
          fix: "start one first: dpuctl ipsec-tunnels rekey NAME --generate-keys")
      }
      tunnel.previousInboundSpi = tunnel.inboundSpi
      tunnel.wrappedPreviousInboundKey = tunnel.wrappedInboundKey
      tunnel.inboundSpi = tunnel.nextInboundSpi
      tunnel.outboundSpi = tunnel.nextOutboundSpi
      tunnel.wrappedInboundKey = tunnel.wrappedNextInboundKey
      tunnel.wrappedOutboundKey = tunnel.wrappedNextOutboundKey
      tunnel.nextInboundSpi = 0
      tunnel.nextOutboundSpi = 0
      tunnel.wrappedNextInboundKey = Data()
      tunnel.wrappedNextOutboundKey = Data()
      tunnel.commitRekey = false
    }
  }

  func release(_ tunnel: Bulkhead_V1_IpsecTunnel, in transaction: StoreTransaction) async throws {
    let vpc = ResourceName(segments: tunnel.name.split(separator: "/")).ancestor(levels: 1)
    try await transaction.refuseIfReferenced(
      by: Bulkhead_V1_RouteTable.self, under: vpc, "ipsec tunnel '\(tunnel.name)'",
      where: { $0.routes.contains { $0.ipsecTunnel == tunnel.name } })
  }
}
