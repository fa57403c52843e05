import Management
import ProviderAPI

/// Computes one card's slice of desired state from the store: the NICs it
/// serves, the security groups and routes of their VPCs, and where every
/// other NIC of those VPCs lives (mappings to the other cards' VTEPs). The
/// reconciler sends it as a `DesiredState` frame whenever it changes.
///
/// Handles (NIC, security group) are positions in name order, 1-based: the
/// card replaces its whole state per generation, so they need only be
/// consistent within one slice.
///
/// Volumes: one `VolumeSlice` per guest attachment of a volume on the
/// card, in attachment name order, its data key wrapped with the card's
/// key-encryption key by `keyring` (without one, no volumes).
///
/// The card-pair SAs are added by the reconciler from its
/// `UnderlayKeyring`, for the pairs `BuiltSlices.pairs` names. Not yet in
/// the slice: routes to appliance NICs on other cards and to IPsec tunnels.
public struct CardSliceBuilder {
  public let store: any DesiredStateStore
  /// Wraps each volume's data key for the card that serves it.
  public let keyring: UnderlayKeyring?

  public init(store: any DesiredStateStore, keyring: UnderlayKeyring? = nil) {
    self.store = store
    self.keyring = keyring
  }

  public func desiredState(forCard card: String, generation: UInt64) async throws -> DesiredState {
    let inputs = try await SliceInputs.read(from: store)
    var state = inputs.slice(forCard: card, generation: generation)
    state.volumes = inputs.volumes(forCard: card, keyring: keyring).volumes
    return state
  }

  /// Every card's slice from one read of the store (the reconciler's pass:
  /// decoding the network once, not once per card).
  public func desiredStates(forCards cards: [String], generation: UInt64) async throws -> [String:
    DesiredState]
  {
    let inputs = try await SliceInputs.read(from: store)
    var slices: [String: DesiredState] = [:]
    for card in cards {
      slices[card] = inputs.slice(forCard: card, generation: generation)
      slices[card]?.volumes = inputs.volumes(forCard: card, keyring: keyring).volumes
    }
    return slices
  }

  /// Every card's slice, the card pairs that need ESP keys and the cards'
  /// underlay addresses, from one read of the store.
  public func build(forCards cards: [String]) async throws -> BuiltSlices {
    let inputs = try await SliceInputs.read(from: store)
    var built = BuiltSlices()
    for card in cards {
      built.slices[card] = inputs.slice(forCard: card, generation: 0)
      let volumes = inputs.volumes(forCard: card, keyring: keyring)
      built.slices[card]?.volumes = volumes.volumes
      if !volumes.problems.isEmpty { built.problems[card] = volumes.problems }
    }
    built.pairs = inputs.cardPairs()
    built.tunnels = inputs.tunnelsByCard(built.slices)
    for (name, card) in inputs.cards {
      if let address = IPAddressValue(Substring(card.underlayIp)) {
        built.addresses[name] = .host(address.bytes)
      }
    }
    return built
  }
}

public struct BuiltSlices: Sendable {
  public var slices: [String: DesiredState] = [:]
  /// Cards that serve NICs of a common VPC: they exchange tenant traffic,
  /// so they share ESP keys.
  public var pairs: Set<UnderlayKeyring.Pair> = []
  /// Card name → underlay address (host prefix).
  public var addresses: [String: IPPrefix] = [:]
  /// Card name → the IPsec tunnels it terminates (local_ip is its underlay
  /// address, and it serves NICs of the tunnel's VPC), in name order.
  public var tunnels: [String: [SiteTunnelInput]] = [:]
  /// Card name → what was left out of its slice and why (a volume whose
  /// key or backend the controller cannot use).
  public var problems: [String: [String]] = [:]
}

/// What a card's slice needs of one IPsec tunnel resource.
public struct SiteTunnelInput: Sendable {
  public var tunnel: Bulkhead_V1_IpsecTunnel
  public var vni: UInt32
  /// The VPC's prefix the tunnel carries (its first IPv4 block).
  public var local: IPPrefix
}

/// The resources slices are made of, decoded once and indexed.
struct SliceInputs {
  var cards: [String: Bulkhead_V1_Card] = [:]
  var nics: [Bulkhead_V1_Nic] = []
  var nicsByCard: [String: [Bulkhead_V1_Nic]] = [:]
  var nicsByVPC: [String: [Bulkhead_V1_Nic]] = [:]
  /// Names of the NICs in each security group, for peer-group rules.
  var nicsByGroup: [String: [Bulkhead_V1_Nic]] = [:]
  var subnets: [String: Bulkhead_V1_Subnet] = [:]
  var vpcs: [String: Bulkhead_V1_Vpc] = [:]
  var groups: [String: Bulkhead_V1_SecurityGroup] = [:]
  var routeTables: [String: Bulkhead_V1_RouteTable] = [:]
  var tunnels: [Bulkhead_V1_IpsecTunnel] = []
  /// Per card, its attachments of volumes with the volume, in attachment
  /// name order.
  var volumeAttachmentsByCard:
    [String: [(attachment: Bulkhead_V1_GuestAttachment, volume: Bulkhead_V1_Volume)]] =
      [:]
  /// Per VPC, each NIC's mappings (overlay address → its card's VTEP) and
  /// the card serving it: every other card of the VPC gets them.
  var mappingsByVPC: [String: [(card: String, mapping: MappingSlice)]] = [:]
  /// Per VPC, its routes (local CIDR blocks, then its subnets' route
  /// tables); a route to a NIC names it, and becomes a handle per card.
  var routesByVPC: [String: [(route: RouteSlice, nic: String?)]] = [:]

  static func read(from store: any DesiredStateStore) async throws -> SliceInputs {
    let reads = StoreTransaction(store: store)
    var inputs = SliceInputs()
    for card in try await reads.resources(under: "", as: Bulkhead_V1_Card.self) {
      inputs.cards[card.name] = card
    }
    for subnet in try await reads.resources(under: "", as: Bulkhead_V1_Subnet.self) {
      inputs.subnets[subnet.name] = subnet
    }
    for vpc in try await reads.resources(under: "", as: Bulkhead_V1_Vpc.self) { inputs.vpcs[vpc.name] = vpc }
    for group in try await reads.resources(under: "", as: Bulkhead_V1_SecurityGroup.self) {
      inputs.groups[group.name] = group
    }
    for table in try await reads.resources(under: "", as: Bulkhead_V1_RouteTable.self) {
      inputs.routeTables[table.name] = table
    }
    inputs.tunnels = try await reads.resources(under: "", as: Bulkhead_V1_IpsecTunnel.self).sorted {
      $0.name < $1.name
    }
    inputs.nics = try await reads.resources(under: "", as: Bulkhead_V1_Nic.self).sorted { $0.name < $1.name }
    var volumes: [String: Bulkhead_V1_Volume] = [:]
    for volume in try await reads.resources(under: "", as: Bulkhead_V1_Volume.self) {
      volumes[volume.name] = volume
    }
    let attachments = try await reads.resources(under: "", as: Bulkhead_V1_GuestAttachment.self).sorted {
      $0.name < $1.name
    }
    for attachment in attachments {
      guard case .volume(let name) = attachment.device, let volume = volumes[name] else { continue }
      inputs.volumeAttachmentsByCard[attachment.card, default: []].append((attachment, volume))
    }
    for nic in inputs.nics {
      inputs.nicsByCard[nic.card, default: []].append(nic)
      inputs.nicsByVPC[vpcName(ofSubnet: nic.subnet), default: []].append(nic)
      for group in nic.securityGroups { inputs.nicsByGroup[group, default: []].append(nic) }
    }
    for (name, nics) in inputs.nicsByVPC {
      guard let vpc = inputs.vpcs[name] else { continue }
      for nic in nics {
        guard let vtep = inputs.cards[nic.card].flatMap({ IPAddressValue(Substring($0.underlayIp)) }),
          let mac = MACAddress(nic.macAddress)
        else { continue }
        for text in nic.ipAddresses {
          guard let address = IPAddressValue(Substring(text)) else { continue }
          inputs.mappingsByVPC[name, default: []].append(
            (
              nic.card,
              MappingSlice(
                vni: vpc.vni, overlayAddress: .host(address.bytes), mac: mac.bytes,
                underlayAddress: .host(vtep.bytes))
            ))
        }
      }
    }
    for name in inputs.nicsByVPC.keys { inputs.routesByVPC[name] = inputs.routes(ofVPC: name) }
    return inputs
  }

  /// The volumes card `card` serves: one per attachment, keyed by the
  /// volume's number, the data key wrapped with the card's key-encryption
  /// key. One whose key does not unwrap with the store key or whose backend
  /// does not parse is left out and said in `problems`.
  func volumes(forCard card: String, keyring: UnderlayKeyring?) -> (
    volumes: [VolumeSlice], problems: [String]
  ) {
    let entries = volumeAttachmentsByCard[card] ?? []
    guard let keyring else {
      return (
        [], entries.isEmpty ? [] : ["volumes left out: this controller has no key seed to wrap their keys"]
      )
    }
    var volumes: [VolumeSlice] = []
    var problems: [String] = []
    for (attachment, volume) in entries {
      guard case .success(let backend) = VolumeBackendURI.parse(volume.backendUri) else {
        problems.append("\(attachment.name): backend_uri of \(volume.name) does not parse")
        continue
      }
      guard let wrappedKey = try? keyring.rewrapped(Array(volume.wrappedDataKey), forCard: card) else {
        problems.append(
          "\(attachment.name): the key of \(volume.name) does not unwrap with this controller's store key")
        continue
      }
      volumes.append(
        VolumeSlice(
          id: volume.number, sizeBytes: volume.sizeBytes, cipher: .aesXTS256, wrappedKey: wrappedKey,
          backend: backend.backend, exportName: backend.exportName,
          sectorSize: UInt16(clamping: volume.sectorSize),
          readOnly: volume.readOnly, hostFunction: attachment.hostFunction,
          queues: UInt16(clamping: volume.queues)))
    }
    return (volumes, problems)
  }

  /// The tunnels each card terminates (see `BuiltSlices.tunnels`).
  func tunnelsByCard(_ slices: [String: DesiredState]) -> [String: [SiteTunnelInput]] {
    var result: [String: [SiteTunnelInput]] = [:]
    for tunnel in tunnels {
      let vpcName = ResourceName(
        segments: tunnel.name.split(separator: "/", omittingEmptySubsequences: false)
      )
      .ancestor(levels: 1)
      guard let vpc = vpcs[vpcName],
        let card = cards.values.first(where: { $0.underlayIp == tunnel.localIp && !$0.underlayIp.isEmpty }),
        slices[card.name]?.nics.contains(where: { $0.vni == vpc.vni }) == true,
        let block = vpc.cidrBlocks.lazy.compactMap({ text -> CIDRBlock? in
          guard case .success(let b) = CIDRBlock.parse(text), !b.network.isIPv6 else { return nil }
          return b
        }).first
      else { continue }
      result[card.name, default: []].append(
        SiteTunnelInput(
          tunnel: tunnel, vni: vpc.vni,
          local: IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength))))
    }
    return result
  }

  /// Every two cards (with underlay addresses) that serve NICs of one VPC.
  func cardPairs() -> Set<UnderlayKeyring.Pair> {
    var pairs: Set<UnderlayKeyring.Pair> = []
    for (name, nics) in nicsByVPC where vpcs[name] != nil {
      let cards = Set(nics.map(\.card)).filter { card in
        self.cards[card].flatMap { IPAddressValue(Substring($0.underlayIp)) } != nil
      }.sorted()
      for (i, a) in cards.enumerated() {
        for b in cards[(i + 1)...] { pairs.insert(UnderlayKeyring.Pair(a, b)) }
      }
    }
    return pairs
  }

  static func vpcName(ofSubnet subnet: String) -> String {
    ResourceName(segments: subnet.split(separator: "/", omittingEmptySubsequences: false)).ancestor(levels: 1)
  }

  func slice(forCard card: String, generation: UInt64) -> DesiredState {
    let local = nicsByCard[card] ?? []
    let vpcNames = Set(local.map { Self.vpcName(ofSubnet: $0.subnet) }).filter { vpcs[$0] != nil }
    let groupNames = Set(local.flatMap(\.securityGroups)).sorted()
    let groupHandles = Dictionary(uniqueKeysWithValues: groupNames.enumerated().map { ($1, UInt32($0 + 1)) })
    let nicHandles = Dictionary(uniqueKeysWithValues: local.enumerated().map { ($1.name, UInt32($0 + 1)) })

    var state = DesiredState(generation: generation)
    for nic in local {
      guard let vpc = vpcs[Self.vpcName(ofSubnet: nic.subnet)] else { continue }
      state.nics.append(
        NicSlice(
          id: nicHandles[nic.name]!, vni: vpc.vni, mac: MACAddress(nic.macAddress)?.bytes ?? [],
          addresses: nic.ipAddresses.compactMap { IPAddressValue(Substring($0)) }.map { .host($0.bytes) },
          securityGroups: nic.securityGroups.compactMap { groupHandles[$0] }, sourceGuard: nic.sourceGuard,
          maxBandwidthMbps: nic.rateLimits.maxBandwidthMbps,
          maxPacketsPerSecond: nic.rateLimits.maxPacketsPerSecond, subnet: subnetBlock(of: nic)))
    }
    for name in groupNames {
      guard let group = groups[name] else { continue }
      state.securityGroups.append(SecurityGroupSlice(id: groupHandles[name]!, rules: rules(of: group)))
    }
    for name in vpcNames.sorted() {
      appendRoutesAndMappings(ofVPC: name, card: card, nicHandles: nicHandles, to: &state)
    }
    return state
  }

  /// The NIC's subnet as a prefix, so the card knows its gateway and
  /// DHCP netmask.
  private func subnetBlock(of nic: Bulkhead_V1_Nic) -> IPPrefix? {
    guard let subnet = subnets[nic.subnet], case .success(let block) = CIDRBlock.parse(subnet.cidrBlock)
    else {
      return nil
    }
    return IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength))
  }

  private func rules(of group: Bulkhead_V1_SecurityGroup) -> [SecurityGroupSlice.Rule] {
    var rules: [SecurityGroupSlice.Rule] = []
    for rule in group.rules {
      // A peer group stands for the addresses of the NICs in it, wherever
      // they are served.
      let peers: [IPPrefix]
      if rule.peerSecurityGroup.isEmpty {
        guard case .success(let block) = CIDRBlock.parse(rule.cidrBlock) else { continue }
        peers = [IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength))]
      } else {
        peers = (nicsByGroup[rule.peerSecurityGroup] ?? []).flatMap(\.ipAddresses)
          .compactMap { IPAddressValue(Substring($0)) }.map { .host($0.bytes) }
      }
      for peer in peers {
        rules.append(
          SecurityGroupSlice.Rule(
            direction: rule.direction == .egress ? .egress : .ingress,
            protocolNumber: UInt8(rule.protocol.rawValue),
            fromPort: UInt16(clamping: rule.fromPort), toPort: UInt16(clamping: rule.toPort), peer: peer))
      }
    }
    return rules
  }

  private func appendRoutesAndMappings(
    ofVPC name: String, card: String, nicHandles: [String: UInt32], to state: inout DesiredState
  ) {
    for entry in routesByVPC[name] ?? [] {
      var route = entry.route
      if let nic = entry.nic {
        // A route to a NIC on another card is not expressible yet.
        guard let handle = nicHandles[nic] else { continue }
        route.target = .nic(handle)
      }
      state.routes.append(route)
    }
    // Every NIC of this VPC served by another card: overlay address → that
    // card's VTEP.
    for entry in mappingsByVPC[name] ?? [] where entry.card != card { state.mappings.append(entry.mapping) }
  }

  private func routes(ofVPC name: String) -> [(route: RouteSlice, nic: String?)] {
    guard let vpc = vpcs[name] else { return [] }
    var routes: [(route: RouteSlice, nic: String?)] = []
    func prefix(_ block: CIDRBlock) -> IPPrefix {
      IPPrefix(address: block.network.bytes, length: UInt8(block.prefixLength))
    }
    for text in vpc.cidrBlocks {
      guard case .success(let block) = CIDRBlock.parse(text) else { continue }
      routes.append((RouteSlice(vni: vpc.vni, destination: prefix(block), target: .local), nil))
    }
    let tables = Set(subnets.values.filter { $0.name.hasPrefix(name + "/") }.map(\.routeTable)).subtracting([
      ""
    ])
    for tableName in tables.sorted() {
      guard let table = routeTables[tableName] else { continue }
      for route in table.routes {
        guard case .success(let block) = CIDRBlock.parse(route.destinationCidr) else { continue }
        switch route.target {
        case .local:
          routes.append((RouteSlice(vni: vpc.vni, destination: prefix(block), target: .local), nil))
        case .drop: routes.append((RouteSlice(vni: vpc.vni, destination: prefix(block), target: .drop), nil))
        case .nic(let nic):
          routes.append((RouteSlice(vni: vpc.vni, destination: prefix(block), target: .drop), nic))
        case .ipsecTunnel, .none: continue
        }
      }
    }
    return routes
  }
}
