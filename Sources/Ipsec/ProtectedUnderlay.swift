import DataPlane
import Wire

/// The VPC pipeline with ESP between it and the uplink: every underlay
/// packet between this card and a peer card (Geneve or VXLAN) is
/// protected by the SA that card pair shares, in transport mode (the
/// Nitro model: tenants never see it). Frames from the uplink are opened
/// before the pipeline sees them; frames the pipeline sends to the uplink
/// are sealed after it. The SPD says which peers are protected (one
/// PROTECT policy per peer card, `policy(toPeer:slot:)`); clear-text
/// frames from a protected peer are dropped and counted (RFC 4301 §5.2).
///
/// Path MTU: ESP adds up to `SecurityAssociationParameters.maximumOverhead`
/// bytes; `protecting(_:)` lowers the MTU the pipeline enforces on the
/// underlay by that much, so that the pipeline's own "fragmentation
/// needed" / "packet too big" answers (RFC 1191, RFC 8201) tell the guest
/// the size that still fits once sealed, and lowers the MTU guests are
/// told (DHCP option 26) to match.
public final class ProtectedUnderlay {
  public let plane: DataPlane
  public let esp: IpsecDataPath
  /// Sealed frames that still exceeded the uplink MTU (a configuration
  /// that skipped `protecting(_:)`): dropped, never fragmented.
  public private(set) var oversizedAfterSealing: UInt64 = 0
  /// Tunnels of this card's VPCs to outside sites (`SiteTunnel`); a
  /// handful per card, looked up by gateway address.
  public private(set) var sites: [SiteTunnel]
  public private(set) var siteCounters = SiteTunnelCounters()

  public init(plane: DataPlane, esp: IpsecDataPath, sites: [SiteTunnel] = []) {
    self.plane = plane
    self.esp = esp
    self.sites = sites
  }

  /// Puts a new set of site tunnels in force (configuration time, between
  /// batches).
  public func setSites(_ sites: [SiteTunnel]) {
    self.sites = sites
  }

  /// The PROTECT policy for underlay traffic between this card and `peer`
  /// (a peer card, or a site's gateway: then clear text from the gateway is
  /// dropped, RFC 4301 §5.2, and the site's packets are sealed through its
  /// slot by `SiteTunnel`) through outbound SAD slot `slot`.
  public static func policy(from card: IPAddress, toPeer peer: IPAddress, slot: Int) -> SecurityPolicy {
    SecurityPolicy(
      selector: TrafficSelector(local: .host(card), remote: .host(peer)), action: .protect(outboundSlot: slot)
    )
  }

  /// The largest underlay IP packet the pipeline may build when ESP in
  /// transport mode with `suite` must still fit `uplinkMTU`.
  public static func underlayMTU(uplinkMTU: Int, suite: CipherSuite, isIPv6: Bool = false) -> Int {
    let parameters = SecurityAssociationParameters(
      spi: 256, direction: .outbound, mode: .transport, suite: suite, outerMTU: uplinkMTU)
    return parameters.largestPlainPacket(ipHeaderLength: isIPv6 ? 40 : 20)
  }

  /// `configuration` with the underlay MTU lowered by ESP's overhead, and
  /// the guests' MTU lowered if a full-size guest packet no longer fits.
  public static func protecting(_ configuration: NetworkConfiguration, suite: CipherSuite)
    -> NetworkConfiguration
  {
    var c = configuration
    var isIPv6 = false
    if case .v6 = c.card.underlayAddress { isIPv6 = true }
    c.card.underlayMTU = underlayMTU(uplinkMTU: c.card.underlayMTU, suite: suite, isIPv6: isIPv6)
    // Outer IP, UDP (RFC 768), Geneve or VXLAN header (8, RFC 8926 §3.4
    // without options / RFC 7348 §5) and the inner Ethernet header.
    let encapsulation = (isIPv6 ? 40 : 20) + 8 + 8 + 14
    c.card.guestMTU = min(c.card.guestMTU, c.card.underlayMTU - encapsulation)
    return c
  }

  /// Per batch: open what came from the uplink, run the pipeline, seal what
  /// goes to the uplink. `now` is the pipeline's clock in nanoseconds; SA
  /// lifetimes count seconds.
  public func process(_ batch: inout PacketBatch, now: UInt64) {
    let seconds = now / 1_000_000_000
    for i in 0..<batch.count where batch.buffers[i].inputPort == DataPlane.uplinkPort {
      var opener: SecurityAssociation?
      switch esp.openOne(&batch.buffers[i], now: seconds, opener: &opener) {
      case .dropped(let reason):
        batch.buffers[i].verdict = .drop(IpsecDataPath.verdictReason(reason))
      case .opened:
        if case .tunnel(_, let remote) = opener?.parameters.mode {
          wrapForSite(&batch.buffers[i], remote: remote)
        }
      case .passedInClear, .sealed, .tooBig:
        break
      }
    }
    plane.process(&batch, now: now)
    for i in 0..<batch.count
    where batch.buffers[i].verdict == .forward && batch.buffers[i].outputPort == DataPlane.uplinkPort {
      if !sites.isEmpty, let destination = SiteTunnel.outerIPv4Destination(batch.buffers[i]),
        let site = sites.firstIndex(where: { $0.gateway == destination })
      {
        sealForSite(&batch.buffers[i], site: sites[site], now: seconds)
        continue
      }
      switch esp.sealOne(&batch.buffers[i], now: seconds) {
      case .dropped(let reason):
        batch.buffers[i].verdict = .drop(IpsecDataPath.verdictReason(reason))
      case .tooBig:
        oversizedAfterSealing &+= 1
        batch.buffers[i].verdict = .drop(.mtuExceeded)
      case .passedInClear, .sealed, .opened:
        break
      }
    }
  }

  /// A packet a tunnel SA opened: back into its site's VPC, decided by the
  /// SA (its remote endpoint), not by the packet.
  private func wrapForSite(_ buffer: inout PacketBuffer, remote: IPAddress) {
    guard case .v4(let gateway) = remote, let site = sites.first(where: { $0.gateway == gateway }) else {
      siteCounters.noSite &+= 1
      buffer.verdict = .drop(.notForThisCard)
      return
    }
    guard site.wrap(&buffer) else {
      if buffer.headroom < SiteTunnel.wrapping {
        siteCounters.noBufferRoom &+= 1
        buffer.verdict = .drop(.noBufferSpace)
      } else {
        siteCounters.noSite &+= 1
        buffer.verdict = .drop(.unknownEtherType)
      }
      return
    }
  }

  /// The pipeline's packet to a site's gateway: the tenant packet, sealed
  /// in tunnel mode by the site's outbound SA.
  private func sealForSite(_ buffer: inout PacketBuffer, site: SiteTunnel, now: UInt64) {
    guard site.unwrap(&buffer) else {
      siteCounters.notTheSiteVPC &+= 1
      buffer.verdict = .drop(.securityGroupDenied)
      return
    }
    guard let sa = esp.database.outboundSA(slot: site.outboundSlot) else {
      buffer.verdict = .drop(IpsecDataPath.verdictReason(.expired))
      return
    }
    do throws(IpsecDrop) {
      try sa.seal(&buffer, now: now)
    } catch {
      if error == .exceedsPathMTU { oversizedAfterSealing &+= 1 }
      buffer.verdict = .drop(IpsecDataPath.verdictReason(error))
    }
  }
}
