import CardCrypto
import DataPlane
import Ipsec
import Management
import Volumes
import Wire

/// The card's key-encryption key (`PKI_DIR/cards/NAME.kek`, which
/// `dpuctl pki issue-card` writes): the controller wraps (RFC 5649) every
/// ESP key it pushes this card with it. Read once at start; the key lives
/// only in card memory.
public final class CardKeyEncryptionKey {
  let key: SymmetricKey

  public init(_ key: consuming SymmetricKey) { self.key = key }

  /// The key at `path`; nil when there is no such file (a card issued
  /// before key seeds: it then refuses slices that carry SAs).
  public static func read(path: String) throws(KeyEncryptionKeyFile.ReadError) -> CardKeyEncryptionKey? {
    do throws(KeyEncryptionKeyFile.ReadError) {
      return CardKeyEncryptionKey(try KeyEncryptionKeyFile.read(path: path))
    } catch {
      if case .system(_, let errno) = error, errno == 2 { return nil }  // ENOENT
      throw error
    }
  }
}

extension SliceTranslation {
  /// The card-pair SAs of a slice as the ESP stage runs them: each key
  /// unwrapped with the card's KEK, each SA between this card's underlay
  /// address and a peer's, transport mode. The same whole-set rules as
  /// the configuration file's `esp` lines: one cipher, SPIs unique per
  /// direction, exactly one outbound and at least one inbound SA per peer.
  public static func associations(
    from state: DesiredState, base: CardConfiguration, kek: CardKeyEncryptionKey?
  ) throws(SliceTranslationError) -> [EspAssociation] {
    guard !state.securityAssociations.isEmpty else { return [] }
    guard let kek else {
      throw .badSecurityAssociation(
        spi: state.securityAssociations[0].spi,
        problem: "this card has no key-encryption key (cards/NAME.kek in its PKI folder)")
    }
    let card = base.network.card.underlayAddress
    var associations: [EspAssociation] = []
    for sa in state.securityAssociations {
      func bad(_ problem: String) -> SliceTranslationError {
        .badSecurityAssociation(spi: sa.spi, problem: problem)
      }
      var tunnel: EspTunnel? = nil
      if sa.tunnel != 0 {
        guard let site = state.sites.first(where: { $0.id == sa.tunnel }),
          let gateway = address(site.gateway), let local = ipv4Prefix(site.local),
          let remote = ipv4Prefix(site.remote)
        else { throw bad("names tunnel " + String(sa.tunnel) + ", which the slice does not hold") }
        tunnel = EspTunnel(
          local: card, remote: gateway, inner: TrafficSelector(local: .v4(local), remote: .v4(remote)))
      }
      guard sa.spi >= 256 else { throw bad("SPIs 0-255 are reserved (RFC 4303 §2.1)") }
      guard sa.localAddress.length == UInt8(sa.localAddress.address.count * 8),
        address(sa.localAddress) == card
      else { throw bad("local address is not this card's underlay address") }
      guard sa.remoteAddress.length == UInt8(sa.remoteAddress.address.count * 8),
        let peer = address(sa.remoteAddress)
      else { throw bad("remote address is not one host") }
      let suite: CipherSuite
      switch sa.cipher {
      case .aesGCM128: suite = .aesGCM128
      case .aesGCM256: suite = .aesGCM256
      case .aesXTS128, .aesXTS256: throw bad("ESP takes AES-GCM, not AES-XTS")
      }
      let window = UInt64(sa.antiReplayWindow)
      guard window >= ReplayWindow.minimumSize, window <= ReplayWindow.maximumSize else {
        throw bad(
          "replay window " + String(window) + " is not " + String(ReplayWindow.minimumSize) + "-"
            + String(ReplayWindow.maximumSize))
      }
      let key: [UInt8]
      do throws(CryptoError) {
        let unwrapped = try KeyWrap.unwrap(sa.wrappedKey, kek: kek.key)
        key = unwrapped.withUnsafeBytes { Array($0) }
      } catch {
        throw bad("key does not unwrap with this card's key-encryption key (" + error.description + ")")
      }
      guard key.count == suite.keyMaterialByteCount else {
        throw bad(
          "key material is " + String(key.count) + " bytes; " + String(suite.keyMaterialByteCount)
            + " expected (key, then the 4-byte salt)")
      }
      if let tunnel, tunnel.remote != peer {
        throw bad("remote address is not its tunnel's gateway")
      }
      var association = EspAssociation(
        peer: peer, direction: sa.direction == .inbound ? .inbound : .outbound, spi: sa.spi, suite: suite,
        key: key, replayWindow: window, extendedSequenceNumbers: sa.extendedSequenceNumbers)
      association.tunnel = tunnel
      associations.append(association)
    }
    do throws(ConfigurationFileError) {
      try EspStatement.check(associations, card: card)
    } catch {
      throw .badSecurityAssociation(spi: 0, problem: error.problem)
    }
    return associations
  }

  /// The slice's tunnels to outside sites, against the translated
  /// `network` (its VPC ids): one per gateway, never a card's VTEP, each
  /// with its SAs (checked by `associations`).
  public static func sites(from state: DesiredState, network: NetworkConfiguration)
    throws(SliceTranslationError)
    -> [EspSite]
  {
    var sites: [EspSite] = []
    for (i, slice) in state.sites.enumerated() {
      func bad(_ problem: String) -> SliceTranslationError { .badSite(handle: slice.id, problem: problem) }
      guard slice.id != 0 else { throw bad("handle 0 is reserved for the card pairs' SAs") }
      guard let vpc = network.vpcs.first(where: { $0.vni == slice.vni }) else {
        throw bad("VNI " + String(slice.vni) + " has no VPC on this card")
      }
      guard case .v4(let gateway) = address(slice.gateway), let remote = ipv4Prefix(slice.remote),
        let local = ipv4Prefix(slice.local)
      else { throw bad("gateway and prefixes must be IPv4") }
      if state.sites[..<i].contains(where: { $0.gateway == slice.gateway }) {
        throw bad("gateway " + gateway.description + " has two tunnels; one per gateway")
      }
      if network.mappings.contains(where: { $0.vtep == .v4(gateway) }) {
        throw bad("gateway " + gateway.description + " is a card that serves NICs")
      }
      guard vpc.ipv4CIDRs.contains(where: { $0.contains(local.address) }) else {
        throw bad("local prefix " + local.description + " is not the VPC's")
      }
      guard
        state.securityAssociations.contains(where: { $0.tunnel == slice.id && $0.direction == .outbound }),
        state.securityAssociations.contains(where: { $0.tunnel == slice.id && $0.direction == .inbound })
      else { throw bad("has no SAs") }
      sites.append(EspSite(vpc: vpc.id, gateway: gateway, remote: remote, local: local))
    }
    return sites
  }
}
