import CardCrypto
import DataPlane
import Ipsec
import Platform
import Wire

/// The card's ESP between itself and its peer cards, from the `esp` lines
/// of its configuration (Docs/ipsec.md): the SAD, one PROTECT policy per
/// peer, and the changes a reload makes, in the order that loses nothing:
///
/// - a new inbound SA is installed at once (the receiver's first step of a
///   make-before-break rekey: old and new SPIs both open);
/// - a peer's outbound SA that changed is switched in one store (the
///   sender's step); the old one seals nothing more;
/// - an inbound SA that is gone keeps opening packets in flight for
///   `retireGraceSeconds`, then is removed;
/// - an inbound SA whose SPI stays but whose key or settings changed is
///   replaced at once (a configuration mistake to recover from, not a rekey).
///
/// Not per packet: `ProtectedUnderlay` uses `path` per batch. A run-loop
/// service so that retired SAs are removed while the loop runs.
public final class UnderlayEncryption: LoopService {
  public let database: SecurityAssociationDatabase
  public let path: IpsecDataPath
  public let card: IPAddress
  public let uplinkMTU: Int
  public private(set) var associations: [EspAssociation] = []
  /// The outbound slot each peer's PROTECT policy names; slots are never
  /// reused while the card runs.
  private var slots: [(peer: IPAddress, slot: Int)] = []
  private var passes = 0
  public static let retireGraceSeconds: UInt64 = 2
  /// The tunnels to outside sites (`site` lines), as the ESP stage runs them.
  public private(set) var siteTunnels: [SiteTunnel] = []
  /// The stage that runs them, once the run loop has made it.
  private var underlay: ProtectedUnderlay?

  /// `uplinkMTU` is the uplink's own MTU (the configuration's underlay MTU
  /// before ESP lowered it): the largest sealed packet.
  public init(_ associations: [EspAssociation], card: IPAddress, uplinkMTU: Int)
    throws(SecurityAssociationError)
  {
    database = SecurityAssociationDatabase()
    path = IpsecDataPath(database: database)
    self.card = card
    self.uplinkMTU = uplinkMTU
    try apply(associations, now: Self.seconds)
  }

  /// The clock SA lifetimes and grace periods count in (monotonic seconds).
  public static var seconds: UInt64 { MonotonicClock.nanoseconds / 1_000_000_000 }

  /// Puts `wanted` in force (see the type's comment for the order). All new
  /// SAs are built before anything changes: a bad one changes nothing.
  public func apply(_ wanted: [EspAssociation], now: UInt64) throws(SecurityAssociationError) {
    var built: [(EspAssociation, SecurityAssociation)] = []
    for a in wanted where !associations.contains(a) {
      built.append((a, try Self.make(a, uplinkMTU: uplinkMTU, now: now)))
    }
    // Inbound first: new SPIs open before any sender could use them.
    for (a, sa) in built where a.direction == .inbound {
      if database.inboundSA(spi: a.spi) != nil {
        database.cancelRetirement(spi: a.spi)
        _ = database.removeInbound(spi: a.spi)
      }
      try database.installInbound(sa)
    }
    for old in associations where old.direction == .inbound {
      guard !wanted.contains(where: { $0.direction == .inbound && $0.spi == old.spi }) else { continue }
      try database.retireInbound(spi: old.spi, now: now, grace: Self.retireGraceSeconds)
    }
    // Outbound: one slot per peer, switched in one store.
    for (a, sa) in built where a.direction == .outbound {
      try database.setOutbound(sa, slot: slot(for: a.peer))
    }
    for entry in slots where !wanted.contains(where: { $0.peer == entry.peer && $0.direction == .outbound }) {
      try database.setOutbound(nil, slot: entry.slot)
    }
    var policies: [SecurityPolicy] = []
    for entry in slots where wanted.contains(where: { $0.peer == entry.peer }) {
      policies.append(ProtectedUnderlay.policy(from: card, toPeer: entry.peer, slot: entry.slot))
    }
    if policies != path.policies { path.setPolicies(policies) }
    associations = wanted
    database.removeRetired(now: now)
  }

  /// The pipeline between this card's ESP open and seal, with its sites.
  public func protecting(_ plane: DataPlane) -> ProtectedUnderlay {
    let stage = ProtectedUnderlay(plane: plane, esp: path, sites: siteTunnels)
    underlay = stage
    return stage
  }

  /// Puts the `site` lines in force, after `apply` has installed their
  /// gateways' SAs: each site's VPC (VNI and encapsulation as `network`
  /// has them now) and its gateway's outbound slot.
  public func setSites(_ sites: [EspSite], network: NetworkConfiguration) {
    var tunnels: [SiteTunnel] = []
    guard case .v4(let card) = card else { return setSiteTunnels([]) }
    for site in sites {
      guard let vpc = network.vpcs.first(where: { $0.id == site.vpc }),
        let entry = slots.first(where: { $0.peer == .v4(site.gateway) })
      else { continue }
      tunnels.append(
        SiteTunnel(
          gateway: site.gateway, card: card, vni: vpc.vni, encapsulation: vpc.encapsulation,
          outboundSlot: entry.slot, gatewayMAC: network.card.gatewayMAC))
    }
    setSiteTunnels(tunnels)
  }

  /// Puts `tunnels` in force as they are (a reload that failed puts the
  /// previous ones back).
  public func setSiteTunnels(_ tunnels: [SiteTunnel]) {
    siteTunnels = tunnels
    underlay?.setSites(tunnels)
  }

  private func slot(for peer: IPAddress) throws(SecurityAssociationError) -> Int {
    if let entry = slots.first(where: { $0.peer == peer }) { return entry.slot }
    guard slots.count < database.outboundSlotCount else { throw .tableFull }
    slots.append((peer, slots.count))
    return slots.count - 1
  }

  static func make(_ a: EspAssociation, uplinkMTU: Int, now: UInt64) throws(SecurityAssociationError)
    -> SecurityAssociation
  {
    // A copy that is cleansed once the SA holds the key.
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: a.key.count, alignment: 16)
    defer {
      SymmetricKey.cleanse(bytes)
      bytes.deallocate()
    }
    for (i, byte) in a.key.enumerated() { bytes[i] = byte }
    let key: SymmetricKey
    do throws(CryptoError) {
      key = try SymmetricKey(copying: UnsafeRawBufferPointer(bytes))
    } catch {
      throw .crypto(.init(text: error.description))
    }
    return try SecurityAssociation(a.parameters(uplinkMTU: uplinkMTU), keyMaterial: key, installedAt: now)
  }

  // LoopService: retired SAs leave once their grace has passed.
  public func serviceOnce() {
    passes &+= 1
    guard passes & 4095 == 0 else { return }
    database.removeRetired(now: Self.seconds)
  }
  public var wakeDescriptor: FileDescriptor? { nil }
  public func prepareToSleep() -> Bool { false }

  /// The counters as text: one line per SA, one for drops before an SA is
  /// known and per policy (printed with the card's other counters).
  public func reportLines() -> [String] {
    var lines: [String] = []
    for a in associations {
      let sa: SecurityAssociation?
      if a.direction == .inbound {
        sa = database.inboundSA(spi: a.spi)
      } else {
        sa = slots.first(where: { $0.peer == a.peer }).flatMap { database.outboundSA(slot: $0.slot) }
      }
      guard let sa else { continue }
      var line =
        "esp sa " + a.label + ": packets " + String(sa.counters.packets) + " bytes "
        + String(sa.counters.bytes)
      for reason in IpsecDrop.allCases where sa.counters.dropped(reason) > 0 {
        line += ", " + reason.description + " " + String(sa.counters.dropped(reason))
      }
      lines.append(line)
    }
    var line =
      "esp: policies " + String(path.policies.count) + " inbound-sas " + String(database.inboundCount)
    for reason in IpsecDrop.allCases where database.counters.dropped(reason) > 0 {
      line += ", " + reason.description + " " + String(database.counters.dropped(reason))
    }
    lines.append(line)
    if let underlay, !underlay.sites.isEmpty {
      let c = underlay.siteCounters
      lines.append(
        "esp sites " + String(underlay.sites.count) + ": not-the-site-vpc " + String(c.notTheSiteVPC)
          + ", no-site " + String(c.noSite) + ", no-buffer-room " + String(c.noBufferRoom))
    }
    return lines
  }
}

extension ProtectedUnderlay: BatchProcessor {}
