import Wire

/// One ESP SA between this card and a peer card (or a site's gateway), as
/// the configuration file gives it (`EspStatement` in Card) or as the
/// controller pushes it (a slice's SAs, `SliceTranslation`):
///
///     esp peer=A direction=inbound|outbound spi=N cipher=aes-gcm-128|aes-gcm-256 key=HEX
///         [replay-window=N] [no-esn]
///
/// Transport mode on the underlay (Docs/ipsec.md). `key` is the AES key
/// followed by the 4-byte salt (RFC 4106 §8.1), the same bytes
/// `ip xfrm state … aead 'rfc4106(gcm(aes))' 0xKEY 128` takes: 40 hex
/// digits for AES-GCM-128, 72 for AES-GCM-256. Every peer needs exactly
/// one outbound SA and at least one inbound SA; a second inbound SA is the
/// first step of a make-before-break rekey.
public struct EspAssociation: Equatable, Sendable {
  public var peer: IPAddress
  public var direction: SecurityAssociationParameters.Direction
  public var spi: UInt32
  public var suite: CipherSuite
  public var key: [UInt8]
  public var replayWindow: UInt64
  public var extendedSequenceNumbers: Bool
  /// Set for an SA with an outside site's gateway (a `site` line names the
  /// peer): tunnel mode between the two underlay addresses, carrying the
  /// VPC's and the site's prefixes. Nil between cards (transport mode).
  public var tunnel: EspTunnel?

  public init(
    peer: IPAddress, direction: SecurityAssociationParameters.Direction, spi: UInt32, suite: CipherSuite,
    key: [UInt8], replayWindow: UInt64 = 1024, extendedSequenceNumbers: Bool = true
  ) {
    self.peer = peer
    self.direction = direction
    self.spi = spi
    self.suite = suite
    self.key = key
    self.replayWindow = replayWindow
    self.extendedSequenceNumbers = extendedSequenceNumbers
  }

  /// The SA's parameters, sealing at most `uplinkMTU`-byte outer packets.
  public func parameters(uplinkMTU: Int) -> SecurityAssociationParameters {
    var mode = SecurityAssociationParameters.Mode.transport
    if let tunnel { mode = .tunnel(local: tunnel.local, remote: tunnel.remote) }
    return SecurityAssociationParameters(
      spi: spi, direction: direction, mode: mode, suite: suite,
      extendedSequenceNumbers: extendedSequenceNumbers, replayWindowSize: replayWindow, outerMTU: uplinkMTU,
      innerSelector: tunnel?.inner)
  }

  /// "out spi 4097 peer 10.99.0.2" ("site" for a site's gateway).
  public var label: String {
    (direction == .outbound ? "out" : "in") + " spi " + String(spi) + (tunnel == nil ? " peer " : " site ")
      + peer.description
  }
}

/// Tunnel mode with an outside site's gateway: the outer endpoints and the
/// inner prefixes (`local` the VPC's, `remote` the site's).
public struct EspTunnel: Equatable, Sendable {
  public var local: IPAddress
  public var remote: IPAddress
  public var inner: TrafficSelector
  public init(local: IPAddress, remote: IPAddress, inner: TrafficSelector) {
    self.local = local
    self.remote = remote
    self.inner = inner
  }
}

/// A VPC's IPsec tunnel to an outside site (`SiteTunnel`), as the
/// configuration file gives it (or a controller's slice, `SiteSlice`):
///
///     site vpc=N gateway=A remote=P [local=P]
///
/// `gateway` is the site gateway's IPv4 underlay address, `remote` the
/// site's IPv4 prefix (routed to the gateway in the VPC), `local` the
/// VPC's prefix the tunnel carries (by default the VPC's first IPv4 CIDR).
/// The gateway's keys are `esp peer=GATEWAY` lines, as for a peer card.
public struct EspSite: Equatable, Sendable {
  public var vpc: UInt32
  public var gateway: IPv4Address
  public var remote: IPv4Prefix
  public var local: IPv4Prefix

  public init(vpc: UInt32, gateway: IPv4Address, remote: IPv4Prefix, local: IPv4Prefix) {
    self.vpc = vpc
    self.gateway = gateway
    self.remote = remote
    self.local = local
  }

  public var selector: TrafficSelector { TrafficSelector(local: .v4(local), remote: .v4(remote)) }
}
