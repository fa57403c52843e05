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
      guard sa.tunnel == 0 else { throw bad("tunnels to outside sites do not come in slices yet") }
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
      associations.append(
        EspAssociation(
          peer: peer, direction: sa.direction == .inbound ? .inbound : .outbound, spi: sa.spi, suite: suite,
          key: key, replayWindow: window, extendedSequenceNumbers: sa.extendedSequenceNumbers))
    }
    do throws(ConfigurationFileError) {
      try EspStatement.check(associations, card: card)
    } catch {
      throw .badSecurityAssociation(spi: 0, problem: error.problem)
    }
    return associations
  }
}
